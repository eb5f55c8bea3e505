"""The outbox relay on a real RabbitMQ and a real SQLite store: what a transaction of this
process commits is sent from memory, as the JSON it was stored as, in commit order, once;
rows of an older release (the envelope as a dict) still go out; the poll never sends a row the
memory holds; a broker lost while publishing leaves the rows to be sent when it is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aio_pika
import httpx
import orjson
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from shared import outbox_relay
from shared.contracts import Payload, as_json, wrap
from shared.contracts.directory import DeviceSeen, Sighting
from shared.contracts.results import DocumentLoaded
from shared.messaging.broker import Broker, BrokerUnavailable
from shared.messaging.topology import EVENTS_EXCHANGE
from shared.outbox import COLLECTIONS, OUTBOX, Tx, UnitOfWork, stored_envelope
from shared.outbox_relay import OutboxRelay
from shared.settings import Settings
from shared.storage import Doc, StorageError, Where
from shared.storage.sqlite import SQLiteStore
from tests.support.broker import AUTH, MANAGEMENT, close_connections
from tests.support.stores import first_commit_locked
from tests.support.waiting import eventually


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "outbox.sqlite3")
    await store.open(COLLECTIONS)
    yield store
    await store.close()


@pytest.fixture
async def listener(broker: Broker, settings: Settings) -> AsyncIterator[AbstractQueue]:
    """A queue of the test's own on the events exchange: the messages as the broker got them."""
    connection = await aio_pika.connect(settings.amqp_url)
    channel = await connection.channel()
    events = await channel.get_exchange(EVENTS_EXCHANGE)
    queue = await channel.declare_queue("", exclusive=True)
    await queue.bind(events, routing_key="document.loaded")
    yield queue
    await connection.close()


async def _received(queue: AbstractQueue, count: int) -> list[AbstractIncomingMessage]:
    messages: list[AbstractIncomingMessage] = []

    async def more() -> int:
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            messages.append(message)
        return len(messages)

    await eventually(more, until=lambda n: n >= count, what=f"{count} messages")
    return messages


def _document_ids(messages: list[AbstractIncomingMessage]) -> list[str]:
    return [orjson.loads(m.body)["payload"]["document_id"] for m in messages]


class _Published:
    """The ids the relay published, in the order it published them; the ones confirmed, in
    the order their waits ended; and the ones that failed. Publishes in flight together end
    their waits in whatever order the loop resumes them: the order on the wire is the one they
    were made in (one channel), which the listener's queue then shows."""

    def __init__(self, broker: Broker) -> None:
        self.made: list[str] = []
        self.confirmed: list[str] = []
        self.failed: list[str] = []
        self._publish = broker.publish_stored
        broker.publish_stored = self.publish_stored  # type: ignore[method-assign]

    async def publish_stored(self, body: bytes, routing_key: str, **properties: Any) -> None:
        self.made.append(properties["message_id"])
        try:
            await self._publish(body, routing_key, **properties)
        except Exception:
            self.failed.append(properties["message_id"])
            raise
        self.confirmed.append(properties["message_id"])


class _FirstConfirmHeld:
    """Every publish reaches the broker at once; the first one's confirm is held back until
    the test releases it. Notes the id of every publish tried."""

    def __init__(self, broker: Broker) -> None:
        self.attempts: list[str] = []
        self.first_published = asyncio.Event()
        self._confirm_first = asyncio.Event()
        self._publish = broker.publish_stored
        broker.publish_stored = self.publish_stored  # type: ignore[method-assign]

    async def publish_stored(self, body: bytes, routing_key: str, **properties: Any) -> None:
        self.attempts.append(properties["message_id"])
        await self._publish(body, routing_key, **properties)
        if not self.first_published.is_set():
            self.first_published.set()
            await self._confirm_first.wait()

    def confirm_first(self) -> None:
        self._confirm_first.set()


class _FailingDeletes:
    """The store's deletes of one row fail as a store away does: the first only, or every one
    until :meth:`back`; ``failed`` holds the ids they failed for."""

    def __init__(self, store: SQLiteStore, *, first_only: bool = True) -> None:
        self.failed: list[str] = []
        self._away = True
        self._first_only = first_only
        self._delete = store.delete
        store.delete = self._delete_or_fail  # type: ignore[method-assign]

    def back(self) -> None:
        self._away = False

    async def _delete_or_fail(
        self, collection: str, id: str, *, expect: Where | None = None
    ) -> bool:
        if self._away and not (self._first_only and self.failed):
            self.failed.append(id)
            raise StorageError("store away")
        return await self._delete(collection, id, expect=expect)


