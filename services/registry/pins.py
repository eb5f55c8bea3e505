"""The PIN policy: random, unique among a tenant's devices, longer when crowded.

A PIN is what an operator types in 1C, so it is short (4 digits by default). PINs never start
with a zero (1C users read them as numbers and drop it), so ``length`` digits give
``9 * 10**(length - 1)`` PINs. When half of that space is held, new PINs get one digit longer,
which keeps random picks cheap and guessing hard. Which PINs are held (by an active or blocked
device, or cooling off after retirement) is the registry's question; this module only proposes.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

CROWDED_SHARE = 0.5
MAX_LENGTH = 12
# Random tries at one length before moving to the next; at most half the space is held, so
# running out of tries by bad luck has odds of about 2**-64.
ATTEMPTS_PER_LENGTH = 64


def space(length: int) -> int:
    """How many PINs of this length there are (no leading zero)."""
    return int(9 * 10 ** (length - 1))


def pin_length(held: int, base_length: int) -> int:
    """The length of new PINs when ``held`` PINs of the tenant are taken."""
    length = max(1, min(base_length, MAX_LENGTH))
    while length < MAX_LENGTH and held >= CROWDED_SHARE * space(length):
        length += 1
    return length


def random_pin(length: int) -> str:
    first = str(secrets.randbelow(9) + 1)
    rest = "".join(str(secrets.randbelow(10)) for _ in range(length - 1))
    return first + rest


def candidates(held: int, base_length: int) -> Iterator[str]:
    """Random PINs to try in turn: at the length the crowding calls for, then longer ones.

    Moving on to a longer length also copes with a space crowded by PINs that are cooling off,
    which ``held`` does not count.
    """
    for length in range(pin_length(held, base_length), MAX_LENGTH + 1):
        for _ in range(ATTEMPTS_PER_LENGTH):
            yield random_pin(length)


def valid_pin(text: str) -> bool:
    """Could this be a PIN at all (ASCII digits, not too long)? Anything else misses at once."""
    return text.isascii() and text.isdigit() and 1 <= len(text) <= MAX_LENGTH
