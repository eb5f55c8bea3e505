"""The long polls waiting in this gateway instance, and the news of inboxes that wakes them
and makes the instance forget the poll answers it holds (inbox_summaries.py).

A waiting poll costs one future and one timer here: no task of its own, and no store read
while it waits. The same news wakes it and drops its device's held answer, in one place
(:meth:`InboxWatch._inbox_changed`), when its device's inbox changes:

- stored by this instance (a routed copy, a withdrawal, copies moved to a replacement, an
  acknowledgement, a result taken or sent back): at once, by :meth:`InboxWatch.changed`, which
  every writer of the inbox calls once its transaction is committed;
- stored by another instance: that instance announces the changed inboxes on the gateways'
  inbox broadcast, several devices a message (at most one message per ``pack_seconds``, so
  that a busy gateway does not pay a message per document), and every instance wakes its
  polls of those devices and forgets their answers. An announcement that could not be sent is
  kept and sent again every ``retry_seconds`` until it goes;
- announced only while other instances are there to hear it: instances greet each other on the
  broadcast (at start, after a reconnect and every ``greet_seconds``), and a gateway that has
  heard no other within ``3 × greet_seconds`` announces nothing, so a lone gateway spends no
  message on its documents. What it changed alone went unannounced, so a gateway that was
  alone tells every instance to forget every answer it holds as soon as it hears another (a
  newcomer's changes before the others' answers reached it, or a lone gateway's before it
  heard the newcomer's greeting); and an instance that hears another for the first time
  forgets every answer it holds itself. A greeting that could not be sent (a hello, an answer
  to one) is sent again every ``retry_seconds`` until it goes, as announcements are;
- stored by an instance that stopped before it announced: a graceful stop publishes what is
  not announced yet once more; after a crash, a message that made the change and was not
  acknowledged yet comes again, is found applied already and announces its inboxes again
  (``Inbox.applied_before``). The announcement is a background publish and acknowledgements
  go in groups, so the message may have been acknowledged first: then nothing comes again;
- the announcement missed (a broker connection that dropped): at once after a reconnect the
  instance forgets every answer it holds, and every ``safety_seconds`` and after a reconnect
  it asks the store which of its waiting devices have a copy waiting or withdrawn, in one
  query per ``CHUNK`` devices (not one per poll), and wakes those (and forgets their answers).
  A held answer is used only while this instance's inbox broadcast is up (announcements can
  reach it), and is at most ``inbox_summaries_seconds`` old in any case: the bound for what
  remains (a publish that stalled, greetings lost both ways, an instance that crashed between a
  change and its announcement after acknowledging the message or taking a terminal's call).

A poll registers before it reads its inbox (:meth:`InboxWatch.watching`), so news that comes
while it reads is kept for its wait and never slips between the read and the wait.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from services.gateway.inbox_summaries import HeldAnswer, InboxSummaries
from shared.logging import get_logger
from shared.messaging.broker import BrokerUnavailable
from shared.metrics import INBOX_GREETINGS, INBOX_NEWS
from shared.tasks import cancel_and_wait

log = get_logger("tsdx.gateway.inbox_watch")

INBOX_EXCHANGE = "tsdx.gateway.inboxes"
# Devices asked about in one query of the safety check (SQLite binds each as a parameter).
CHUNK = 500

# Which of these devices have news in the store (a copy waiting or withdrawn).
NewsCheck = Callable[[Sequence[str]], Awaitable[set[str]]]


class Announcer(Protocol):
    """Where the announcements go: the inbox broadcast (shared/messaging/broadcast.py)."""

    @property
    def alive(self) -> bool:
        """Whether announcements can arrive and none missed is still remembered."""
        ...

    async def publish(self, news: dict[str, Any]) -> None: ...


def _settle(future: asyncio.Future[bool], woken: bool) -> None:
    if not future.done():
        future.set_result(woken)


class Ticket:
    """One poll's place in the watch: woken (its future done) by news of its device."""

    __slots__ = ("device_id", "future")

    def __init__(self, device_id: str, future: asyncio.Future[bool]) -> None:
        self.device_id = device_id
        self.future = future

    async def wait(self, timeout: float) -> bool:
        """Until news of the device (True, also when it came since the last wait began) or
        ``timeout`` seconds (False); then ready for the next wait."""
        future = self.future
        timer = None
        if not future.done():
            timer = future.get_loop().call_later(timeout, _settle, future, False)
        try:
            return await future
        finally:
            if timer is not None:
                timer.cancel()
            # The next read comes after this: news from now on is kept for the next wait.
            self.future = future.get_loop().create_future()