def _first_delete_fails(store: SQLiteStore) -> list[str]:
    """Make the store's first delete of one row fail; the list returned holds its id."""
    return _FailingDeletes(store).failed


class _Finds:
    """The rows each read of the outbox returned (the store itself, only watched)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.returned: list[list[str]] = []
        self._find = store.find
        store.find = self.find  # type: ignore[method-assign,assignment]

    async def find(self, collection: str, **kwargs: Any) -> list[Doc]:
        rows = await self._find(collection, **kwargs)
        if collection == OUTBOX.name:
            self.returned.append([row["id"] for row in rows])
        return rows


async def _emitted(uow: UnitOfWork, *events: Payload) -> list[str]:
    """The events committed in one transaction; their ids."""
    async with uow() as tx:
        return [(await tx.emit(event, "t1")).id for event in events]


async def _commit(uow: UnitOfWork, *document_ids: str) -> list[str]:
    return await _emitted(uow, *(DocumentLoaded(document_id=d) for d in document_ids))


async def test_committed_events_go_out_from_memory_as_stored_without_a_read(
    broker: Broker, store: SQLiteStore, listener: AbstractQueue
) -> None:
    relay = OutboxRelay(store, broker, idle_poll=3600)
    uow = UnitOfWork(store, relay)
    finds = _Finds(store)
    ids = await _commit(uow, "a", "b") + await _commit(uow, "c")
    rows = {row["id"]: row for row in await store.find(OUTBOX.name)}
    finds.returned.clear()

    assert await relay.relay_once() == 3
    assert finds.returned == []  # sent from memory: the outbox was not read
    messages = await _received(listener, 3)
    assert _document_ids(messages) == ["a", "b", "c"]
    for message, id in zip(messages, ids, strict=True):
        # The stored JSON as it is (SQLite keeps it embedded in the row: dumped, the same bytes).
        assert message.body == orjson.dumps(rows[id]["body"])
        assert (message.message_id, message.type) == (id, "document.loaded")
        assert message.correlation_id == stored_envelope(rows[id])["correlation_id"]
        assert message.headers["x-tenant"] == "t1"
    assert await store.count(OUTBOX.name) == 0


async def test_a_row_of_an_older_release_holding_the_envelope_as_a_dict_goes_out(
    broker: Broker, store: SQLiteStore, listener: AbstractQueue
) -> None:
    envelope = wrap(DocumentLoaded(document_id="old"), "t1", "corr-1")
    old_row = {
        "id": envelope.id,
        "seq": 1,
        "routing_key": "document.loaded",
        "relay": None,
        "envelope": as_json(envelope),
    }
    await store.insert(OUTBOX.name, old_row)
    relay = OutboxRelay(store, broker)

    assert await relay.relay_once() == 1
    [message] = await _received(listener, 1)
    assert orjson.loads(message.body) == as_json(envelope)
    assert (message.message_id, message.correlation_id) == (envelope.id, "corr-1")
    assert (message.type, message.headers["x-tenant"]) == ("document.loaded", "t1")
    assert await store.count(OUTBOX.name) == 0


@pytest.mark.parametrize("orphaned_after_us", [outbox_relay.ORPHANED_AFTER_US, 0])
async def test_the_poll_does_not_send_a_row_the_memory_holds(
    broker: Broker,
    store: SQLiteStore,
    listener: AbstractQueue,
    monkeypatch: pytest.MonkeyPatch,
    orphaned_after_us: int,
) -> None:
    # One row a pass, a poll after every pass: the poll reads the held second row first.
    relay = OutboxRelay(store, broker, batch=1, idle_poll=0, in_flight=1)
    uow = UnitOfWork(store, relay)
    published, finds = _Published(broker), _Finds(store)
    first, second = await _commit(uow, "a", "b")
    # With 0, every row is now as old as a left-behind one: only being held keeps it from
    # the poll.
    monkeypatch.setattr(outbox_relay, "ORPHANED_AFTER_US", orphaned_after_us)

    assert await relay.relay_once() == 1
    assert finds.returned == [[second]]  # the poll saw it while it was held ...
    assert published.confirmed == [first]  # ... and left it to the memory
    assert await relay.relay_once() == 1
    assert published.confirmed == [first, second]
    assert _document_ids(await _received(listener, 2)) == ["a", "b"]
    assert await store.count(OUTBOX.name) == 0


async def test_a_row_of_ours_that_never_reached_the_memory_is_polled_once_left_behind(
    broker: Broker, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = OutboxRelay(store, broker)
    published = _Published(broker)
    # Committed with this relay's id but never handed over (as when a commit raised although
    # the store had made it durable).
    async with store.transaction() as db:
        stuck = (await Tx(db, relay.current_id).emit(DocumentLoaded(document_id="d"), "t1")).id
    assert await relay.relay_once() == 0  # young: it may still be on its way to the memory
    monkeypatch.setattr(outbox_relay, "ORPHANED_AFTER_US", 0)
    assert await relay.relay_once() == 1
    assert published.confirmed == [stuck]
    assert await store.count(OUTBOX.name) == 0


async def test_only_the_attempt_that_committed_is_handed_to_the_relay(
    broker: Broker, store: SQLiteStore
) -> None:
    commits = first_commit_locked(store)
    relay = OutboxRelay(store, broker, idle_poll=3600)
    uow = UnitOfWork(store, relay)
    published = _Published(broker)
    attempts: list[str] = []

    async def work(tx: Tx) -> None:
        attempts.append((await tx.emit(DocumentLoaded(document_id="d"), "t1")).id)

    await uow.run(work)
    assert len(attempts) == 2 and len(commits) == 2  # the first COMMIT refused, run again
    assert await relay.relay_once() == 1
    assert published.confirmed == attempts[1:]  # the aborted attempt's event is gone with it


async def test_past_the_memory_limit_the_poll_sends_what_was_let_go_of_first_in_order(
    broker: Broker, store: SQLiteStore, listener: AbstractQueue
) -> None:
    relay = OutboxRelay(store, broker, idle_poll=3600, held_limit=1000)  # four events
    uow = UnitOfWork(store, relay)
    published = _Published(broker)
    first_id = relay.current_id
    ids = [id for n in range(6) for id in await _commit(uow, f"d{n}")]
    assert relay.current_id != first_id  # it let go of its memory, and holds the later ones again

    while await store.count(OUTBOX.name):
        await relay.relay_once()
    assert published.made == ids  # in commit order, each once
    assert sorted(published.confirmed) == sorted(ids)
    assert _document_ids(await _received(listener, 6)) == [f"d{n}" for n in range(6)]


async def test_after_a_let_go_the_memory_goes_on_though_it_holds_more_than_a_page(
    broker: Broker, store: SQLiteStore, listener: AbstractQueue
) -> None:
    # Pages of two rows: once what was let go of is sent, the rows held since fill the first
    # page on their own, and the poll must read past them to see the end of the outbox.
    relay = OutboxRelay(store, broker, batch=2, idle_poll=3600, held_limit=1000)
    uow = UnitOfWork(store, relay)
    published = _Published(broker)
    first_id = relay.current_id
    ids = [id for n in range(9) for id in await _commit(uow, f"d{n}")]  # 5 let go of, 4 held
    assert relay.current_id != first_id

    for _ in range(30):  # some twelve passes do it; a relay that stalls never does
        if not await store.count(OUTBOX.name):
            break
        await relay.relay_once()
    assert await store.count(OUTBOX.name) == 0
    assert published.made == ids  # in commit order, each once
    assert sorted(published.confirmed) == sorted(ids)
    assert _document_ids(await _received(listener, 9)) == [f"d{n}" for n in range(9)]


async def test_a_commit_handed_over_after_the_poll_took_it_as_left_behind_is_not_sent_again(
    broker: Broker, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = OutboxRelay(store, broker, idle_poll=3600)
    published = _Published(broker)
    async with store.transaction() as db:
        tx = Tx(db, relay.current_id)
        late = (await tx.emit(DocumentLoaded(document_id="d"), "t1")).id
    # Its commit outlasted the orphan age (as one retried through a failover does), so the
    # poll took it as left behind, and only then was it handed over.
    monkeypatch.setattr(outbox_relay, "ORPHANED_AFTER_US", 0)
    assert await relay.relay_once() == 1
    relay.hand(tx.emitted)
    assert await relay.relay_once() == 0
    assert published.confirmed == [late]
    assert await store.count(OUTBOX.name) == 0


async def test_stop_ends_in_its_time_without_raising_while_the_held_rows_cannot_go_out(
    broker: Broker, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_relay, "STOP_SECONDS", 0.5)
    relay = OutboxRelay(store, broker, idle_poll=3600)
    uow = UnitOfWork(store, relay)
    finds = _Finds(store)
    publishing = asyncio.Event()

    async def never_confirmed(body: bytes, routing_key: str, **properties: Any) -> None:
        publishing.set()
        await asyncio.Event().wait()

    broker.publish_stored = never_confirmed  # type: ignore[method-assign]
    relay.start()
    await eventually(lambda: asyncio.sleep(0, finds.returned), what="the first poll")
    await _commit(uow, "last")  # held, and the relay told to stop before it runs again
    await relay.stop()
    assert publishing.is_set()  # it tried to send what it held ...
    assert relay._task is not None and relay._task.done()
    assert not relay._task.cancelled()  # ... and gave up by its own deadline
    assert await store.count(OUTBOX.name) == 1  # left for a relay to send later


async def test_stop_cuts_short_the_wait_after_a_failed_send(
    broker: Broker, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_relay, "STOP_SECONDS", 0.5)
    relay = OutboxRelay(store, broker, idle_poll=3600)
    uow = UnitOfWork(store, relay)
    failures: list[str] = []

    async def refused(body: bytes, routing_key: str, **properties: Any) -> None:
        failures.append(properties["message_id"])
        raise BrokerUnavailable("refused")

    broker.publish_stored = refused  # type: ignore[method-assign]
    await _commit(uow, "d")
    relay.start()
    # After five failures in a row the relay waits 1.6 s before it tries again: longer than
    # stopping may take, so only a wait that the stop ends lets the relay end on its own.
    await eventually(lambda: asyncio.sleep(0, len(failures) >= 5), what="five failed sends")
    await relay.stop()
    assert relay._task is not None and relay._task.done()
    assert not relay._task.cancelled()
    assert await store.count(OUTBOX.name) == 1


async def test_what_is_held_at_stop_goes_out_before_the_relay_ends(
    broker: Broker, store: SQLiteStore
) -> None:
    relay = OutboxRelay(store, broker, idle_poll=3600)
    uow = UnitOfWork(store, relay)
    published, finds = _Published(broker), _Finds(store)
    relay.start()
    await eventually(lambda: asyncio.sleep(0, finds.returned), what="the first poll")
    ids = await _commit(uow, "last")  # held, and the relay told to stop before it runs again
    await relay.stop()
    assert published.confirmed == ids
    assert await store.count(OUTBOX.name) == 0


async def _refuse_connections(vhost: str, refused: bool) -> None:
    """The broker refuses (or again accepts) connections to ``vhost``: the test's outage."""
    limit = f"{MANAGEMENT}/vhost-limits/{quote(vhost, safe='')}/max-connections"
    async with httpx.AsyncClient(auth=AUTH, timeout=10) as http:
        answer = await (http.put(limit, json={"value": 0}) if refused else http.delete(limit))
        assert answer.status_code in ((201, 204) if refused else (204, 404)), answer.text


