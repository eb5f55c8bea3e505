"""The one text rule both quick checks (document lines, catalog products) share."""

import pytest

from shared.plain_text import plain_text


@pytest.mark.parametrize("value", ["", "Молоко 3%", "A-1", "x" * 10])
def test_a_text_the_model_keeps_as_it_came_is_plain(value: str) -> None:
    assert plain_text(value, 10)


@pytest.mark.parametrize(
    "value",
    [
        " лишний пробел",  # the model would trim it
        "tab\t",
        "\u00a0nbsp",  # Unicode White_Space, trimmed by the model
        "\ud800",  # a lone surrogate, refused by the model
        "x" * 11,  # over the longest
        5,
        None,
        b"bytes",
    ],
)
def test_anything_the_model_would_change_or_refuse_is_left_to_it(value: object) -> None:
    assert not plain_text(value, 10)


def test_the_shortest_length_is_held() -> None:
    assert not plain_text("", 10, shortest=1)
    assert plain_text("a", 10, shortest=1)
