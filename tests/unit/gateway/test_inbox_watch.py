"""The long polls' watch: who is woken by which news, what is announced to other instances, and
which news forgets the poll answers the instance holds."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from services.gateway.inbox_summaries import HeldAnswer, InboxSummaries, News
from services.gateway.inbox_watch import CHUNK, InboxWatch
from shared.messaging.broker import BrokerUnavailable
from shared.metrics import INBOX_GREETINGS
from tests.support.waiting import eventually


class Announcements:
    """What the watch publishes on the inbox broadcast (failing when told to)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.failing = False
        self.attempts = 0
        self.alive = True  # the broadcast's channel open
        # While set, a publish waits until it is cleared (or cancelled): a stalled broker.
        self.stalled: asyncio.Event | None = None

    @property
    def announcements(self) -> list[dict[str, Any]]:
        return [news for news in self.sent if "inboxes" in news]

    @property
    def greetings(self) -> list[dict[str, Any]]:
        return [news for news in self.sent if "hello" in news]

    async def devices(self) -> list[str]:
        return sorted(d for news in self.announcements for d in news["inboxes"])

    async def greeted(self) -> int:
        return len(self.greetings)

    async def tried(self) -> int:
        return self.attempts

    async def publish(self, news: dict[str, Any]) -> None:
        self.attempts += 1
        if self.stalled is not None:
            await self.stalled.wait()
        if self.failing:
            raise BrokerUnavailable("broker away")
        self.sent.append(news)


def _watch(
    with_news: set[str] | None = None,
    asked: list[int] | None = None,
    greet_seconds: float = 3600,
    retry_seconds: float = 0.01,
) -> InboxWatch:
    async def check(devices: Sequence[str]) -> set[str]:
        if asked is not None:
            asked.append(len(devices))
        return {d for d in devices if d in (with_news or set())}

    return InboxWatch(
        check,
        summaries=InboxSummaries(100, 3600),
        pack_seconds=0.01,
        retry_seconds=retry_seconds,
        safety_seconds=3600,
        greet_seconds=greet_seconds,
    )


_ANSWER = HeldAnswer.of(News(open=1, unacknowledged=True, withdrawn=False), b"{}", None)


def _held(watch: InboxWatch, *devices: str) -> None:
    """Answers held for these devices, as their polls leave them."""
    for device in devices:
        assert watch.summaries.keep(device, watch.summaries.reading(), _ANSWER)


def _holds(watch: InboxWatch) -> list[str]:
    return [d for d in ("d1", "d2", "d3") if watch.summaries.get(d) is not None]


async def _meet(watch: InboxWatch) -> None:
    """Another instance answers on the broadcast: from now on there is someone to tell."""
    await watch.heard({"from": "another-instance", "hello": False})


async def test_news_of_the_device_wakes_its_poll_and_no_other() -> None:
    watch = _watch()
    with watch.watching("d1") as mine, watch.watching("d2") as other:
        watch.changed("d1")
        assert await mine.wait(5) is True
        assert await other.wait(0.01) is False
    assert watch.waiting_devices == 0


async def test_news_that_came_while_the_poll_read_is_kept_for_its_wait() -> None:
    watch = _watch()
    with watch.watching("d1") as ticket:
        watch.changed("d1")  # before the poll began to wait: e.g. during its store read
        assert await ticket.wait(0.01) is True
        # Taken once: the next wait waits for new news.
        assert await ticket.wait(0.01) is False


async def test_every_poll_of_the_device_is_woken() -> None:
    watch = _watch()
    with watch.watching("d1") as first, watch.watching("d1") as second:
        watch.wake("d1")
        assert [await first.wait(5), await second.wait(5)] == [True, True]


async def test_an_instance_stopping_releases_every_waiting_poll() -> None:
    watch = _watch()
    with watch.watching("d1") as first, watch.watching("d2") as second:
        assert not watch.releasing
        watch.release_all()
        assert [await first.wait(5), await second.wait(5)] == [True, True]
    assert watch.releasing  # a poll that comes now answers without waiting (api/terminal.py)


