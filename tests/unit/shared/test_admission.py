"""When deliveries start (shared/messaging/admission.py): in the order they came, several in a
turn of the event loop while they fit in the budget, then one a turn or two. Pure asyncio: a
ticker counts the loop's turns."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest

from shared.messaging.admission import Admission
from tests.support.event_loop import Turns, busy_for, counting_turns


@pytest.fixture
async def turns() -> AsyncIterator[Turns]:
    async with counting_turns() as counted:
        yield counted


async def _burst(
    admission: Admission, turns: Turns, n: int, work_seconds: float = 0.0
) -> list[tuple[int, int]]:
    """``n`` deliveries arriving in one turn; each notes (turn, index) when it starts, then
    holds the loop for ``work_seconds`` as a handler writing to SQLite would."""
    started: list[tuple[int, int]] = []

    async def delivery(index: int) -> None:
        await admission.admitted()
        started.append((turns.count, index))
        if work_seconds:
            busy_for(work_seconds)  # the handler's work on the loop's thread

    await asyncio.gather(*(delivery(i) for i in range(n)))
    return started


class Line:
    """Deliveries on an admission with no budget (each start takes a turn of its own), each
    holding the loop 1 ms once started, as a handler writing to SQLite does."""

    def __init__(self) -> None:
        self.admission = Admission(budget=0.0)
        self.started: list[object] = []

    async def delivery(self, name: object) -> None:
        await self.admission.admitted()
        self.started.append(name)
        busy_for(0.001)

    def come(self, *names: object) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self.delivery(name)) for name in names]


async def test_cheap_deliveries_start_together_in_one_turn(turns: Turns) -> None:
    started = await _burst(Admission(budget=1.0), turns, 20)
    assert [index for _, index in started] == list(range(20))
    assert len({turn for turn, _ in started}) == 1


async def test_past_the_budget_each_starts_in_a_later_turn_in_the_order_they_came(
    turns: Turns,
) -> None:
    started = await _burst(Admission(budget=0.001), turns, 10, work_seconds=0.002)
    assert [index for _, index in started] == list(range(10))
    at = [turn for turn, _ in started]
    assert all(later > earlier for earlier, later in itertools.pairwise(at)), at


async def test_a_delivery_cancelled_while_it_waits_holds_up_none_after_it() -> None:
    line = Line()
    tasks = line.come(*range(5))
    await asyncio.sleep(0)  # all have come; the first started, the others wait
    tasks[1].cancel()
    tasks[2].cancel()
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
    assert line.started == [0, 3, 4]
    assert [type(r) for r in results[1:3]] == [asyncio.CancelledError] * 2


async def test_one_that_came_later_never_starts_before_one_let_go_and_yet_to_start() -> None:
    line = Line()
    tasks = line.come("first", "waiting")
    await asyncio.sleep(0)  # "first" started, "waiting" waits
    # Deliveries that come turn after turn while "waiting" is let go and starts.
    for n in range(5):
        tasks += line.come(f"later-{n}")
        await asyncio.sleep(0)
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert line.started == ["first", "waiting", *(f"later-{n}" for n in range(5))]


async def test_one_let_go_then_cancelled_before_it_starts_holds_up_none_after_it() -> None:
    line = Line()
    tasks = line.come(*range(4))
    await asyncio.sleep(0)  # the first started, the others wait in line

    def second_let_go() -> bool:
        waiting = line.admission._waiting  # the test looks at the line: nothing else shows it
        return bool(waiting) and waiting[0].done()

    for _ in range(100):
        if second_let_go():
            break
        await asyncio.sleep(0)
    assert second_let_go()
    tasks[1].cancel()  # let go, not yet started
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
    assert line.started == [0, 2, 3]
