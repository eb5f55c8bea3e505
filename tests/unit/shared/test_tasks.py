"""Stopping a part's background tasks: each cancelled and waited for."""

import asyncio

import pytest

from shared.tasks import cancel_and_wait


async def test_every_task_is_cancelled_and_over_when_the_stop_returns() -> None:
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    tasks = [asyncio.create_task(forever()) for _ in range(3)]
    await started.wait()
    await cancel_and_wait(tasks[0], None, *tasks[1:])  # None: a task never started
    assert all(task.done() and task.cancelled() for task in tasks)


async def test_a_task_that_failed_on_its_own_has_its_failure_raised() -> None:
    async def failing() -> None:
        raise RuntimeError("the check broke")

    task = asyncio.create_task(failing())
    await asyncio.wait([task])
    with pytest.raises(RuntimeError, match="the check broke"):
        await cancel_and_wait(task)


async def test_nothing_to_stop_is_no_error() -> None:
    await cancel_and_wait()
    await cancel_and_wait(None)


async def test_every_task_is_waited_for_even_when_one_failed() -> None:
    async def failing() -> None:
        raise RuntimeError("the flush broke")

    started = asyncio.Event()

    async def slow_to_stop() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            for _ in range(3):  # its clean-up takes a few turns of the loop
                await asyncio.sleep(0)

    broken = asyncio.create_task(failing())
    await asyncio.wait([broken])
    slow = asyncio.create_task(slow_to_stop())
    await started.wait()
    with pytest.raises(RuntimeError, match="the flush broke"):
        await cancel_and_wait(broken, slow)
    assert slow.done()  # the failure was raised only once the other had ended too


async def test_a_stop_that_is_itself_cancelled_is_cancelled() -> None:
    started = asyncio.Event()

    async def stubborn() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.Event().wait()  # never ends its clean-up

    task = asyncio.create_task(stubborn())
    await started.wait()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await cancel_and_wait(task)
    task.cancel()
