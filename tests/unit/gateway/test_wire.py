"""What the wire format cannot carry is found, with its place, before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from services.gateway.wire import ensure_portable, first_unportable
from shared.contracts.uploads import UploadRequested


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


def _upload(**extra: Any) -> UploadRequested:
    header = {"id": "d-1", "accounting_type": "Заказ поставщику", "number": "1"}
    lines = [
        {"line_no": 1, "product_id": "p-1", "planned_qty": "1.5"},
        {"line_no": 2, "product_id": "p-2", "planned_qty": 2, "extra": extra},
    ]
    return UploadRequested.model_validate(
        {
            "request_id": "r-1",
            "process": "purchase-receipt",
            "target": {"kind": "device", "value": "device-1"},
            "documents": [{"header": header, "lines": lines}],
        }
    )


def test_an_upload_whose_lines_are_carried_as_json_passes() -> None:
    ensure_portable(_upload(weight=10, fragile=True, note="Хрупкое"))


@pytest.mark.parametrize(
    ("extra", "key", "reason"),
    [
        ({"weight": 2**64}, "weight", "Integer is out of the 64-bit range"),
        ({"note": "bad \ud800"}, "note", "Text holds an unpaired surrogate"),
    ],
)
def test_a_carried_line_with_one_is_named_at_its_place(
    extra: dict[str, Any], key: str, reason: str
) -> None:
    with pytest.raises(RequestValidationError) as refused:
        ensure_portable(_upload(**extra))
    [error] = refused.value.errors()
    assert error["loc"] == ("body", "documents", 0, "lines", 1, "extra", key)
    assert error["msg"] == reason
