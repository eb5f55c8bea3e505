"""The one quantity rule of every edge (HTTP, AMQP, 1C import): an exact, bounded decimal.

A quantity is not negative and has at most :data:`INTEGER_DIGITS` digits before the point and
:data:`FRACTION_DIGITS` after it, and is written in full: as a string (``"12.5"``) or a JSON
number read exactly (see :func:`shared.jsonexact.loads_exact`); never with an exponent, never
NaN or Infinity. Anything else is refused with ``quantity_invalid`` before it is accepted, so
the arithmetic behind the edge (sums of many lines, comparisons with the plan) works on numbers
whose size is known and can never overflow. In JSON a quantity is always written back as a
string in full (``"1000000"``, never ``"1E+6"``).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

INTEGER_DIGITS = 15
FRACTION_DIGITS = 6
# The largest quantity there is: 999 999 999 999 999.999999.
_STEP = Decimal(1).scaleb(-FRACTION_DIGITS)
MAX_QUANTITY = Decimal(10**INTEGER_DIGITS) - _STEP

_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
ERROR_TYPE = "quantity_invalid"


# Each way a quantity breaks the rule: its name (said in Russian by shared/i18n_validation.py)
# and its English text.
_PROBLEMS = {
    "not_finite": "is not a finite number",
    "whole_digits": "has more than {digits} digits before the point",
    "fraction_digits": "has more than {digits} digits after the point",
    "exponent": "is written with an exponent: write it in full",
    "float_exponent": 'is written with an exponent: write it in full, e.g. 1500 or "1500"',
    "not_number": "must be a number or a string of digits",
    "not_digits": 'must be written as digits with an optional point, e.g. "12.5"',
    "negative": "is negative",
}


def quantity_problems() -> list[str]:
    """The name of every way a quantity may break the rule."""
    return list(_PROBLEMS)


def quantity_problem(value: Decimal) -> str | None:
    """The name of the way a decimal breaks the quantity rule, or None if it keeps it."""
    if not value.is_finite():
        return "not_finite"
    if not value.is_zero() and value.adjusted() >= INTEGER_DIGITS:
        return "whole_digits"
    if _exponent(value) < -FRACTION_DIGITS and value != value.quantize(_STEP):
        return "fraction_digits"
    if _exponent(value) > 0:
        return "exponent"
    return None


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    return exponent


def _refuse(problem: str) -> PydanticCustomError:
    digits = FRACTION_DIGITS if problem == "fraction_digits" else INTEGER_DIGITS
    reason = _PROBLEMS[problem].format(digits=digits)
    context = {"reason": reason, "problem": problem, "digits": digits}
    return PydanticCustomError(ERROR_TYPE, "quantity {reason}", context)


# A quantity as it is almost always written: digits within the bounds, nothing to trim, round
# or refuse. Such a text or integer is taken as it is (every line of a large document has one).
_PLAIN = re.compile(rf"[0-9]{{1,{INTEGER_DIGITS}}}(?:\.[0-9]{{0,{FRACTION_DIGITS}}})?")
_PLAIN_INT_LIMIT = 10**INTEGER_DIGITS


def to_quantity(value: object) -> Decimal:
    """The quantity ``value`` stands for, or a ``quantity_invalid`` validation error."""
    if type(value) is str and _PLAIN.fullmatch(value):
        return Decimal(value)
    if type(value) is int and 0 <= value < _PLAIN_INT_LIMIT:
        return Decimal(value)
    return _checked_quantity(value)


def _checked_quantity(value: object) -> Decimal:
    """:func:`to_quantity` for anything but the plain cases."""
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        if isinstance(value, float):
            raise _refuse("float_exponent")
        raise _refuse("not_number")
    if isinstance(value, int):
        if abs(value) >= 10**INTEGER_DIGITS:
            raise _refuse("whole_digits")
        if value < 0:  # as a JSON number; the text "-1" is refused below, the same way
            raise _refuse("negative")
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) > INTEGER_DIGITS + FRACTION_DIGITS + 30 or not _TEXT.fullmatch(text):
            raise _refuse("not_digits")
        try:
            value = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern lets only numbers through
            raise _refuse("not_digits") from None
    problem = quantity_problem(value)
    if problem is not None:
        raise _refuse(problem)
    if value < 0:
        raise _refuse("negative")
    if _exponent(value) < -FRACTION_DIGITS:
        value = value.quantize(_STEP)  # only zeros dropped: the rule above checked it
    return abs(value) if value.is_zero() else value  # -0 becomes 0


def _in_full(value: Decimal) -> str:
    return format(value, "f")


Quantity = Annotated[
    Decimal,
    BeforeValidator(to_quantity),
    PlainSerializer(_in_full, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "pattern": rf"^\s*\+?(\d{{1,{INTEGER_DIGITS}}}(\.\d{{0,{FRACTION_DIGITS}}})?"
                    rf"|\.\d{{1,{FRACTION_DIGITS}}})\s*$",
                },
                {"type": "number", "minimum": 0},
            ],
            "description": (
                f"An exact decimal, not negative: at most {INTEGER_DIGITS} digits before the "
                f"point and {FRACTION_DIGITS} after, written in full (no exponent); a JSON "
                "number is read "
                "exactly. Written back as a string."
            ),
        }
    ),
]