async def test_changes_are_announced_packed_and_others_announcements_wake_polls() -> None:
    here, there = _watch(), _watch()
    sent = Announcements()
    here.start(sent)
    try:
        await _meet(here)
        for device in ("d1", "d2", "d3"):
            here.changed(device)
        await eventually(sent.devices, until=lambda d: d == ["d1", "d2", "d3"])
        # Changed together: announced in one message.
        assert len(sent.announcements) == 1
        with there.watching("d2") as ticket, there.watching("d9") as unrelated:
            for news in sent.announcements:
                await there.heard(news)
            assert await ticket.wait(5) is True
            assert await unrelated.wait(0.01) is False
    finally:
        await here.stop()


async def test_an_instance_ignores_its_own_announcements() -> None:
    watch = _watch()
    with watch.watching("d1") as ticket:
        await watch.heard({"from": watch.instance, "inboxes": ["d1"]})
        assert await ticket.wait(0.01) is False


async def test_an_announcement_not_understood_wakes_nobody() -> None:
    watch = _watch()
    with watch.watching("d1") as ticket:
        await watch.heard({"inboxes": "d1"})
        await watch.heard({"device": "d1"})
        assert await ticket.wait(0.01) is False


async def test_a_failed_announcement_is_kept_and_sent_again_with_the_next() -> None:
    watch = _watch()
    sent = Announcements()
    sent.failing = True
    watch.start(sent)
    try:
        await _meet(watch)
        await eventually(sent.tried)  # the greeting at start, refused
        tried = sent.attempts
        watch.changed("d1")
        await eventually(sent.tried, until=lambda n: n > tried + 1)  # tried again, refused
        watch.changed("d2")
        sent.failing = False
        # The other instances may hold d1's answer as it was: it is not dropped.
        assert await eventually(sent.devices, until=lambda d: d == ["d1", "d2"]) == ["d1", "d2"]
        assert len(sent.announcements) == 1
    finally:
        await watch.stop()


async def test_the_safety_check_wakes_the_polls_whose_device_has_news_in_one_query_a_chunk() -> (
    None
):
    asked: list[int] = []
    watch = _watch(with_news={"d7"}, asked=asked)
    with watch.watching("d7") as found, watch.watching("d8") as quiet:
        assert await watch.check_now() == 1
        assert await found.wait(5) is True
        assert await quiet.wait(0.01) is False
    assert asked == [2]


async def test_the_safety_check_asks_in_chunks() -> None:
    asked: list[int] = []
    watch = _watch(asked=asked)
    tickets = [watch.watching(f"d{n}") for n in range(CHUNK + 1)]
    for ticket in tickets:
        ticket.__enter__()
    try:
        assert await watch.check_now() == 0
    finally:
        for ticket in tickets:
            ticket.__exit__(None, None, None)
    assert asked == [CHUNK, 1]


async def test_a_reconnect_checks_the_store_at_once() -> None:
    watch = _watch(with_news={"d1"})
    with watch.watching("d1") as ticket:
        watch.missed_some()
        assert await ticket.wait(5) is True


async def test_an_instance_alone_greets_but_announces_nothing() -> None:
    watch = _watch()
    sent = Announcements()
    watch.start(sent)
    try:
        await eventually(sent.greeted)
        assert sent.greetings[0] == {"from": watch.instance, "hello": True}
        with watch.watching("d1") as ticket:
            watch.changed("d1")
            assert await ticket.wait(5) is True  # its own polls are woken all the same
        await _meet(watch)
        watch.changed("d2")  # someone is there now: told
        assert await eventually(sent.devices) == ["d2"]
    finally:
        await watch.stop()


async def test_a_newcomers_hello_is_answered_once_and_its_news_wakes_polls() -> None:
    watch = _watch()
    sent = Announcements()
    watch.start(sent)
    try:
        await eventually(sent.greeted)
        greeted_before = INBOX_GREETINGS._value.get()
        await watch.heard({"from": "newcomer", "hello": True})
        await watch.heard({"from": "newcomer", "hello": True})  # its next greeting: known
        assert [g["hello"] for g in sent.greetings] == [True, False]
        # Counted as sent, so that the bench can tell the timers' messages from the load's.
        assert INBOX_GREETINGS._value.get() == greeted_before + 1
        assert watch.has_peers()
        with watch.watching("d5") as ticket:
            await watch.heard({"from": "newcomer", "inboxes": ["d5"]})
            assert await ticket.wait(5) is True
    finally:
        await watch.stop()


