"""A terminal's acknowledgement answers the state its copy really has, even when the copy
changed between the terminal's request being read and the acknowledgement being written (a
withdrawal, another acknowledgement); several acknowledged together answer each as its own
acknowledgement would, and tell routing in one message. One gateway runtime: real SQLite, real
RabbitMQ vhost."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aio_pika.abc import AbstractIncomingMessage

from services.gateway import inbox
from services.gateway import repository as repo
from services.gateway.inbox import acknowledge_copies, acknowledge_copy
from services.gateway.service import SPEC
from shared.contracts import Envelope, Payload, decode
from shared.contracts.copies import CopyState
from shared.contracts.results import DeliveriesProgressed, DeliveryProgressed
from shared.messaging.topology import EVENTS_EXCHANGE
from shared.service import Runtime, start_runtime, stop_runtime
from shared.settings import Settings
from tests.support.gateway_copies import DOCUMENT, a_copy, a_device
from tests.support.waiting import eventually


@pytest.fixture
async def rt(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = await start_runtime(SPEC, settings)
    try:
        yield runtime
    finally:
        await stop_runtime(SPEC, runtime)


async def test_a_copy_withdrawn_after_it_was_read_is_acknowledged_as_a_withdrawal(
    rt: Runtime,
) -> None:
    await repo.add_new_copies(rt.store, [(a_copy(), DOCUMENT)])
    read = await repo.copy(rt.store, "dl-1")  # what the terminal's request found: waiting
    assert read is not None and read.state is CopyState.DELIVERED
    assert await repo.change_copy_state(
        rt.store, "dl-1", CopyState.WITHDRAWN, expect=CopyState.DELIVERED
    )

    assert await acknowledge_copy(rt, read, a_device()) is CopyState.WITHDRAWAL_SEEN
    stored = await repo.copy(rt.store, "dl-1")
    assert stored is not None and stored.state is CopyState.WITHDRAWAL_SEEN


async def test_an_acknowledgement_sent_again_answers_the_state_the_copy_has(rt: Runtime) -> None:
    await repo.add_new_copies(rt.store, [(a_copy(), DOCUMENT)])
    read = await repo.copy(rt.store, "dl-1")
    assert read is not None

    assert await acknowledge_copy(rt, read, a_device()) is CopyState.DOWNLOADED
    assert await repo.change_copy_state(
        rt.store, "dl-1", CopyState.IN_PROGRESS, expect=CopyState.DOWNLOADED
    )  # a partial result came meanwhile
    # The same request again, from the same (now stale) read: the copy's state, unchanged.
    assert await acknowledge_copy(rt, read, a_device()) is CopyState.IN_PROGRESS
    stored = await repo.copy(rt.store, "dl-1")
    assert stored is not None and stored.state is CopyState.IN_PROGRESS


class Announced:
    """The progress events the gateway publishes, as a queue of the test's own bound to them
    on the runtime's broker sees them."""

    def __init__(self) -> None:
        self.seen: list[tuple[Envelope, Payload]] = []

    async def listen(self, rt: Runtime) -> None:
        # A channel of its own: events taken without acknowledgement on the consumers'
        # channel would stop the runs their acknowledgements are grouped by.
        channel = await rt.broker.connection.channel(publisher_confirms=False)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        events = await channel.get_exchange(EVENTS_EXCHANGE)
        for key in (DeliveryProgressed.TYPE, DeliveriesProgressed.TYPE):
            await queue.bind(events, routing_key=key)
        await queue.consume(self._on_event, no_ack=True)

    async def _on_event(self, message: AbstractIncomingMessage) -> None:
        self.seen.append(decode(message.body))

    async def count(self, n: int) -> list[Payload]:
        async def probe() -> list[Payload]:
            return [payload for _, payload in self.seen]

        return await eventually(probe, until=lambda seen: len(seen) >= n, what=f"{n} events")


async def _copies(rt: Runtime, *rows: tuple[str, str, CopyState]) -> None:
    copies = [(a_copy(id=d, device_id=device, state=state), DOCUMENT) for d, device, state in rows]
    await repo.add_new_copies(rt.store, copies)


