"""JSON read with every number exact: the one place a JSON body is parsed without floats.

1C's ``ЗаписатьJSON`` writes quantities as JSON numbers (``2.250``); read through a float they
could change. Here integers stay ``int``, numbers with a fraction or an exponent become
``Decimal``, and ``NaN``/``Infinity`` become non-finite ``Decimal`` values, so the caller that
takes a number refuses them naming its field.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def loads_exact(text: str | bytes) -> Any:
    """``json.loads`` without floats. Raises ``ValueError`` (malformed JSON, an integer past
    Python's digit limit) or ``RecursionError`` (nested too deep)."""
    return json.loads(text, parse_float=Decimal, parse_constant=Decimal)
