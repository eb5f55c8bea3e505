"""What the wire format cannot carry is found, with its place, before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from services.gateway.wire import ensure_portable, first_unportable


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, -(2**63), 2**64 - 1, 1.5, True, None, "Товар №1", "\U000785ef"]},
        [],
        "",
    ],
)
def test_what_orjson_encodes_passes(value: Any) -> None:
    assert first_unportable(value) is None


@pytest.mark.parametrize(
    ("value", "path", "reason"),
    [
        ({"extra": {"n": 2**64}}, ("extra", "n"), "Integer is out of the 64-bit range"),
        ({"lines": [{"q": 1}, {"q": -(2**63) - 1}]}, ("lines", 1, "q"), "Integer"),
        ({"name": "bad \ud800 text"}, ("name",), "Text holds an unpaired surrogate"),
        ({"extra": {"\udc00": 1}}, ("extra", "\udc00"), "Key holds an unpaired surrogate"),
    ],
)
def test_the_first_unportable_value_is_named(
    value: Any, path: tuple[Any, ...], reason: str
) -> None:
    found = first_unportable(value)
    assert found is not None
    assert found[0] == path
    assert found[1].startswith(reason)


class Body(BaseModel):
    extra: dict[str, Any]


def test_a_body_with_one_is_a_validation_error_naming_the_field() -> None:
    with pytest.raises(RequestValidationError) as refused:
        ensure_portable(Body(extra={"weight": 10**30}))
    [error] = refused.value.errors()
    assert error["loc"] == ("body", "extra", "weight")
    ensure_portable(Body(extra={"weight": 10}))
