"""The PIN policy: lengths, widening when crowded, the shape of a PIN."""

from __future__ import annotations

from itertools import islice

import pytest

from services.registry import pins


@pytest.mark.parametrize(
    ("held", "base", "expected"),
    [
        (0, 4, 4),
        (4499, 4, 4),  # just under half of the 9000 four-digit PINs
        (4500, 4, 5),  # half held: new PINs get a fifth digit
        (44_999, 4, 5),
        (45_000, 4, 6),
        (0, 2, 2),
        (44, 2, 2),
        (45, 2, 3),  # half of the 90 two-digit PINs
        (450, 2, 4),
        (0, 1, 1),
        (4, 1, 1),
        (5, 1, 2),
    ],
)
def test_pin_length_widens_when_half_the_space_is_held(held: int, base: int, expected: int) -> None:
    assert pins.pin_length(held, base) == expected


def test_pin_length_never_exceeds_the_maximum() -> None:
    assert pins.pin_length(10**15, 4) == pins.MAX_LENGTH
    assert pins.pin_length(0, 40) == pins.MAX_LENGTH


def test_space_counts_pins_without_a_leading_zero() -> None:
    assert pins.space(1) == 9
    assert pins.space(4) == 9000


@pytest.mark.parametrize("length", [1, 2, 4, 5, 12])
def test_random_pins_have_the_length_and_no_leading_zero(length: int) -> None:
    drawn = [pins.random_pin(length) for _ in range(300)]

    assert all(len(p) == length and p.isdigit() and p[0] != "0" for p in drawn)
    assert all(pins.valid_pin(p) for p in drawn)


def test_random_pins_spread_over_the_space() -> None:
    drawn = {pins.random_pin(2) for _ in range(2000)}

    # 90 two-digit PINs; 2000 draws miss one with odds of about 90 * e**-22.
    assert len(drawn) == 90


def test_candidates_start_at_the_crowded_length_and_move_on_to_longer_ones() -> None:
    tried = list(islice(pins.candidates(held=45, base_length=2), pins.ATTEMPTS_PER_LENGTH * 2))

    first, second = tried[: pins.ATTEMPTS_PER_LENGTH], tried[pins.ATTEMPTS_PER_LENGTH :]
    assert {len(p) for p in first} == {3}
    assert {len(p) for p in second} == {4}


def test_candidates_end_after_the_longest_length() -> None:
    lengths = [len(p) for p in pins.candidates(held=0, base_length=pins.MAX_LENGTH)]

    assert lengths == [pins.MAX_LENGTH] * pins.ATTEMPTS_PER_LENGTH


@pytest.mark.parametrize("text", ["5546", "1", "123456789012", "0123"])
def test_valid_pins(text: str) -> None:
    assert pins.valid_pin(text)


@pytest.mark.parametrize(
    "text", ["", "12a4", " 1234", "1234567890123", "١٢٣٤", "12²", "-123", "12.3"]
)
def test_anything_else_is_not_a_pin(text: str) -> None:
    assert not pins.valid_pin(text)
