"""Ids made one after another sort in the order they were made (by the millisecond), so that
records keyed by them are appended to their indexes instead of landing anywhere in them."""

from __future__ import annotations

import re
import time

import pytest

from shared.contracts import Envelope
from shared.ids import time_ordered_id


def test_an_id_is_32_hex_digits_the_first_12_the_time_in_milliseconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: 1_765_000_000_123_456_789)
    made = time_ordered_id()
    assert re.fullmatch("[0-9a-f]{32}", made)
    assert int(made[:12], 16) == 1_765_000_000_123


def test_ids_of_later_milliseconds_sort_after_earlier_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = []
    for ms in (1_765_000_000_001, 1_765_000_000_002, 1_765_000_001_000, 2_000_000_000_000):
        monkeypatch.setattr(time, "time_ns", lambda ms=ms: ms * 1_000_000)
        made.append(time_ordered_id())
    assert made == sorted(made)


def test_ids_of_one_millisecond_differ_by_their_random_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: 1_765_000_000_000_000_000)
    made = {time_ordered_id() for _ in range(10_000)}
    assert len(made) == 10_000
    assert {m[:12] for m in made} == {f"{1_765_000_000_000:012x}"}


def test_a_message_is_given_a_time_ordered_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: 1_765_000_000_123_000_000)
    envelope = Envelope(type="t", version=1, correlation_id="c", payload={})
    assert int(envelope.id[:12], 16) == 1_765_000_000_123
