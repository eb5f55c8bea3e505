"""The one quantity rule of every edge, and the exact JSON reader behind it."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from shared.contracts import MalformedMessage, decode
from shared.contracts.documents import DocumentLine, FactLine
from shared.contracts.quantity import MAX_QUANTITY
from shared.contracts.results import ResultSubmitted
from shared.jsonexact import NestedTooDeeply, NotJSON, loads_exact


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("12.5", "12.5"),
        (" 7 ", "7"),
        (12, "12"),
        ("999999999999999.999999", "999999999999999.999999"),
        ("0.000001", "0.000001"),
        ("1.50000000", "1.500000"),  # zeros beyond six places are only zeros
        ("-0", "0"),
        (".5", "0.5"),
        (Decimal("123456789012345.123456"), "123456789012345.123456"),
    ],
)
def test_quantities_within_the_rule_are_kept_exactly(given: Any, kept: str) -> None:
    line = FactLine(product_id="p", quantity=given)
    assert line.model_dump(mode="json")["quantity"] == kept


@pytest.mark.parametrize(
    "given",
    [
        "1e1000000",
        "1e999999999",
        "1E+5",
        "1000000000000000",  # 16 digits before the point
        10**15,
        "0.0000001",  # 7 after
        "NaN",
        "Infinity",
        Decimal("NaN"),
        Decimal("1E+1000000"),
        1.5,  # a float: how a number written with an exponent arrives
        "-1",
        -1,  # as a JSON number (1C's ЗаписатьJSON writes numbers so)
        -(10**14),
        Decimal("-2.5"),
        True,
        "",
        "1,5",
        "12 kg",
    ],
)
def test_quantities_beyond_the_rule_are_refused_with_their_own_code(given: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        DocumentLine(line_no=1, product_id="p", planned_qty=given)
    assert refused.value.errors()[0]["type"] == "quantity_invalid"


def test_max_quantity_is_the_largest_value_the_rule_accepts() -> None:
    assert FactLine(product_id="p", quantity=MAX_QUANTITY).quantity == MAX_QUANTITY
    assert format(MAX_QUANTITY, "f") == "999999999999999.999999"


@pytest.mark.parametrize(
    ("body", "number"),
    [
        (b'{"q": 1.0000000000000001}', Decimal("1.0000000000000001")),
        (b'{"q": 12345678901234567890.123}', Decimal("12345678901234567890.123")),
        (b'{"q": 123456789012345678901234567890}', 123456789012345678901234567890),
        (b'{"q": 42}', 42),  # the fast path: no fraction anywhere
        (b'{"q": 1e5}', 100000.0),  # an exponent stays recognisable as such
    ],
)
def test_json_numbers_are_read_exactly(body: bytes, number: Any) -> None:
    value = loads_exact(body)["q"]
    assert value == number and type(value) is type(number)


@pytest.mark.parametrize("body", [b'{"q": NaN}', b'{"q": Infinity}', b'{"q": -Infinity}', b"{"])
def test_what_json_does_not_have_is_refused(body: bytes) -> None:
    with pytest.raises(NotJSON):
        loads_exact(body)


@pytest.mark.parametrize(
    "body", [b"[" * 100_000 + b"]" * 100_000, b"[" * 5000 + b"1.5" + b"]" * 5000]
)
def test_deep_nesting_is_its_own_refusal(body: bytes) -> None:
    # The reader's limit is the interpreter's recursion limit, 1,000 in every service;
    # hypothesis raises it while it runs its own tests in this process.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        with pytest.raises(NestedTooDeeply):
            loads_exact(body)
    finally:
        sys.setrecursionlimit(limit)


def _envelope(quantity: str) -> bytes:
    line = '{"line_no": 1, "product_id": "p", "quantity": ' + quantity + "}"
    payload = (
        '{"result_id": "r", "delivery_id": "d", "channel": "internet", "final": true, '
        '"lines": [' + line + "]}"
    )
    return (
        '{"type": "result.submitted", "version": 1, "correlation_id": "c", "tenant": "t", '
        '"payload": ' + payload + "}"
    ).encode()


def test_amqp_messages_read_json_number_quantities_exactly() -> None:
    _, payload = decode(_envelope("123456789012345.000001"))
    assert isinstance(payload, ResultSubmitted)
    assert payload.lines[0].quantity == Decimal("123456789012345.000001")


@pytest.mark.parametrize("quantity", ['"1e1000000"', "1e5", "1.0000000000000001", "NaN"])
def test_amqp_messages_beyond_the_quantity_rule_are_malformed(quantity: str) -> None:
    with pytest.raises(MalformedMessage):
        decode(_envelope(quantity))
