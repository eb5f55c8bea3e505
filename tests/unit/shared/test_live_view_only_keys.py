"""Events only the dashboard's live feed takes are the ones the live view's sink takes, so that
they are routable with no dashboard up (pure: the topology's declarations, matched as the
broker does)."""

from __future__ import annotations

from shared.messaging.topology import DASHBOARD_FEED_BINDINGS, LIVE_VIEW_ONLY_KEYS, WORK_QUEUES
from tools.cli.contract import topic_matches


def _work_queues_taking(key: str) -> list[str]:
    return [q.name for q in WORK_QUEUES if any(topic_matches(b, key) for b in q.bindings)]


def test_a_live_view_only_key_is_taken_by_the_feed_and_by_no_work_queue() -> None:
    assert LIVE_VIEW_ONLY_KEYS
    for key in LIVE_VIEW_ONLY_KEYS:
        assert any(topic_matches(binding, key) for binding in DASHBOARD_FEED_BINDINGS), key
        assert _work_queues_taking(key) == [], key


def test_every_other_key_of_the_feed_is_taken_by_a_work_queue() -> None:
    plain = [key for key in DASHBOARD_FEED_BINDINGS if not {"*", "#"} & set(key.split("."))]
    assert plain
    for key in plain:
        if key not in LIVE_VIEW_ONLY_KEYS:
            assert _work_queues_taking(key), f"{key}: no work queue takes it: live view only?"
