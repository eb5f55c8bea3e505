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