class InboxWatch:
    def __init__(
        self,
        check: NewsCheck,
        *,
        summaries: InboxSummaries[HeldAnswer] | None = None,
        pack_seconds: float = 0.05,
        retry_seconds: float = 1.0,
        safety_seconds: float = 5.0,
        greet_seconds: float = 60.0,
    ) -> None:
        self._check = check
        # The poll answers held here, forgotten by the news that wakes the polls (none held
        # unless given).
        self.summaries: InboxSummaries[HeldAnswer] = (
            InboxSummaries(0, 0.0) if summaries is None else summaries
        )
        self.releasing = False  # stopping: polls answer without waiting (release_all)
        self._pack_seconds = pack_seconds
        self._retry_seconds = retry_seconds
        self._safety_seconds = safety_seconds
        self._greet_seconds = greet_seconds
        # The other instances heard on the broadcast: their id and when (monotonic seconds).
        self._peers: dict[str, float] = {}
        self._greeting: asyncio.Task[None] | None = None
        self._tickets: dict[str, list[Ticket]] = {}
        # Devices whose inbox changed here, not yet announced to the other instances; and
        # whether they are yet to be told to forget every answer (changes made here alone).
        self._unannounced: set[str] = set()
        self._unannounced_all = False
        self._broadcast: Announcer | None = None
        self._announcing: asyncio.Task[None] | None = None
        self._checking: asyncio.Task[None] | None = None
        # Steps of their own (a check or a greeting after a reconnect, a greeting's answer).
        self._background: set[asyncio.Task[Any]] = set()
        # This instance's own announcements come back to it: they have been applied already.
        self.instance = uuid.uuid4().hex

    # Polls ---------------------------------------------------------------------------------

    @contextmanager
    def watching(self, device_id: str) -> Iterator[Ticket]:
        ticket = Ticket(device_id, asyncio.get_running_loop().create_future())
        tickets = self._tickets.setdefault(device_id, [])
        tickets.append(ticket)
        try:
            yield ticket
        finally:
            tickets.remove(ticket)
            if not tickets:
                del self._tickets[device_id]

    @property
    def waiting_devices(self) -> int:
        return len(self._tickets)

    def release_all(self) -> None:
        """The instance is stopping: every waiting poll answers now with what it has, and one
        that comes meanwhile does not wait (its terminal asks again, of another instance or of
        this one restarted), so the server need not wait out the long polls to stop."""
        self.releasing = True
        for tickets in self._tickets.values():
            for ticket in tickets:
                _settle(ticket.future, True)

    def wake(self, device_id: str) -> None:
        """Wake this instance's polls of the device (they read the inbox again)."""
        for ticket in self._tickets.get(device_id, ()):
            _settle(ticket.future, True)

    def _inbox_changed(self, device_id: str) -> None:
        """The device's inbox changed in the store (here or on another instance): its held
        answer is forgotten and its polls read it again."""
        self.summaries.forget(device_id)
        self.wake(device_id)

    def held_answer(self, device_id: str) -> HeldAnswer | None:
        """The answer held for the device, only while this instance hears the inbox broadcast:
        while it is down, the other instances' announcements cannot arrive (what was kept
        meanwhile is forgotten when it comes back, :meth:`missed_some`)."""
        if self._broadcast is None or not self._broadcast.alive:
            return None
        return self.summaries.get(device_id)

    def _forget_all(self, reason: str) -> None:
        """Any inbox may have changed unannounced: every held answer is forgotten."""
        log.info("inbox_summaries.forgotten", reason=reason, held=len(self.summaries))
        self.summaries.forget_all()

    # News ----------------------------------------------------------------------------------

    def changed(self, device_id: str) -> None:
        """The device's inbox changed in the store, here (every writer of the inbox calls this
        once its transaction is committed): forget its held answer, wake its polls here and
        tell the other instances."""
        INBOX_NEWS.labels("here").inc()
        self._inbox_changed(device_id)
        if self._broadcast is None or not self.has_peers():
            return
        self._unannounced.add(device_id)
        self._start_announcing()

    def _start_announcing(self) -> None:
        if self._announcing is None or self._announcing.done():
            self._announcing = asyncio.create_task(self._announce())

    async def _announce(self) -> None:
        while self._broadcast is not None and (self._unannounced or self._unannounced_all):
            if not await self._announce_pending(self._broadcast):
                await asyncio.sleep(self._retry_seconds)
                continue
            # What changes meanwhile goes in the next message.
            await asyncio.sleep(self._pack_seconds)

    async def _announce_pending(self, broadcast: Announcer) -> bool:
        """Publish what is not announced yet, in one message; whether it went. What did not go
        (a failure, or a stop that cancelled the publish) is kept to be sent again: the others
        may hold these inboxes' answers as they were."""
        devices, everything = sorted(self._unannounced), self._unannounced_all
        self._unannounced.clear()
        self._unannounced_all = False
        news: dict[str, Any] = {"from": self.instance, "inboxes": devices}
        if everything:
            news["all"] = True
        sent = False
        try:
            await broadcast.publish(news)
            sent = True
        except BrokerUnavailable as exc:
            log.warning("inbox_news.not_sent", devices=len(devices), error=str(exc))
        finally:
            if not sent:
                self._unannounced.update(devices)
                self._unannounced_all = self._unannounced_all or everything
        return sent

    async def heard(self, news: dict[str, Any]) -> None:
        """A message on the inbox broadcast (from any instance): a greeting or an
        announcement."""
        sender = news.get("from")
        if sender == self.instance:
            return
        met = False  # heard for the first time: every answer is forgotten once, here
        if isinstance(sender, str) and sender:
            alone = not self.has_peers()
            met = sender not in self._peers
            self._peers[sender] = time.monotonic()
            if met:
                # What it changed before it heard of this instance it did not announce here.
                self._forget_all("instance met")
                if alone and self._broadcast is not None:
                    # Nor did this instance announce what it changed alone: the others are told.
                    self._unannounced_all = True
                    self._start_announcing()
                # A newcomer: it learns of this instance at once, not a minute later.
                if news.get("hello") and not await self._greet(hello=False):
                    self._in_background(self._greet_until_sent(hello=False))
        if news.get("hello") is not None:
            return
        devices = news.get("inboxes")
        if not isinstance(devices, list):
            log.warning("inbox_news.not_understood", news=str(news)[:200])
            return
        if news.get("all") is True and not met:  # changed alone: any inbox may have changed
            self._forget_all("told by another instance")
        INBOX_NEWS.labels("announced").inc(len(devices))
        for device_id in devices:
            if isinstance(device_id, str):
                self._inbox_changed(device_id)

    def missed_some(self) -> None:
        """The broker connection came back: announcements sent meanwhile never arrived, and
        the others may have forgotten this instance."""
        self._forget_all("broker reconnected")
        self._in_background(self.check_now())
        self._in_background(self._greet_until_sent(hello=True))

    def _in_background(self, step: Awaitable[Any]) -> None:
        """A step of its own, cancelled at :meth:`stop`."""
        task: asyncio.Task[Any] = asyncio.ensure_future(step)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # The other instances -------------------------------------------------------------------

    def has_peers(self) -> bool:
        """Another instance was heard lately (and may have polls that our news wakes)."""
        forgotten = time.monotonic() - 3 * self._greet_seconds
        for peer in [p for p, at in self._peers.items() if at < forgotten]:
            del self._peers[peer]
        return bool(self._peers)

    async def _greet(self, *, hello: bool) -> bool:
        """Say this instance is here; ``hello`` asks the others who are there to answer.
        Whether it is done (sent, or nothing to send it on any more)."""
        if self._broadcast is None:
            return True
        try:
            await self._broadcast.publish({"from": self.instance, "hello": hello})
        except BrokerUnavailable as exc:
            log.warning("inbox_news.greeting_not_sent", error=str(exc))
            return False
        INBOX_GREETINGS.inc()
        return True

    async def _greet_until_sent(self, *, hello: bool) -> None:
        """Greet, and again every ``retry_seconds`` until it goes: an instance not greeted
        thinks it is alone, announces nothing and holds answers the other changes."""
        while True:
            if await self._greet(hello=hello):
                return
            await asyncio.sleep(self._retry_seconds)

    async def _greet_forever(self) -> None:
        while True:
            await self._greet_until_sent(hello=True)
            await asyncio.sleep(self._greet_seconds)

    # The safety check ----------------------------------------------------------------------

    async def check_now(self) -> int:
        """Wake the waiting polls whose device has news in the store (and forget what is held
        of their inboxes: it missed that news); how many devices."""
        devices = list(self._tickets)
        woken = 0
        for start in range(0, len(devices), CHUNK):
            for device_id in await self._check(devices[start : start + CHUNK]):
                self._inbox_changed(device_id)
                woken += 1
        INBOX_NEWS.labels("safety_check").inc(woken)
        return woken

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(self._safety_seconds)
            try:
                woken = await self.check_now()
            except Exception:  # the store busy or away: the next round tries again
                log.exception("inbox_news.check_failed")
                continue
            if woken:
                log.info("inbox_news.found_by_check", devices=woken)

    # Life ----------------------------------------------------------------------------------

    def start(self, broadcast: Announcer | None) -> None:
        self._broadcast = broadcast
        self._checking = asyncio.create_task(self._check_forever())
        if broadcast is not None:
            self._greeting = asyncio.create_task(self._greet_forever())

    async def stop(self) -> None:
        broadcast, self._broadcast = self._broadcast, None
        await cancel_and_wait(self._checking, self._greeting, *self._background)
        # What is not announced yet goes once more (a publish waits at most the broadcast's
        # publish timeout): the others would otherwise hold these inboxes' answers as they were.
        await cancel_and_wait(self._announcing)
        if broadcast is not None and (self._unannounced or self._unannounced_all):
            await self._announce_pending(broadcast)