async def test_an_instance_not_heard_for_three_greetings_is_forgotten() -> None:
    watch = _watch(greet_seconds=0.01)
    await _meet(watch)
    assert watch.has_peers()

    async def known() -> bool:
        return watch.has_peers()

    assert await eventually(known, until=lambda still: not still, timeout=5) is False


async def test_an_instance_that_was_alone_tells_every_other_to_forget_when_it_meets_one() -> None:
    # What it changed alone it announced to no one: another may hold those answers as they were.
    watch = _watch()
    sent = Announcements()
    watch.start(sent)
    try:
        watch.changed("d1")  # alone: not announced
        await watch.heard({"from": "newcomer", "hello": True})
        told = await eventually(sent.tried, until=lambda _: bool(sent.announcements))
        assert told and sent.announcements == [{"from": watch.instance, "inboxes": [], "all": True}]
        # Meeting a third while it knows the newcomer: its changes were announced meanwhile.
        await watch.heard({"from": "third", "hello": False})
        watch.changed("d2")
        assert await eventually(sent.devices) == ["d2"]
        assert [n.get("all") for n in sent.announcements] == [True, None]
    finally:
        await watch.stop()


async def test_told_to_forget_by_an_instance_that_was_alone_it_forgets_every_answer() -> None:
    watch = _watch()
    _held(watch, "d1", "d2")
    await watch.heard({"from": "another-instance", "inboxes": [], "all": True})
    assert _holds(watch) == []


async def test_being_told_to_forget_is_sent_again_when_it_failed() -> None:
    watch = _watch()
    sent = Announcements()
    sent.failing = True
    watch.start(sent)
    try:
        await eventually(sent.tried)  # the greeting at start, refused
        tried = sent.attempts
        await watch.heard({"from": "newcomer", "hello": False})
        await eventually(sent.tried, until=lambda n: n > tried + 1)  # refused, tried again
        sent.failing = False
        await eventually(sent.tried, until=lambda _: bool(sent.announcements))
        assert sent.announcements[0]["all"] is True
    finally:
        await watch.stop()


async def test_a_change_here_forgets_the_devices_answer_and_no_other() -> None:
    watch = _watch()
    _held(watch, "d1", "d2")
    watch.changed("d1")
    assert _holds(watch) == ["d2"]


async def test_an_announcement_forgets_the_announced_answers() -> None:
    watch = _watch()
    await _meet(watch)
    _held(watch, "d1", "d2", "d3")
    await watch.heard({"from": "another-instance", "inboxes": ["d1", "d3"]})
    assert _holds(watch) == ["d2"]
    await watch.heard({"from": watch.instance, "inboxes": ["d2"]})  # its own: applied already
    assert _holds(watch) == ["d2"]


async def test_an_instance_heard_first_forgets_every_answer_and_a_known_one_none() -> None:
    watch = _watch()
    _held(watch, "d1", "d2")
    # Its changes before it heard of this instance went unannounced.
    await watch.heard({"from": "newcomer", "hello": True})
    assert _holds(watch) == []
    _held(watch, "d1", "d2")
    await watch.heard({"from": "newcomer", "hello": True})  # its next greeting
    assert _holds(watch) == ["d1", "d2"]


async def test_a_reconnect_forgets_every_answer() -> None:
    watch = _watch()
    _held(watch, "d1", "d2")
    watch.missed_some()
    assert _holds(watch) == []
    await watch.stop()  # the check and the greeting it started


async def test_the_safety_check_forgets_the_answers_of_what_it_finds() -> None:
    watch = _watch(with_news={"d1"})
    _held(watch, "d1", "d2")
    with watch.watching("d1"), watch.watching("d2"):
        assert await watch.check_now() == 1
    assert _holds(watch) == ["d2"]


async def test_a_read_that_raced_news_from_another_instance_is_not_held() -> None:
    watch = _watch()
    await _meet(watch)
    read_from = watch.summaries.reading()  # a poll's store read begins
    await watch.heard({"from": "another-instance", "inboxes": ["d1"]})
    assert not watch.summaries.keep("d1", read_from, _ANSWER)
    assert _holds(watch) == []


# A graceful stop ---------------------------------------------------------------------------