async def test_several_copies_acknowledged_together_move_in_one_message_and_answer_each(
    rt: Runtime,
) -> None:
    announced = Announced()
    await announced.listen(rt)
    await _copies(
        rt,
        ("dl-1", "dev-1", CopyState.DELIVERED),
        ("dl-2", "dev-1", CopyState.DELIVERED),
        ("dl-3", "dev-1", CopyState.IN_PROGRESS),
        ("dl-4", "dev-1", CopyState.WITHDRAWN),
        ("dl-5", "dev-2", CopyState.DELIVERED),  # another device's
    )
    ids = ["dl-5", "dl-1", "dl-404", "dl-2", "dl-3", "dl-4"]

    answers = await acknowledge_copies(rt, a_device(), ids)

    assert list(answers) == ids  # in the order given
    assert {i: a if isinstance(a, CopyState) else a.code for i, a in answers.items()} == {
        "dl-5": "not_found",
        "dl-1": CopyState.DOWNLOADED,
        "dl-404": "not_found",
        "dl-2": CopyState.DOWNLOADED,
        "dl-3": CopyState.IN_PROGRESS,
        "dl-4": CopyState.WITHDRAWAL_SEEN,
    }
    states = {i: (await repo.copy(rt.store, i)) for i in ("dl-1", "dl-2", "dl-3", "dl-4", "dl-5")}
    assert {i: c.state for i, c in states.items() if c is not None} == {
        "dl-1": CopyState.DOWNLOADED,
        "dl-2": CopyState.DOWNLOADED,
        "dl-3": CopyState.IN_PROGRESS,
        "dl-4": CopyState.WITHDRAWAL_SEEN,
        "dl-5": CopyState.DELIVERED,  # the foreign copy is untouched
    }
    [together] = await announced.count(1)
    assert isinstance(together, DeliveriesProgressed)
    assert (together.channel, together.by) == ("internet", "dev-1")
    assert [(c.delivery_id, c.state) for c in together.copies] == [
        ("dl-1", "downloaded"),
        ("dl-2", "downloaded"),
    ]
    assert all(c.delivered_at is not None for c in together.copies)

    # Sent again (the answer was lost): each copy's state, and nothing more is announced.
    again = await acknowledge_copies(rt, a_device(), ["dl-1", "dl-2"])
    assert again == {"dl-1": CopyState.DOWNLOADED, "dl-2": CopyState.DOWNLOADED}
    await _copies(rt, ("dl-7", "dev-1", CopyState.DELIVERED))
    assert await acknowledge_copies(rt, a_device(), ["dl-7"]) == {"dl-7": CopyState.DOWNLOADED}
    # A single copy is told in the single form, as its own acknowledgement tells it.
    seen = await announced.count(2)
    assert len(seen) == 2
    assert isinstance(seen[1], DeliveryProgressed) and seen[1].delivery_id == "dl-7"


async def test_copies_changed_after_they_were_read_answer_their_real_state(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _copies(
        rt,
        ("dl-1", "dev-1", CopyState.DELIVERED),
        ("dl-2", "dev-1", CopyState.DELIVERED),
        ("dl-3", "dev-1", CopyState.DELIVERED),
    )
    stale = {i: await repo.copy(rt.store, i) for i in ("dl-1", "dl-2", "dl-3")}

    async def as_read_before(_: Runtime, __: object, delivery_id: str) -> object:
        return stale[delivery_id]

    # What the batch read is what the terminal's request found: all waiting. Before it writes,
    # one is withdrawn and one acknowledged by another request.
    monkeypatch.setattr(inbox, "own_copy", as_read_before)
    assert await repo.change_copy_state(
        rt.store, "dl-1", CopyState.WITHDRAWN, expect=CopyState.DELIVERED
    )
    assert await repo.change_copy_state(
        rt.store, "dl-2", CopyState.DOWNLOADED, expect=CopyState.DELIVERED
    )

    answers = await acknowledge_copies(rt, a_device(), ["dl-1", "dl-2", "dl-3"])

    assert answers == {
        "dl-1": CopyState.WITHDRAWAL_SEEN,
        "dl-2": CopyState.DOWNLOADED,
        "dl-3": CopyState.DOWNLOADED,
    }
    stored = await repo.copy(rt.store, "dl-1")
    assert stored is not None and stored.state is CopyState.WITHDRAWAL_SEEN