async def test_rows_outlive_a_broker_lost_while_publishing_and_go_out_in_order_after(
    store: SQLiteStore, vhost: str, settings: Settings
) -> None:
    broker = Broker(settings.model_copy(update={"publish_timeout_seconds": 0.5}), "test")
    await broker.connect()
    # One batch of one in flight: each row is sent only once the one before it is confirmed.
    relay = OutboxRelay(store, broker, batch=1, in_flight=1)
    uow = UnitOfWork(store, relay)
    publish = broker.publish_stored
    outage = asyncio.Event()

    async def losing_the_broker_first(body: bytes, routing_key: str, **properties: Any) -> None:
        if not outage.is_set():
            outage.set()
            await _refuse_connections(vhost, True)
            await eventually(lambda: close_connections(vhost), what="the connections closed")
        await publish(body, routing_key, **properties)

    broker.publish_stored = losing_the_broker_first  # type: ignore[method-assign]
    published = _Published(broker)
    ids = [id for n in range(5) for id in await _commit(uow, f"d{n}")]
    relay.start()
    try:
        await eventually(lambda: asyncio.sleep(0, len(published.failed) >= 2), what="failing")
        assert await store.count(OUTBOX.name) == 5  # nothing sent: every row stays
        assert set(published.failed) == {ids[0]} and published.confirmed == []
        await _refuse_connections(vhost, False)
        await eventually(
            lambda: store.count(OUTBOX.name), until=lambda n: n == 0, what="outbox drained"
        )
    finally:
        await _refuse_connections(vhost, False)
        await relay.stop()
        await broker.close()
    assert published.confirmed == ids  # sent once the broker was back, in order, each once


