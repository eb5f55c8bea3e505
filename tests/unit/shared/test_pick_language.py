"""The language of an Accept-Language header: the first supported one by weight, then order;
a header read before is answered from memory, the same as it was read the first time."""

from __future__ import annotations

import pytest

from shared.i18n import pick_language

HEADERS = [
    (None, "ru"),
    ("", "ru"),
    ("en", "en"),
    ("en-US,en;q=0.9", "en"),
    ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
    ("de;q=1,en;q=0.5,ru;q=0.7", "ru"),
    ("fr, de", "ru"),
    ("en;q=bad, ru;q=0.1", "ru"),
]


@pytest.mark.parametrize(("header", "language"), HEADERS)
def test_the_first_supported_language_by_weight_then_order(
    header: str | None, language: str
) -> None:
    assert pick_language(header) == language
    assert pick_language(header) == language  # again, from memory
    assert pick_language.__wrapped__(header) == language


def test_the_default_is_part_of_what_is_remembered() -> None:
    assert pick_language("fr", "en") == "en"
    assert pick_language("fr") == "ru"
