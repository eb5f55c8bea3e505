"""The PIN policy: random, unique among a tenant's active devices, longer when crowded.

A PIN is what an operator types in 1C, so it is short (4 digits by default). When half of
the current length's space is taken, new PINs get one digit longer, which keeps random
picks cheap and guessing hard.
"""

from __future__ import annotations

import secrets

CROWDED_SHARE = 0.5


def pin_length(active_devices: int, base_length: int) -> int:
    length = base_length
    while active_devices >= CROWDED_SHARE * 10**length:
        length += 1
    return length


def random_pin(length: int) -> str:
    # No leading zero: 1C users read PINs as numbers and drop it.
    first = str(secrets.randbelow(9) + 1)
    rest = "".join(str(secrets.randbelow(10)) for _ in range(length - 1))
    return first + rest


def valid_pin(text: str) -> bool:
    return text.isdigit() and 3 <= len(text) <= 12
