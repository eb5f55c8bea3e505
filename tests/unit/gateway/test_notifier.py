"""The notifier wakes what waits in this process: news given while a key is watched is kept
until it is waited for, and a wait without news ends at its timeout."""

from __future__ import annotations

import asyncio

from services.gateway.notifier import Notifier, set_within


async def test_news_given_before_the_wait_is_not_missed() -> None:
    notifier = Notifier()
    with notifier.watching("upload:1") as news:
        notifier.notify("upload:1")  # e.g. the decision stored while the publish was confirmed
        assert await set_within(news, 10.0)


async def test_a_wait_without_news_ends_at_its_timeout_unset() -> None:
    notifier = Notifier()
    with notifier.watching("upload:1") as news:
        notifier.notify("upload:2")  # another key's news
        assert not await set_within(news, 0.01)


async def test_a_waiter_is_woken_by_news_given_meanwhile_and_forgotten_after() -> None:
    notifier = Notifier()
    waiting = asyncio.create_task(notifier.wait("upload:1", 10.0))
    for _ in range(100):  # the task's first steps, up to its wait
        if "upload:1" in notifier._waiters:
            break
        await asyncio.sleep(0)
    notifier.notify("upload:1")
    assert await waiting
    assert "upload:1" not in notifier._waiters


async def test_news_carries_what_was_stored_and_keeps_it_past_news_without() -> None:
    notifier = Notifier()
    with notifier.watching("upload:1") as news:
        assert news.stored is None
        notifier.notify("upload:1", {"status": "accepted"})
        assert await set_within(news, 10.0)
        news.clear()
        notifier.notify("upload:1")  # news that says nothing of what was stored
        assert news.is_set() and news.stored == {"status": "accepted"}
