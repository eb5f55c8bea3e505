"""A poll's answer (api/terminal.py ``_answer``): held while its inbox does not change, read
again when it did, when it is in another language, or while the inbox broadcast is down; and
never held when it is too large."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson

from services.gateway.api.terminal import _answer
from services.gateway.inbox import Polled
from services.gateway.inbox_summaries import MAX_HELD_BYTES, InboxSummaries
from services.gateway.inbox_watch import InboxWatch
from services.gateway.records import PolledCopy
from shared.contracts.copies import CopyState
from tests.support.gateway_copies import a_polled_copy

REFUSAL = {"result_id": "r1", "code": "quantity_over_plan", "params": {}}


class Broadcast:
    """The inbox broadcast as the watch sees it: up unless told otherwise."""

    def __init__(self) -> None:
        self.alive = True

    async def publish(self, news: dict[str, Any]) -> None:
        pass


class Store:
    """The device's inbox as the poll reads it, counting the reads."""

    def __init__(self, rows: list[PolledCopy]) -> None:
        self.rows = rows
        self.reads = 0
        # Something committed while a read is under way (after it began, before it returned).
        self.during_read: Callable[[], None] | None = None

    def reader(self) -> Callable[[], Awaitable[Polled]]:
        async def read() -> Polled:
            self.reads += 1
            polled = Polled(list(self.rows))
            if self.during_read is not None:
                self.during_read()
                self.during_read = None
            return polled

        return read


async def _no_news(devices: Sequence[str]) -> set[str]:
    return set()


def _watch(broadcast: Broadcast) -> InboxWatch:
    watch = InboxWatch(_no_news, summaries=InboxSummaries(100, 3600))
    watch.start(broadcast)
    return watch


async def test_an_unchanged_inbox_is_answered_from_what_is_held_and_the_same() -> None:
    broadcast, store = Broadcast(), Store([a_polled_copy()])
    watch = _watch(broadcast)
    try:
        first = await _answer(watch, "dev-1", "en", store.reader())
        again = await _answer(watch, "dev-1", "en", store.reader())
        assert store.reads == 1
        assert again == first
        news, body = first
        assert news.open == 1 and news.unacknowledged
        assert [d["delivery_id"] for d in orjson.loads(body)["documents"]] == ["dl-1"]
    finally:
        await watch.stop()


async def test_a_change_committed_during_the_read_is_not_held_over() -> None:
    # The mark is taken before the read: what the read found may be older than the change.
    broadcast, store = Broadcast(), Store([a_polled_copy()])
    watch = _watch(broadcast)
    try:
        store.during_read = lambda: watch.changed("dev-1")
        await _answer(watch, "dev-1", "en", store.reader())
        await _answer(watch, "dev-1", "en", store.reader())
        assert store.reads == 2
    finally:
        await watch.stop()


async def test_a_refusal_answer_is_read_again_for_a_terminal_of_another_language() -> None:
    broadcast = Broadcast()
    store = Store([a_polled_copy(state=CopyState.IN_PROGRESS, last_refusal=REFUSAL)])
    watch = _watch(broadcast)
    try:
        _, russian = await _answer(watch, "dev-1", "ru", store.reader())
        await _answer(watch, "dev-1", "ru", store.reader())
        assert store.reads == 1
        _, english = await _answer(watch, "dev-1", "en", store.reader())
        assert store.reads == 2
        said = [orjson.loads(b)["documents"][0]["refusal"]["message"] for b in (russian, english)]
        assert said[0] != said[1]
    finally:
        await watch.stop()


async def test_an_answer_without_a_refusal_serves_every_language() -> None:
    broadcast = Broadcast()
    store = Store([a_polled_copy(state=CopyState.DOWNLOADED, last_refusal=REFUSAL)])
    watch = _watch(broadcast)
    try:
        await _answer(watch, "dev-1", "ru", store.reader())
        _, body = await _answer(watch, "dev-1", "en", store.reader())
        assert store.reads == 1  # shown only in progress: nothing translated
        assert orjson.loads(body)["documents"][0]["refusal"] is None
    finally:
        await watch.stop()


async def test_nothing_held_is_used_while_the_inbox_broadcast_is_down() -> None:
    broadcast, store = Broadcast(), Store([a_polled_copy()])
    watch = _watch(broadcast)
    try:
        await _answer(watch, "dev-1", "en", store.reader())
        broadcast.alive = False  # another instance's announcement could not arrive now
        await _answer(watch, "dev-1", "en", store.reader())
        assert store.reads == 2
    finally:
        await watch.stop()


async def test_an_answer_too_large_to_hold_is_read_at_each_poll() -> None:
    # Hundreds of open documents, each a distinct number: far past the deflated bound.
    rows = [
        a_polled_copy(
            id=f"dl-{n:06d}-{n * 7919 % 1000003:07d}",
            header={"accounting_type": "receipt", "number": f"N{n * 104729}", "date": "2026-12-01"},
        )
        for n in range(500)
    ]
    broadcast, store = Broadcast(), Store(rows)
    watch = _watch(broadcast)
    try:
        _, body = await _answer(watch, "dev-1", "en", store.reader())
        assert len(body) > 10 * MAX_HELD_BYTES
        _, again = await _answer(watch, "dev-1", "en", store.reader())
        assert store.reads == 2 and again == body
        assert len(watch.summaries) == 0
    finally:
        await watch.stop()
