"""The outbox relay reads back and sends a page of the outbox with the cyclic collector held off
(a catalog's changes read back are tens of thousands of containers), and lets it run again once
the pass is done."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from shared.outbox_relay import OutboxRelay


class _Outbox:
    """The few store operations the relay uses, over a list of rows (pure logic)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.collector_on_while_reading: list[bool] = []

    async def find(self, collection: str, **_: Any) -> list[dict[str, Any]]:
        self.collector_on_while_reading.append(gc.isenabled())
        return list(self.rows)

    async def delete(self, collection: str, id: str) -> bool:
        self.rows = [r for r in self.rows if r["id"] != id]
        return True

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Outbox]:
        yield self


class _Broker:
    def __init__(self) -> None:
        self.collector_on_while_publishing: list[bool] = []

    async def publish_stored(self, body: bytes, routing_key: str, **properties: Any) -> None:
        self.collector_on_while_publishing.append(gc.isenabled())


def _row(n: int) -> dict[str, Any]:
    envelope = {"id": f"e-{n}", "type": "catalog.changed", "correlation_id": "c", "payload": {}}
    return {"id": f"e-{n}", "seq": n, "routing_key": "catalog.changed", "envelope": envelope}


async def test_a_batch_is_sent_with_the_collector_held_and_it_runs_again_after() -> None:
    assert gc.isenabled()
    outbox, broker = _Outbox([_row(1), _row(2)]), _Broker()
    relay = OutboxRelay(outbox, broker)  # type: ignore[arg-type]
    assert await relay.relay_once() == 2
    assert outbox.collector_on_while_reading == [False]
    assert broker.collector_on_while_publishing == [False, False]
    assert outbox.rows == [] and gc.isenabled()


async def test_the_collector_runs_again_when_publishing_fails() -> None:
    class _Down(_Broker):
        async def publish_stored(self, *args: Any, **kwargs: Any) -> None:
            raise ConnectionError("broker gone")

    outbox = _Outbox([_row(1)])
    relay = OutboxRelay(outbox, _Down())  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    assert gc.isenabled() and len(outbox.rows) == 1
