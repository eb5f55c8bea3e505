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
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


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
