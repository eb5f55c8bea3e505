"""The outbox's relay: publishes what the transactions of :mod:`shared.outbox` committed.

It is handed the rows a transaction of its process committed and sends them from memory, in
commit order, deleting each row only after the broker confirmed it; later transactions go out
while earlier batches await their confirms (:mod:`shared.outbox_in_flight`). It reads the
outbox only for the rest (rows of a process that died, rows it let go of). A crash at any point
re-sends rather than loses; consumers deduplicate by envelope id.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Sequence
from contextlib import suppress

from shared.collector import collector_held
from shared.logging import get_logger
from shared.messaging.broker import Broker, BrokerUnavailable
from shared.outbox import OUTBOX, Outgoing
from shared.outbox_in_flight import InFlight
from shared.storage import Doc, StorageError, Store

log = get_logger("tsdx.outbox")


# A row its own relay has not sent after this long was left by a process that died: any
# instance's relay sends it. Before that, instances sharing a store leave each other's rows be.
ORPHANED_AFTER_US = 5_000_000


def orphaned_before() -> int:
    """The seq below which a row is left behind: the poll of any relay takes it, and the
    memory no longer does (one cutoff for both, so that only one of them ever sends it)."""
    return (time.time_ns() // 1000 - ORPHANED_AFTER_US) * 1000


def left_behind(seq: int, orphaned: int) -> bool:
    """The ownership rule for a row of a live relay: the memory's if handed over before the
    orphan cutoff (``orphaned``, from :func:`orphaned_before`), else the poll's. A transaction
    goes by its oldest event, so that all of its events are sent by one of them, in order."""
    return seq < orphaned


# At most this much JSON (bytes) waits in a relay's memory: a relay that cannot send (the
# broker away) while its process goes on committing lets go of it and reads it back later.
HELD_LIMIT_BYTES = 64 * 1024 * 1024

# How long stopping the relay may take: it sends what it holds for most of it, then gives up
# (what is unsent stays in the outbox), so that the broker and the store are closed after it.
STOP_SECONDS = 10.0
_SEND_THE_REST_SHARE = 0.8

# Below every seq (positive: the time in µs, times 1000, plus a counter): a scan from the start
# reads the rows above it. A row without a seq, which both stores sort first, is never read: it
# could not be put in order, and a page of such rows would hold the scan at the start.
SCAN_FLOOR = -(2**63)

# At most this many batches from memory are published and awaiting their confirms at once.
IN_FLIGHT_BATCHES = 4

# A batch failing this many times in a row is logged with its ids.
_FAILURES_LOGGED = 3


class OutboxRelay:
    """Publishes the outbox. What a transaction of this process commits is handed to it
    (:meth:`hand`) and sent from memory, in commit order; the poll reads the outbox, page by
    page in seq order, for the rest: rows written with no relay, rows of a relay that died
    (after ORPHANED_AFTER_US), rows this relay let go of.

    One rule keeps this process from sending a row twice (:func:`left_behind`): a row of this
    relay is the memory's if handed over before the orphan cutoff (:func:`orphaned_before`)
    and the poll's after; the memory takes no transaction whose oldest event is past the cutoff
    (one handed over late, as a commit retried through a failover is: all of it is the poll's),
    and the poll leaves alone the rows the memory holds (from their commit until their delete,
    or a failed send, which keeps them held to be sent again) and this relay's own younger rows
    (their commit may not have handed them over yet).

    The memory publishes later transactions while earlier batches await their confirms, up to
    ``in_flight`` batches (:mod:`shared.outbox_in_flight`), and deletes confirmed batches in
    the order they were published. At a batch that failed it launches nothing more, and sends
    again, once every batch in flight ended, everything from the failed batch on, in order.

    Letting go of the memory changes :attr:`current_id`: what was held, and what transactions
    still open under the old id commit, is then the poll's, and the memory waits until a scan
    from the start of the outbox to its end saw none of it. The poll sends what was let go of
    in emit order (seq); a transaction under an old id that commits only after the memory went
    on is sent as left behind, after ORPHANED_AFTER_US, and so after newer events.

    A scan that began more than ORPHANED_AFTER_US ago starts again from the start: at a page a
    poll, under steady load it would never reach the end (every page full), and a row left
    behind since, or one committed behind its place (on MongoDB a seq is taken before the
    commit), would wait. A scan after a let-go reads its pages back to back and is not cut
    short (the memory waits for its end); a row it passed by is sent as left behind.

    A row that cannot be read (a poisoned one) is logged with its id and skipped by this
    process, left in the outbox; a row without a seq is never read (:data:`SCAN_FLOOR`); a
    batch that the broker keeps refusing is logged with its ids.
    """

    def __init__(
        self,
        store: Store,
        broker: Broker,
        *,
        batch: int = 200,
        idle_poll: float = 1.0,
        held_limit: int = HELD_LIMIT_BYTES,
        in_flight: int = IN_FLIGHT_BATCHES,
    ) -> None:
        # The id transactions write their rows under (UnitOfWork reads it as each one begins);
        # it changes when the relay lets go of its memory.
        self.current_id = uuid.uuid4().hex
        self._store = store
        self._broker = broker
        self._batch = batch
        self._idle_poll = idle_poll
        self._held_limit = held_limit
        # Committed here and not yet confirmed and deleted, in commit order; a batch stays in
        # it while it is sent, and again after a failed send, to be sent again.
        self._held: dict[str, Outgoing] = {}
        self._held_bytes = 0
        self._wake = asyncio.Event()
        # The batches published from memory and not yet settled: the first ``_sending`` held
        # events, in order (fewer after a let-go, when what they held is the poll's).
        self._in_flight = InFlight(in_flight, on_end=self._wake.set)
        self._sending = 0
        self._let_go: set[str] = set()  # earlier ids of this relay, whose rows the poll sends
        # The poll's place in its scan of the outbox (the seq it read up to; SCAN_FLOOR: the
        # start) and whether this scan met a row let go of (the memory waits for a scan that
        # did not).
        self._scan_after = SCAN_FLOOR
        self._scan_met_let_go = False
        self._mid_scan = False  # a full page was read: the scan goes on
        self._page = batch  # rows a read asks for: wider while one seq fills a whole page
        self._let_go_generation = 0  # a page read across a let-go cannot vouch for the scan
        self._scan_began = 0.0  # monotonic time of the scan's first page
        self._poisoned: set[str] = set()  # ids of rows that cannot be read: left in the outbox
        # Rows the poll sent and the broker confirmed whose delete failed: deleted again before
        # the next page is read (or on stop), not sent again.
        self._undeleted: dict[str, Outgoing] = {}
        self._failing: tuple[str, int] = ("", 0)  # the first id of a failing batch, and how often
        self._poll_due = time.monotonic() + idle_poll
        self._stop_requested = asyncio.Event()
        self._send_the_rest_by = 0.0  # loop time, set by stop()
        self._task: asyncio.Task[None] | None = None

    def hand(self, events: Sequence[Outgoing]) -> None:
        """The events one transaction of this process committed, in their order: all of them
        held, or (written under an id let go of, or committed late) all left to the poll."""
        if not events:
            return
        oldest = events[0]  # one transaction: one relay id, and the smallest seq
        if oldest.relay != self.current_id:
            self._refuse(events, "let_go")
        elif left_behind(oldest.seq, orphaned_before()):
            # Committed late (a commit retried through a failover, a transaction longer than
            # the cutoff): past it the poll may have sent some of it already, and sends it all.
            self._refuse(events, "late")
        else:
            for event in events:
                # One event larger than the limit is held on its own: letting go would gain
                # nothing, the poll would read it back whole.
                if self._held and self._held_bytes + len(event.body) > self._held_limit:
                    self._let_go_of_memory()  # the rest of the transaction goes with it
                    break
                self._held[event.id] = event
                self._held_bytes += len(event.body)
        self._wake.set()

    @staticmethod
    def _refuse(events: Sequence[Outgoing], why: str) -> None:
        # Not an error: the rows are in the outbox, and the poll sends them (a little later).
        log.info("outbox.relay_left_to_poll", why=why, ids=[event.id for event in events])

    def _let_go_of_memory(self) -> None:
        log.warning("outbox.relay_let_go", held=len(self._held), held_bytes=self._held_bytes)
        self._let_go.add(self.current_id)
        self.current_id = uuid.uuid4().hex
        self._held.clear()
        self._held_bytes = 0
        self._sending = 0
        # What it held may lie behind the scan's place: the scan starts again, in seq order.
        self._let_go_generation += 1
        self._start_scan()

    def _start_scan(self) -> None:
        self._scan_after, self._scan_met_let_go = SCAN_FLOOR, False
        self._mid_scan, self._page = False, self._batch

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Sends what is held and ends the relay within STOP_SECONDS, never raising: past
        them it is cancelled and what is unsent stays in the outbox."""
        self._send_the_rest_by = asyncio.get_running_loop().time() + (
            STOP_SECONDS * _SEND_THE_REST_SHARE
        )
        self._stop_requested.set()
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, timeout=STOP_SECONDS)
        except TimeoutError:
            log.warning("outbox.relay_stop_cancelled", after_s=STOP_SECONDS)
        except asyncio.CancelledError:
            # The relay's task was cancelled by someone else: it has ended, as asked. A cancel
            # aimed at the caller of stop() goes on to it.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    async def _run(self) -> None:
        try:
            await self._relay_until_stopped()
            await self._send_the_rest()
        finally:
            self._in_flight.cancel()  # out of time: what is unsent stays in the outbox

    async def _relay_until_stopped(self) -> None:
        backoff = 0.1
        while not self._stop_requested.is_set():
            # Cleared before the rows are taken, not after they are sent: a commit, or a
            # batch's confirms, that wake the relay meanwhile are seen at once.
            self._wake.clear()
            try:
                with collector_held():
                    _, polled = await self._relay_batch(wait=False)
                backoff = 0.1
            except Exception as exc:
                # Never let the relay die: the rows stay in the outbox and are tried again.
                if isinstance(exc, BrokerUnavailable | StorageError):
                    log.warning(
                        "outbox.relay_failed",
                        error_type=type(exc).__name__,
                        error=str(exc),
                        retry_in=backoff,
                    )
                else:
                    log.exception("outbox.relay_error", retry_in=backoff)
                with suppress(TimeoutError):  # a stop ends the wait
                    await asyncio.wait_for(self._stop_requested.wait(), timeout=backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            # Round again at once only while the poll has pages to read, or the memory waits
            # for a scan that finds nothing let go of left (each scan that found some sent it):
            # what the memory launched goes on without the loop, and its end wakes the loop.
            scan_goes_on = self._memory_paused and not self._in_flight
            if polled < self._batch and not scan_goes_on:
                with suppress(TimeoutError):
                    # The poll catches rows committed by another process sharing the store.
                    await asyncio.wait_for(self._wake.wait(), timeout=self._idle_poll)
            else:
                await asyncio.sleep(0)  # a store's read may not yield: the loop's other work

    async def _send_the_rest(self) -> None:
        """On stop, what this process committed goes out now rather than when a relay of
        another process takes it over as left behind; what fails, or is not sent by the time
        stop() allows, stays in the outbox."""
        try:
            async with asyncio.timeout_at(self._send_the_rest_by):
                with collector_held():
                    # First the poll's confirmed rows whose delete failed: the next relay to
                    # read them would send them again.
                    await self._delete_confirmed()
                    await self._settle_all()
        except Exception as exc:  # TimeoutError too: out of time
            unsent = {
                "left": len(self._held),
                "sent_not_deleted": len(self._undeleted),
                "error_type": type(exc).__name__,
            }
            if isinstance(exc, TimeoutError | BrokerUnavailable | StorageError):
                log.warning("outbox.relay_stopped_unsent", error=str(exc), **unsent)
            else:
                log.exception("outbox.relay_stopped_unsent", **unsent)

    async def relay_once(self) -> int:
        """One pass of the relay, waiting for what it sends: the batches the window takes from
        memory (each up to ``batch`` events) are sent, confirmed and deleted, then the outbox
        is polled if nothing was or a poll is due. Returns how many events it sent."""
        # Rows may be large events (a catalog's changes: some 15,000 containers per MiB read
        # back); the collector's passes over them cost the relay more than reading them did.
        # Their references free them all when the batch is done (shared/collector.py); a
        # publish gives up after its timeout, so the hold never outlasts a pass's sends.
        with collector_held():
            return sum(await self._relay_batch(wait=True))

    async def _relay_batch(self, *, wait: bool) -> tuple[int, int]:
        """Settles the batches whose confirms came, publishes what is held and not yet in
        flight (and, with ``wait``, waits until all of it is settled), and polls the outbox
        when the memory had nothing to do or a poll is due. Returns how many events it began
        to send from memory, and how many the poll sent."""
        settled = await self._settle()
        launched = 0 if self._memory_paused else self._launch()
        if wait:
            await self._in_flight.all_ended()
            settled += await self._settle()
        if self._memory_paused and self._in_flight:
            # Let go of while batches were in flight: their rows are the poll's now, and are
            # read only after those batches ended (and deleted the rows they got confirmed).
            return launched, 0
        # Let go of, the memory sends nothing until the poll's scan went through the outbox.
        idle = self._memory_paused or not (settled or launched or self._in_flight)
        if idle or time.monotonic() >= self._poll_due:
            return launched, await self._poll()
        return launched, 0

    def _launch(self) -> int:
        """Publishes the held events not yet in flight, in commit order, in batches, as far as
        the window allows."""
        launched = 0
        # Nothing more goes out behind a batch that failed: it is sent again first.
        while self._in_flight.has_room() and not self._in_flight.has_failed():
            start = self._sending
            batch = list(itertools.islice(self._held.values(), start, start + self._batch))
            if not batch:
                break
            self._in_flight.launch(batch, self._publish)
            self._sending += len(batch)
            launched += len(batch)
        return launched

    async def _settle(self) -> int:
        """Deletes the rows of the confirmed batches at the head of the window, in one commit,
        and lets go of them. At a batch that failed, waits for every batch after it to end and
        raises: all of them are sent again, from the failed one on, in order."""
        ended = self._in_flight.ended_at_head()
        confirmed = list(itertools.takewhile(lambda batch: batch.failure() is None, ended))
        events = [event for batch in confirmed for event in batch.events]
        if events:
            await self._delete(events)
            self._in_flight.drop_head(len(confirmed))
            for batch in confirmed:
                self._note_success(batch.events)
            for event in events:
                if self._held.pop(event.id, None) is not None:  # not let go of meanwhile
                    self._held_bytes -= len(event.body)
                    self._sending -= 1
        if len(confirmed) < len(ended):
            failed = ended[len(confirmed)]
            await self._in_flight.all_ended()
            self._in_flight.clear()
            self._sending = 0
            self._note_failure(failed.events)
            raise failed.failure() or BrokerUnavailable("publish failed")
        return len(events)

    async def _settle_all(self) -> None:
        """Sends what is held, and waits until every batch in flight is settled (on stop)."""
        while True:
            await self._settle()
            if not self._memory_paused:
                self._launch()
            if not self._in_flight:
                return
            await self._in_flight.head_ended()

    async def _poll(self) -> int:
        """Reads the next page of the outbox (a scan goes on from where the last page ended,
        so rows the memory holds or another instance's young rows never hide the rest), once
        the rows of its last sends are deleted (a failed delete raises here, before the read)."""
        await self._delete_confirmed()
        now = time.monotonic()
        self._poll_due = now + self._idle_poll
        if self._scan_overdue(now):
            self._start_scan()  # what is behind its place would wait for it: from the start
        if not self._mid_scan:
            self._scan_began = now
        page, generation = self._page, self._let_go_generation
        above = ("seq", self._scan_after)
        found = await self._store.find(OUTBOX.name, order_by="seq", limit=page, above=above)
        if self._let_go_generation != generation:
            # Let go of the memory while reading: the page may hold rows of batches still in
            # flight, no longer held; the scan has started again, and waits for them to end.
            return 0
        events = self._polled(found)
        # Noted before the send: rows sent whose delete then failed are not read back.
        if any(event.relay in self._let_go for event in events):
            self._scan_met_let_go = True
        await self._send(events)
        if self._let_go_generation != generation:
            return len(events)  # let go of the memory meanwhile: the scan has started again
        if len(found) == page:
            self._go_on_after(found)
            return len(events)
        # The scan reached the end of the outbox.
        if self._memory_paused and not self._scan_met_let_go:
            # None of what was let go of is left: the memory goes on.
            self._let_go.clear()
            self._wake.set()
        self._start_scan()
        return len(events)

    def _go_on_after(self, page: Sequence[Doc]) -> None:
        """The next page of a scan starts after the largest seq strictly below this full
        page's largest one: rows of another process may share that seq (a seq is unique within
        a process only), and the limit may have cut them off. A page all of one seq is read
        again from the same place, twice as wide, until it reaches a larger seq."""
        self._mid_scan = True
        # A seq that is not an integer (a row written by hand) takes no part in the place.
        seqs = [seq for row in page if type(seq := row.get("seq")) is int]
        below = [seq for seq in seqs if seq < seqs[-1]] if seqs else []
        if below:
            self._scan_after, self._page = below[-1], self._batch
        else:
            self._page = 2 * len(page)

    def _scan_overdue(self, now: float) -> bool:
        """A scan at a page a poll that began more than ORPHANED_AFTER_US ago."""
        if not self._mid_scan or self._let_go_scan_under_way:
            return False
        return now - self._scan_began > ORPHANED_AFTER_US / 1e6

    @property
    def _memory_paused(self) -> bool:
        """Let go of: the memory sends nothing until a scan of the outbox found none of what
        was let go of left (what it holds since goes out after it)."""
        return bool(self._let_go)

    @property
    def _let_go_scan_under_way(self) -> bool:
        """After a let-go the memory resumes only once a scan reached the end, so the scan's
        pages are read back to back; otherwise one page a poll, so rows the memory holds and
        sends are not read over and over."""
        return self._memory_paused and self._mid_scan

    def _polled(self, found: Sequence[Doc]) -> list[Outgoing]:
        """The rows of a page the poll sends, read one by one: a row that cannot be read is
        logged and skipped from then on, not let stop the rows behind it."""
        orphaned = orphaned_before()
        events = []
        for row in found:
            id = row.get("id")
            if id in self._poisoned:
                continue
            try:
                if self._polls(row, orphaned):
                    events.append(Outgoing.from_row(row))
            except Exception as exc:
                # Left in the outbox, for a fixed release or a person to deal with.
                log.error("outbox.relay_poisoned_row", id=id, error_type=type(exc).__name__)
                self._poisoned.add(str(id))
        return events

    def _polls(self, row: Doc, orphaned: int) -> bool:
        relay = row.get("relay")
        if relay is None or relay in self._let_go:
            return True
        if row["id"] in self._held:
            return False  # the memory sends it
        # Left behind: another process's, or one of ours whose commit raised after it was
        # durable (a store may not know), so it never reached the memory. A younger row of
        # ours may be one whose transaction is about to hand it over.
        return left_behind(row["seq"], orphaned)

    async def _send(self, events: Sequence[Outgoing]) -> None:
        if not events:
            return
        try:
            # Publishes are pipelined on one channel, so the broker keeps their order.
            await asyncio.gather(*(self._publish(event) for event in events))
        except Exception:
            self._note_failure(events)
            raise
        self._note_success(events)
        self._undeleted.update((event.id, event) for event in events)
        await self._delete_confirmed()

    async def _delete_confirmed(self) -> None:
        """Deletes the rows the poll's sends got confirmed (if a delete failed, at the next
        poll or on stop): a row read back before its delete would be sent again."""
        if self._undeleted:
            await self._delete(list(self._undeleted.values()))
            self._undeleted.clear()

    async def _publish(self, event: Outgoing) -> None:
        await self._broker.publish_stored(
            event.body,
            event.routing_key,
            message_id=event.id,
            correlation_id=event.correlation_id,
            message_type=event.type,
            tenant=event.tenant,
            trace=event.trace,
        )

    async def _delete(self, events: Sequence[Outgoing]) -> None:
        if len(events) == 1:
            await self._store.delete(OUTBOX.name, events[0].id)
        else:  # one commit for them all: a crash before it re-sends them all
            async with self._store.transaction() as db:
                for event in events:
                    await db.delete(OUTBOX.name, event.id)

    def _note_success(self, events: Sequence[Outgoing]) -> None:
        # Only the failing batch's own success ends its count: the poll's sends, or the
        # memory's, go on while it fails.
        if self._failing[0] == events[0].id:
            self._failing = ("", 0)

    def _note_failure(self, events: Sequence[Outgoing]) -> None:
        """A batch that fails again and again may hold a message the broker always refuses
        (it is sent again, never skipped): its ids are logged, at the third failure in a row
        and at every tenth after that."""
        first, failures = self._failing
        failures = failures + 1 if first == events[0].id else 1
        self._failing = (events[0].id, failures)
        if failures >= _FAILURES_LOGGED and (failures - _FAILURES_LOGGED) % 10 == 0:
            ids = [event.id for event in events]
            log.error("outbox.relay_batch_keeps_failing", failures=failures, ids=ids)
