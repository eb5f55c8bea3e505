"""Copies published as device news reach every queue their plain key reaches, and the registry
takes only such news of them (pure: the topology's declarations, matched as the broker does)."""

from __future__ import annotations

from shared.messaging.topology import DEVICE_NEWS_KEYS, REGISTRY_EVENTS, WORK_QUEUES, WorkQueue
from tools.cli.contract import topic_matches


def _takes(queue: WorkQueue, key: str) -> bool:
    return any(topic_matches(binding, key) for binding in queue.bindings)


def test_every_queue_that_takes_copies_takes_their_device_news_too() -> None:
    assert DEVICE_NEWS_KEYS
    for news in DEVICE_NEWS_KEYS:
        plain = news.rsplit(".", 1)[0]
        takers = {q.name for q in WORK_QUEUES if _takes(q, plain)}
        assert takers, plain
        assert takers <= {q.name for q in WORK_QUEUES if _takes(q, news)}, news


def test_the_registry_takes_copies_only_as_device_news() -> None:
    for news in DEVICE_NEWS_KEYS:
        assert _takes(REGISTRY_EVENTS, news)
        assert not _takes(REGISTRY_EVENTS, news.rsplit(".", 1)[0])
