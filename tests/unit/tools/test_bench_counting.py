"""The bench probes' counting handler: done at its number, and a deadline when short of it."""

from __future__ import annotations

import pytest

from shared.contracts import wrap
from shared.contracts.results import DocumentLoaded
from tools.bench.counting import CountUntil


async def _hand(counter: CountUntil, messages: int) -> None:
    payload = DocumentLoaded(document_id="d")
    for _ in range(messages):
        await counter(wrap(payload, "t"), payload)


async def test_the_wait_ends_once_the_number_has_come() -> None:
    counter = CountUntil(3)
    await _hand(counter, 3)
    await counter.wait(1)
    assert counter.count == 3


async def test_short_of_the_number_the_wait_ends_at_its_deadline() -> None:
    counter = CountUntil(3)
    await _hand(counter, 2)
    with pytest.raises(TimeoutError):
        await counter.wait(0.05)
    assert counter.count == 2


def test_a_count_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="1 or more, not 0"):
        CountUntil(0)
