"""A document line as 1C usually sends it, checked without building a model.

A large document is 10,000 lines, almost all of them plain: text already trimmed, a quantity
written in full, no ``null``, an ``extra`` that is empty or flat. For such a line
:func:`plain_line` gives exactly what ``DocumentLine.model_validate(raw).model_dump(mode="json")``
gives, several times faster, and every hop (the gateway's upload, routing's reading of
``upload.requested``, the gateway's reading of ``document.routed``) carries the line as that
JSON instead of a model. Anything it is not sure of it leaves to the model, so a wrong line is
still named by the model's own rules and messages; the two may never disagree on what is
accepted, which tests/unit/shared/test_plain_lines.py checks against the model.

The limits are read from the model's fields, so each rule stays written once, there.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from annotated_types import MaxLen

from shared.contracts.documents import EXPIRY_PATTERN, DocumentLine
from shared.contracts.quantity import FRACTION_DIGITS, INTEGER_DIGITS
from shared.plain_text import plain_text


def _longest(field: str) -> int:
    for rule in DocumentLine.model_fields[field].metadata:
        if isinstance(rule, MaxLen):
            return rule.max_length
    raise LookupError(f"DocumentLine.{field} declares no max_length")


# The texts of a line, their longest and shortest lengths (only the product's id may not be empty).
_TEXTS = tuple(
    (name, _longest(name), 1 if name == "product_id" else 0)
    for name in ("product_id", "name", "article", "unit", "characteristic", "series", "cell")
)
_MOST_BARCODES = _longest("barcodes")
_KEYS = frozenset(DocumentLine.model_fields)
# A line's JSON as the model writes it, in the model's order, with every default filled in.
_DEFAULTS: dict[str, Any] = {
    name: value
    for name, value in DocumentLine.model_construct(line_no=1, product_id="p")
    .model_dump(mode="json")
    .items()
    if name not in ("line_no", "product_id")
}
_EXPIRY = re.compile(EXPIRY_PATTERN.strip("^$"))
# A quantity already written as the model writes it back: no sign, no leading zero, no point
# without digits after it.
_QUANTITY = re.compile(
    rf"(?:0|[1-9][0-9]{{0,{INTEGER_DIGITS - 1}}})(?:\.[0-9]{{1,{FRACTION_DIGITS}}})?"
)
_QUANTITY_LIMIT = 10**INTEGER_DIGITS


def _quantity(value: object) -> str | None:
    if type(value) is str:
        return value if _QUANTITY.fullmatch(value) else None
    if type(value) is int and 0 <= value < _QUANTITY_LIMIT:
        return str(value)
    return None


def _flat(extra: object) -> bool:
    """An ``extra`` the model keeps as it is: texts, whole numbers and booleans, not nested,
    under keys with nothing to trim (the model trims keys, not values)."""
    return type(extra) is dict and all(
        plain_text(k, sys.maxsize) and (type(v) is str or type(v) is int or type(v) is bool)
        for k, v in extra.items()
    )


def _barcodes(codes: object) -> bool:
    return (
        type(codes) is list
        and len(codes) <= _MOST_BARCODES
        and all(plain_text(code, sys.maxsize) for code in codes)
    )


# Every field in the model's order: the line's own values go over these. ``None`` where the
# line must give the field (no check lets it through).
_TEMPLATE: dict[str, Any] = {"line_no": None, "product_id": None, **_DEFAULTS}


def plain_line(raw: object) -> dict[str, Any] | None:
    """The line's JSON as the model writes it when the line is plainly right, or None: let the
    model decide."""
    if type(raw) is not dict or not raw.keys() <= _KEYS:
        return None
    line = {**_TEMPLATE, **raw}
    line_no = line["line_no"]
    if type(line_no) is not int or line_no < 1:
        return None
    for name, longest, shortest in _TEXTS:
        if not plain_text(line[name], longest, shortest):
            return None
    expiry = line["expiry"]
    if type(expiry) is not str or (expiry and not _EXPIRY.fullmatch(expiry)):
        return None
    quantity = line["planned_qty"]
    if type(quantity) is not str or not _QUANTITY.fullmatch(quantity):
        quantity = _quantity(quantity)
        if quantity is None:
            return None
        line["planned_qty"] = quantity
    if "barcodes" not in raw:
        line["barcodes"] = []  # a list of its own: the template's is shared
    elif not _barcodes(line["barcodes"]):
        return None
    if "extra" not in raw:
        line["extra"] = {}
    elif not _flat(line["extra"]):
        return None
    return line


def compact_line(line: dict[str, Any]) -> dict[str, Any]:
    """A checked line's JSON without the fields that hold their default: what the model reads
    back into the same line (``upload.requested`` is written so, a third smaller)."""
    return {name: value for name, value in line.items() if _DEFAULTS.get(name, _NONE) != value}


_NONE = object()