class _Log:
    """The relay's log lines, as (level, event, fields)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []
        monkeypatch.setattr(outbox_relay, "log", self)

    def __getattr__(self, level: str) -> Any:
        def line(event: str, **fields: Any) -> None:
            self.lines.append((level, event, fields))

        return line


async def _row_with_seq(
    store: SQLiteStore, seq: int, document_id: str, relay: str | None = None
) -> str:
    """A row at ``seq`` (by default of no relay: the poll's), as another process may write
    one with the same seq as a row of this one (a seq is unique within a process only)."""
    async with store.transaction() as db:
        envelope = await Tx(db, relay).emit(DocumentLoaded(document_id=document_id), "t1")
        await db.update(OUTBOX.name, envelope.id, {"seq": seq})
    return envelope.id


async def test_rows_sharing_a_seq_across_a_page_boundary_are_read_in_the_same_scan(
    broker: Broker, store: SQLiteStore, listener: AbstractQueue
) -> None:
    # Pages of two: the first ends inside the rows of seq 20, the second is all of seq 20.
    seqs = [10, 20, 20, 20, 20, 30]
    ids = [await _row_with_seq(store, seq, f"d{n}") for n, seq in enumerate(seqs)]
    relay = OutboxRelay(store, broker, batch=2, idle_poll=0)
    published = _Published(broker)

    for _ in range(10):  # four passes do it
        if not await store.count(OUTBOX.name):
            break
        await relay.relay_once()
    assert await store.count(OUTBOX.name) == 0
    assert published.confirmed[0] == ids[0] and published.confirmed[-1] == ids[-1]
    assert sorted(published.confirmed) == sorted(ids)  # each once, seq 30 only after all of 20
    assert len(await _received(listener, 6)) == 6


async def test_a_transaction_handed_over_with_its_oldest_event_past_the_cutoff_is_all_polled(
    broker: Broker, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = OutboxRelay(store, broker, idle_poll=0)
    published, log = _Published(broker), _Log(monkeypatch)
    async with store.transaction() as db:
        tx = Tx(db, relay.current_id)
        first = (await tx.emit(DocumentLoaded(document_id="a"), "t1")).id
        second = (await tx.emit(DocumentLoaded(document_id="b"), "t1")).id
    # Handed over when its first event is past the orphan age and its second not yet.
    cutoff = tx.emitted[1].seq
    monkeypatch.setattr(outbox_relay, "orphaned_before", lambda: cutoff)
    relay.hand(tx.emitted)
    assert ("info", "outbox.relay_left_to_poll") in [line[:2] for line in log.lines]
    assert log.lines[-1][2]["ids"] == [first, second]

    assert await relay.relay_once() == 1  # the poll takes the first; the memory holds nothing
    assert published.confirmed == [first]
    monkeypatch.setattr(outbox_relay, "orphaned_before", lambda: cutoff + 1)
    assert await relay.relay_once() == 1
    assert published.confirmed == [first, second]  # in the transaction's order
    assert await store.count(OUTBOX.name) == 0


async def test_one_event_larger_than_the_memory_limit_is_held_without_a_let_go(
    broker: Broker, store: SQLiteStore
) -> None:
    relay = OutboxRelay(store, broker, idle_poll=3600, held_limit=100)  # less than one event
    uow = UnitOfWork(store, relay)
    published, finds = _Published(broker), _Finds(store)
    first_id = relay.current_id
    ids = await _commit(uow, "big")
    assert relay.current_id == first_id  # nothing else held: letting go would gain nothing

    assert await relay.relay_once() == 1
    assert finds.returned == []  # from memory, not read back
    assert published.confirmed == ids
    await _commit(uow, "next")  # held on its own again
    await _commit(uow, "last")  # over the limit with one held: now it lets go
    assert relay.current_id != first_id


async def test_a_cancel_of_the_caller_of_stop_reaches_it(
    broker: Broker, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = OutboxRelay(store, broker, idle_poll=3600)
    uow = UnitOfWork(store, relay)
    publishing = asyncio.Event()

    async def never_confirmed(body: bytes, routing_key: str, **properties: Any) -> None:
        publishing.set()
        await asyncio.Event().wait()

    broker.publish_stored = never_confirmed  # type: ignore[method-assign]
    await _commit(uow, "d")
    relay.start()
    await eventually(lambda: asyncio.sleep(0, publishing.is_set()), what="a publish")
    stopping = asyncio.create_task(relay.stop())
    # Told to stop, and waiting on the relay to end (its sends never do).
    await eventually(lambda: asyncio.sleep(0, relay._stop_requested.is_set()), what="stop")
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert stopping.cancelled()
    assert await store.count(OUTBOX.name) == 1  # unsent, left in the outbox


async def test_stop_out_of_time_logs_what_ended_the_sending(
    broker: Broker, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_relay, "STOP_SECONDS", 0.5)
    relay = OutboxRelay(store, broker, idle_poll=3600)
    uow = UnitOfWork(store, relay)
    log = _Log(monkeypatch)

    async def never_confirmed(body: bytes, routing_key: str, **properties: Any) -> None:
        await asyncio.Event().wait()

    broker.publish_stored = never_confirmed  # type: ignore[method-assign]
    await _commit(uow, "d")
    relay.start()
    await relay.stop()
    [(level, fields)] = [(lv, f) for lv, e, f in log.lines if e == "outbox.relay_stopped_unsent"]
    assert level == "warning"
    assert (fields["error_type"], fields["left"]) == ("TimeoutError", 1)


async def test_a_scan_older_than_the_orphan_age_starts_again_from_the_start(
    broker: Broker, store: SQLiteStore
) -> None:
    # Young rows of a live relay elsewhere: the poll leaves them be, and they fill its pages.
    young = outbox_relay.orphaned_before() + 10 * outbox_relay.ORPHANED_AFTER_US * 1000
    for n in range(4):
        await _row_with_seq(store, young + n, f"o{n}", relay="another-process")
    relay = OutboxRelay(store, broker, batch=2, idle_poll=0)
    published = _Published(broker)
    assert await relay.relay_once() == 0  # the first page: full, nothing to send
    # Committed behind the scan's place (on MongoDB a seq is taken before the commit).
    behind = await _row_with_seq(store, 1, "behind")
    relay._scan_began -= outbox_relay.ORPHANED_AFTER_US / 1e6 + 1  # the scan began that long ago

    assert await relay.relay_once() == 1
    assert published.confirmed == [behind]
    assert await store.count(OUTBOX.name) == 4


async def test_a_row_that_cannot_be_read_is_logged_once_and_skipped_not_blocking_the_rest(
    broker: Broker, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Neither the JSON text nor the envelope: it cannot become a message.
    await store.insert(OUTBOX.name, {"id": "poisoned", "seq": 1, "routing_key": "x"})
    good = await _row_with_seq(store, 2, "d")
    relay = OutboxRelay(store, broker, idle_poll=0)
    published, log = _Published(broker), _Log(monkeypatch)

    assert await relay.relay_once() == 1
    assert published.confirmed == [good]
    assert await relay.relay_once() == 0
    poisoned = [line for line in log.lines if line[1] == "outbox.relay_poisoned_row"]
    assert [(level, fields["id"]) for level, _, fields in poisoned] == [("error", "poisoned")]
    assert [row["id"] for row in await store.find(OUTBOX.name)] == ["poisoned"]  # left there


async def test_rows_without_seq_are_left_alone_and_do_not_hold_the_scan(
    broker: Broker, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Written by hand: they sort before every other row, more of them than a page holds.
    for n in range(3):
        await store.insert(OUTBOX.name, {"id": f"no-seq-{n}", "routing_key": "x"})
    rows = [await _row_with_seq(store, n, f"d{n}") for n in (1, 2, 3)]
    relay = OutboxRelay(store, broker, batch=2, idle_poll=0)
    published, log = _Published(broker), _Log(monkeypatch)

    sent = [await relay.relay_once() for _ in range(3)]  # a page a pass
    assert sent == [2, 1, 0]  # no page spent on them
    assert published.confirmed == rows
    assert not [line for line in log.lines if line[1] == "outbox.relay_poisoned_row"]  # unread
    left = sorted(row["id"] for row in await store.find(OUTBOX.name))
    assert left == ["no-seq-0", "no-seq-1", "no-seq-2"]


async def test_an_event_only_the_live_view_takes_does_not_hold_back_the_rest_with_no_dashboard(
    broker: Broker, store: SQLiteStore, listener: AbstractQueue
) -> None:
    # No dashboard is up: only the live view's sink takes device.seen (declared by the broker).
    relay = OutboxRelay(store, broker, idle_poll=3600)
    uow = UnitOfWork(store, relay)
    published = _Published(broker)
    seen = DeviceSeen(sightings=[Sighting(device_id="d1", at=datetime.now(UTC))])
    ids = await _emitted(uow, seen) + await _commit(uow, "after")

    await relay.relay_once()

    assert published.failed == []
    assert published.confirmed == ids
    assert _document_ids(await _received(listener, 1)) == ["after"]
    assert await store.count(OUTBOX.name) == 0


async def test_a_batch_that_keeps_failing_is_logged_with_its_ids(
    broker: Broker, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = OutboxRelay(store, broker, idle_poll=3600)
    uow = UnitOfWork(store, relay)
    log = _Log(monkeypatch)

    async def refused(body: bytes, routing_key: str, **properties: Any) -> None:
        raise BrokerUnavailable("refused")

    broker.publish_stored = refused  # type: ignore[method-assign]
    ids = await _commit(uow, "a", "b")
    for _ in range(3):
        with pytest.raises(BrokerUnavailable):
            await relay.relay_once()
    failing = [line for line in log.lines if line[1] == "outbox.relay_batch_keeps_failing"]
    assert [(level, fields["ids"]) for level, _, fields in failing] == [("error", ids)]
    assert await store.count(OUTBOX.name) == 2  # sent again later, never skipped


async def test_later_commits_go_out_while_an_earlier_one_awaits_its_confirm(
    broker: Broker, store: SQLiteStore, listener: AbstractQueue
) -> None:
    relay = OutboxRelay(store, broker, idle_poll=3600)
    uow = UnitOfWork(store, relay)
    held_back = _FirstConfirmHeld(broker)
    published = _Published(broker)
    relay.start()
    try:
        first = await _commit(uow, "first")
        await held_back.first_published.wait()
        later = await _commit(uow, "second") + await _commit(uow, "third")
        await eventually(
            lambda: asyncio.sleep(0, published.confirmed),
            until=lambda confirmed: confirmed == later,
            what="the later commits confirmed",
        )
        # Settled in order: nothing is deleted while the first still awaits its confirm.
        assert await store.count(OUTBOX.name) == 3
        held_back.confirm_first()
        await eventually(
            lambda: store.count(OUTBOX.name), until=lambda n: n == 0, what="outbox drained"
        )
    finally:
        held_back.confirm_first()
        await relay.stop()
    assert published.confirmed == later + first  # each once
    # The broker got them in commit order.
    assert _document_ids(await _received(listener, 3)) == ["first", "second", "third"]


async def test_a_failed_batch_goes_out_again_with_every_batch_after_it_in_order(
    broker: Broker, store: SQLiteStore, listener: AbstractQueue
) -> None:
    relay = OutboxRelay(store, broker, idle_poll=3600)
    uow = UnitOfWork(store, relay)
    publish = broker.publish_stored
    first_sent, second_confirmed = asyncio.Event(), asyncio.Event()

    async def first_refused_once(body: bytes, routing_key: str, **properties: Any) -> None:
        if not first_sent.is_set():
            first_sent.set()
            await second_confirmed.wait()  # the batch after it is confirmed first
            raise BrokerUnavailable("nacked")
        await publish(body, routing_key, **properties)
        second_confirmed.set()

    broker.publish_stored = first_refused_once  # type: ignore[method-assign]
    published = _Published(broker)
    relay.start()
    try:
        first = await _commit(uow, "first")
        await first_sent.wait()  # the second is a batch of its own
        second = await _commit(uow, "second")
        await eventually(
            lambda: store.count(OUTBOX.name), until=lambda n: n == 0, what="outbox drained"
        )
    finally:
        await relay.stop()
    assert published.failed == first
    # The second was confirmed, then sent again after the first: the last copies in order.
    assert published.confirmed == second + first + second
    assert _document_ids(await _received(listener, 3)) == ["second", "first", "second"]


async def test_a_confirmed_batch_whose_delete_failed_is_deleted_again_not_sent_again(
    broker: Broker, store: SQLiteStore
) -> None:
    relay = OutboxRelay(store, broker, idle_poll=3600)
    uow = UnitOfWork(store, relay)
    published = _Published(broker)
    failed_deletes = _first_delete_fails(store)
    ids = await _commit(uow, "d")
    relay.start()
    try:
        await eventually(
            lambda: store.count(OUTBOX.name), until=lambda n: n == 0, what="outbox drained"
        )
    finally:
        await relay.stop()
    assert failed_deletes == ids
    assert published.confirmed == ids  # confirmed once: only the delete was tried again


async def test_a_polled_row_whose_delete_failed_is_deleted_again_not_sent_again(
    broker: Broker, store: SQLiteStore
) -> None:
    row = await _row_with_seq(store, 1, "d")  # of no relay: the poll's
    relay = OutboxRelay(store, broker, idle_poll=0)
    published = _Published(broker)
    failed_deletes = _first_delete_fails(store)
    with pytest.raises(StorageError):
        await relay.relay_once()
    assert await relay.relay_once() == 0  # the delete tried again first: nothing left to send
    assert failed_deletes == [row]
    assert published.confirmed == [row]  # confirmed once
    assert await store.count(OUTBOX.name) == 0


async def test_a_polled_row_whose_delete_failed_is_deleted_on_stop_not_sent_again(
    broker: Broker, store: SQLiteStore
) -> None:
    row = await _row_with_seq(store, 1, "d")  # of no relay: the poll's
    relay = OutboxRelay(store, broker, idle_poll=3600)
    published = _Published(broker)
    deletes = _FailingDeletes(store, first_only=False)
    relay.start()
    try:
        await eventually(lambda: asyncio.sleep(0, deletes.failed), what="the delete tried")
    finally:
        deletes.back()  # just as the relay is stopped: no pass of its loop in between
        await relay.stop()
    assert published.confirmed == [row]
    assert await store.count(OUTBOX.name) == 0  # deleted on stop: no relay sends it again


async def test_let_go_rows_whose_delete_failed_keep_the_memory_waiting_for_another_scan(
    broker: Broker, store: SQLiteStore
) -> None:
    relay = OutboxRelay(store, broker, idle_poll=0)
    relay._let_go.add("let-go")  # as a let-go leaves it: the memory waits for a clean scan
    row = await _row_with_seq(store, 1, "d", relay="let-go")
    failed = _first_delete_fails(store)
    with pytest.raises(StorageError):
        await relay.relay_once()
    assert failed == [row]
    assert await relay.relay_once() == 0  # deleted now: the scan reaches the end ...
    assert relay._let_go == {"let-go"}  # ... but it sent some of what was let go of
    assert await relay.relay_once() == 0
    assert relay._let_go == set()  # a scan that met none of it: the memory goes on


async def test_stop_waits_for_the_batches_in_flight_and_sends_what_is_held_after_them(
    broker: Broker, store: SQLiteStore
) -> None:
    relay = OutboxRelay(store, broker, idle_poll=3600, in_flight=1)
    uow = UnitOfWork(store, relay)
    held_back = _FirstConfirmHeld(broker)
    published = _Published(broker)
    relay.start()
    try:
        first = await _commit(uow, "first")
        await held_back.first_published.wait()
        held = await _commit(uow, "held")  # behind the full window
        stopping = asyncio.create_task(relay.stop())
        await eventually(lambda: asyncio.sleep(0, relay._stop_requested.is_set()), what="stop")
        assert not stopping.done()  # waiting for the batch in flight
        held_back.confirm_first()
        await stopping
    finally:
        held_back.confirm_first()
        await relay.stop()
    assert published.confirmed == first + held
    assert await store.count(OUTBOX.name) == 0


async def test_a_let_go_while_a_batch_awaits_its_confirm_sends_every_row_once_in_order(
    broker: Broker, store: SQLiteStore, listener: AbstractQueue
) -> None:
    # A poll due at every pass: it must not read back the rows of batches still in flight.
    relay = OutboxRelay(store, broker, idle_poll=0.01, held_limit=1000)  # four events
    uow = UnitOfWork(store, relay)
    held_back = _FirstConfirmHeld(broker)
    first_id = relay.current_id
    relay.start()
    try:
        ids = await _commit(uow, "d0")
        await held_back.first_published.wait()
        for n in range(1, 7):  # held while d0 awaits its confirm: past the limit, let go of
            ids += await _commit(uow, f"d{n}")
            await asyncio.sleep(0)  # the relay's turn: what it holds goes out as it comes
        assert relay.current_id != first_id
        assert len(relay._in_flight) > 0  # let go of with d0's batch still in flight
        held_back.confirm_first()
        await eventually(
            lambda: store.count(OUTBOX.name), until=lambda n: n == 0, what="outbox drained"
        )
    finally:
        held_back.confirm_first()
        await relay.stop()
    assert sorted(held_back.attempts) == sorted(ids)  # each published once
    assert _document_ids(await _received(listener, 7)) == [f"d{n}" for n in range(7)]
