"""The poll's ``wait`` and ``known`` read directly are what :class:`InboxQuery` reads; whatever
the direct reading does not take is the model's, refused with its errors."""

from __future__ import annotations

import pytest
from fastapi.exceptions import RequestValidationError

from services.gateway.api.terminal import InboxQuery, _wait_and_known
from shared.http import query_from

TAKEN = [
    {},
    {"wait": "0"},
    {"wait": "30", "known": "3"},
    {"wait": "60", "known": "0"},
    {"wait": "007", "known": "0012"},
    {"known": "123456789"},
    {"wait": "5", "extra": "x"},
    {"wait": "1.5"},  # not whole: the model reads it
    {"known": "1234567890123"},  # too long to be read here: the model reads it
]
REFUSED = [
    {"wait": "61"},
    {"wait": "-1"},
    {"wait": ""},
    {"known": "1.5"},
    {"known": "-2"},
    {"wait": "soon"},
    {"wait": "²"},  # a digit to str.isdigit, not to int()
    {"wait": "１"},  # a full-width digit
]


@pytest.mark.parametrize("params", TAKEN)
def test_what_is_read_is_what_the_model_reads(params: dict[str, str]) -> None:
    model = query_from(InboxQuery, params)
    assert _wait_and_known(params) == (model.wait, model.known)


@pytest.mark.parametrize("params", REFUSED)
def test_what_the_model_refuses_is_refused_with_its_errors(params: dict[str, str]) -> None:
    with pytest.raises(RequestValidationError) as by_model:
        query_from(InboxQuery, params)
    with pytest.raises(RequestValidationError) as refused:
        _wait_and_known(params)
    assert refused.value.errors() == by_model.value.errors()
