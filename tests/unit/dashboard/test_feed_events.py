"""The feed reads a routed copy's envelope and channel only; every other event as any
consumer reads it; a message it cannot understand is refused with the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from services.dashboard.activity import Activity
from services.dashboard.feed_events import RoutedCopiesSeen, read_event
from shared.contracts import MalformedMessage, decode, encode, wrap
from shared.contracts.documents import Target
from shared.contracts.uploads import Delivery, DocumentRouted, UploadDecided

T0 = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)


def _routed(lines: int = 3) -> DocumentRouted:
    return DocumentRouted.model_validate(
        {
            "request_id": "r1",
            "process": "p",
            "channel": "lan",
            "documents": [
                {
                    "header": {"accounting_type": "Заказ", "id": "doc1"},
                    "lines": [
                        {"line_no": n, "product_id": f"p{n}", "planned_qty": "1"}
                        for n in range(1, lines + 1)
                    ],
                }
            ],
            "copies": [
                {
                    "delivery_id": delivery_id,
                    "document_id": "doc1",
                    "version": 1,
                    "target": {"kind": "user", "value": login},
                }
                for delivery_id, login in (("dl1", "ivanov"), ("dl2", "petrov"))
            ],
            "requested_at": T0.isoformat(),
        }
    )


def test_a_routed_message_is_read_as_its_channel_and_copies_and_counted() -> None:
    body = encode(wrap(_routed(), "t1", correlation_id="c1"))
    envelope, seen = read_event(body)
    assert isinstance(seen, RoutedCopiesSeen)
    assert seen.channel == "lan"
    assert not hasattr(seen, "documents")
    assert (envelope.type, envelope.tenant, envelope.payload) == ("document.routed", "t1", {})
    activity = Activity()
    assert activity.record(envelope, seen, 0.0)
    assert activity.counters["routed_lan"] == 2


def test_another_event_is_read_whole_as_every_consumer_reads_it() -> None:
    decided = UploadDecided(
        request_id="r1",
        process="p",
        channel="internet",
        target=Target(kind="device", value="dev1"),
        outcome="accepted",
        deliveries=[
            Delivery(
                delivery_id="dl1",
                document_id="doc1",
                channel="internet",
                target=Target(kind="device", value="dev1"),
            )
        ],
        requested_at=T0,
    )
    body = encode(wrap(decided, "t1", correlation_id="c1"))
    assert read_event(body) == decode(body)


def _tampered(change: dict[str, Any]) -> bytes:
    message = orjson.loads(encode(wrap(_routed(), "t1", correlation_id="c1")))
    message["payload"].update(change)
    return orjson.dumps(message)


def test_a_routed_copy_without_a_known_channel_is_refused_with_the_reason() -> None:
    with pytest.raises(MalformedMessage, match=r"bad document\.routed payload"):
        read_event(_tampered({"channel": "pigeon"}))


def test_a_body_that_is_not_an_event_is_refused_as_decode_refuses_it() -> None:
    for body in (b"{", b'{"type": "document.routed"}'):
        with pytest.raises(MalformedMessage) as ours:
            read_event(body)
        with pytest.raises(MalformedMessage) as theirs:
            decode(body)
        assert str(ours.value) == str(theirs.value)
