"""Every event published has a durable queue to go to, dashboards up or not: a work queue, or
for the events only the live feed takes, the live view's sink (pure: the topology's
declarations and the contracts' keys, matched as the broker does)."""

from __future__ import annotations

from shared.contracts.envelope import registered_types
from shared.messaging.topology import DASHBOARD_FEED_BINDINGS, LIVE_VIEW_ONLY_KEYS, WORK_QUEUES
from tools.cli.contract import routing_keys, topic_matches

# Asked of named queues through the default exchange, not published on the events exchange.
_NOT_ON_THE_EVENTS_EXCHANGE = {"rpc.request"}


def _work_queues_taking(key: str) -> list[str]:
    return [q.name for q in WORK_QUEUES if any(topic_matches(b, key) for b in q.bindings)]


def test_a_live_view_only_key_is_taken_by_the_feed_and_by_no_work_queue() -> None:
    assert LIVE_VIEW_ONLY_KEYS
    for key in LIVE_VIEW_ONLY_KEYS:
        assert any(topic_matches(binding, key) for binding in DASHBOARD_FEED_BINDINGS), key
        assert _work_queues_taking(key) == [], key


def test_every_key_published_is_taken_by_a_work_queue_or_the_sink() -> None:
    keys = {key for model in registered_types().values() for key in routing_keys(model)}
    assert keys
    for key in keys - _NOT_ON_THE_EVENTS_EXCHANGE:
        taken = _work_queues_taking(key) or key in LIVE_VIEW_ONLY_KEYS
        assert taken, f"{key}: no durable queue takes it"