async def test_a_stop_publishes_once_what_is_not_announced_yet() -> None:
    # The announcer waits to try again (a failed publish) when the gateway stops.
    watch = _watch(retry_seconds=3600)
    sent = Announcements()
    watch.start(sent)
    await eventually(sent.greeted)
    await _meet(watch)
    await eventually(sent.tried, until=lambda _: bool(sent.announcements))  # forget everything
    sent.failing = True
    tried = sent.attempts
    watch.changed("d1")
    await eventually(sent.tried, until=lambda n: n > tried)  # refused
    sent.failing = False
    await watch.stop()
    # The other instances would otherwise hold d1's answer as it was until its age ran out.
    assert [news["inboxes"] for news in sent.announcements] == [[], ["d1"]]


async def test_a_stop_sends_again_an_announcement_whose_publish_it_cut_short() -> None:
    watch = _watch()
    sent = Announcements()
    watch.start(sent)
    await _meet(watch)
    await eventually(sent.greeted)
    sent.stalled = asyncio.Event()
    watch.changed("d1")
    await eventually(sent.tried, until=lambda n: n >= 2)  # d1's publish is under way, stalled
    stopping = asyncio.create_task(watch.stop())
    await eventually(sent.tried, until=lambda n: n >= 3)  # the stop's own publish of d1
    sent.stalled.set()
    await stopping
    assert await sent.devices() == ["d1"]


async def test_a_stop_that_cannot_publish_ends_all_the_same() -> None:
    watch = _watch(retry_seconds=3600)
    sent = Announcements()
    sent.failing = True
    watch.start(sent)
    await _meet(watch)
    await eventually(sent.tried, until=lambda n: n >= 2)  # the greeting and "forget": refused
    watch.changed("d1")
    await watch.stop()  # refused once more: logged, and the stop goes on
    assert sent.attempts == 3 and sent.announcements == []


# Greetings that fail --------------------------------------------------------------------


async def test_a_hello_that_failed_is_sent_again_until_it_goes() -> None:
    watch = _watch()
    sent = Announcements()
    sent.failing = True
    watch.start(sent)
    try:
        await eventually(sent.tried, until=lambda n: n >= 2)  # refused, and tried again
        sent.failing = False
        # Not a minute later: until then each instance would think itself alone.
        await eventually(sent.greeted, timeout=5)
        assert sent.greetings[0]["hello"] is True
    finally:
        await watch.stop()


async def test_an_answer_to_a_hello_that_failed_is_sent_again_until_it_goes() -> None:
    watch = _watch()
    sent = Announcements()
    watch.start(sent)
    try:
        await eventually(sent.greeted)
        sent.failing = True
        await watch.heard({"from": "newcomer", "hello": True})
        tried = sent.attempts
        await eventually(sent.tried, until=lambda n: n > tried)  # tried again, refused
        sent.failing = False
        greetings = await eventually(
            sent.greeted, until=lambda n: n >= 2, timeout=5, what="the answer"
        )
        assert greetings == 2 and sent.greetings[1]["hello"] is False
    finally:
        await watch.stop()


async def test_a_hello_after_a_reconnect_that_failed_is_sent_again_until_it_goes() -> None:
    watch = _watch()
    sent = Announcements()
    watch.start(sent)
    try:
        await eventually(sent.greeted)
        sent.failing = True
        watch.missed_some()
        await eventually(sent.tried, until=lambda n: n >= 3)  # refused, and tried again
        sent.failing = False
        await eventually(sent.greeted, until=lambda n: n >= 2, timeout=5)
        assert [g["hello"] for g in sent.greetings] == [True, True]
    finally:
        await watch.stop()


# Held answers and the broadcast ----------------------------------------------------------


async def test_a_held_answer_is_used_only_while_the_broadcast_is_up() -> None:
    watch = _watch()
    sent = Announcements()
    _held(watch, "d1")
    assert watch.held_answer("d1") is None  # not started: no news could reach it
    watch.start(sent)
    try:
        assert watch.held_answer("d1") == _ANSWER
        sent.alive = False  # the channel closed: announcements cannot arrive
        assert watch.held_answer("d1") is None
        sent.alive = True
        assert watch.held_answer("d1") == _ANSWER
    finally:
        await watch.stop()
    assert watch.held_answer("d1") is None


async def test_meeting_an_instance_by_its_forget_everything_forgets_once() -> None:
    watch = _watch()
    _held(watch, "d1")
    mark = watch.summaries.reading()
    await watch.heard({"from": "newcomer", "inboxes": [], "all": True})
    assert _holds(watch) == []
    assert watch.summaries.reading() == mark + 1  # one forgetting, one log line
