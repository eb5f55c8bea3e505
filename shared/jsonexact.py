"""JSON read so that numbers keep their exact value: one decoder for every edge that takes
quantities (HTTP request bodies, AMQP envelopes).

1C's ``ЗаписатьJSON`` writes quantities as JSON numbers. Read as floats, ``1.0000000000000001``
would become ``1.0`` and ``12345678901234567890.123`` would lose its last digits, so a number
with a fraction is read as a :class:`~decimal.Decimal` from its own text. A number written with
an exponent (``1e5``) is read as a float, which the quantity rule refuses by its type.
``NaN`` and ``Infinity`` (which JSON does not have, but Python's reader accepts) are refused.

Python's own reader is used (its C scanner), as FastAPI used it for request bodies before;
against orjson, which read AMQP messages before, it takes about 1 to 3 times as long. A fast
path through orjson for bodies without fractions was measured and dropped: finding out costs a
scan of the body nearly as long as reading it, and a body of 1C's almost always has fractions.
tsdx's own messages are different: quantities travel as strings, so a message almost never has
a fraction, and a reader that reads only part of one (a view) needs that part exact only; for
them :func:`loads_plain` and :func:`has_fraction` (see ``shared.contracts.envelope.decode``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import orjson


class NotJSON(ValueError):
    """The text is not JSON tsdx can read; the message says why."""


class NestedTooDeeply(NotJSON):
    """JSON nested deeper than the reader goes (valid JSON, but no request of tsdx's)."""


def _number(text: str) -> Decimal | float:
    if "e" in text or "E" in text:
        return float(text)  # kept recognisable: the quantity rule refuses exponents
    return Decimal(text)


def _no_constants(name: str) -> Any:
    raise NotJSON(f"{name} is not a JSON number")


def loads_exact(body: bytes | str) -> Any:
    """Parse JSON with numbers kept exact: fractions become Decimal, integers int.

    Raises :class:`NotJSON` for anything that is not JSON (including NaN/Infinity and nesting
    deeper than the reader allows)."""
    try:
        return json.loads(body, parse_float=_number, parse_constant=_no_constants)
    except NotJSON:
        raise
    except RecursionError:
        raise NestedTooDeeply("nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, an integer beyond Python's limit
        raise NotJSON(str(exc)) from None


def loads_plain(body: bytes) -> Any | None:
    """The JSON as orjson reads it (several times faster than :func:`loads_exact`), or None
    when orjson cannot read it. A number with a fraction or an exponent, or an integer beyond
    64 bits, comes back as a float: where :func:`has_fraction` finds none, the values are the
    ones :func:`loads_exact` reads. Only the nesting limit differs (1,024 levels here; about
    1,000, less the caller's depth, there)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


# The kinds of number :func:`has_fraction` looks for: a set, as fast to look in as one ``is``.
FLOATS: frozenset[type] = frozenset({float})


def has_fraction(values: Iterable[Any], kinds: frozenset[type] = FLOATS) -> bool:
    """Whether a number of one of ``kinds`` is among ``values`` or anywhere inside them. By
    default a float: a number :func:`loads_plain` read where :func:`loads_exact` reads a
    Decimal, or an integer beyond 64 bits; ``{Decimal, float}`` finds any number
    :func:`loads_exact` read with a fraction or an exponent."""
    # A stack of the containers still to look through, each walked by a for loop, instead of
    # popping and pushing every value (a 20-line routed document's payload: 21 µs against 18).
    stack: list[Iterable[Any]] = [values]
    while stack:
        for value in stack.pop():
            kind = type(value)
            if kind in kinds:
                return True
            if kind is dict:
                stack.append(value.values())
            elif kind is list:
                stack.append(value)
    return False
