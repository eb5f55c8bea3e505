"""What can be wrong with data exported from 1C, and the check every reader starts with.

An import error is a refusal: a stable code, parameters that name the place (document,
line, field), and a message in Russian (default) or English from ``shared.i18n``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.errors import Refusal
from shared.i18n import render

_SHOWN_VALUE_LIMIT = 60  # an offending value is quoted in the message, but never at length


class OneCImportError(Refusal, ValueError):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, 422, **params)

    def message(self, language: str = "ru") -> str:
        return render(self.code, language, self.params)

    def __str__(self) -> str:
        return self.message()


def shown(value: object) -> str:
    """A value as it may be quoted back to the operator."""
    finite_decimal = isinstance(value, Decimal) and value.is_finite()
    text = format(value, "f") if finite_decimal else str(value)
    return text if len(text) <= _SHOWN_VALUE_LIMIT else text[: _SHOWN_VALUE_LIMIT - 1] + "…"


def decode_utf8(data: bytes | str) -> str:
    """The text of an export; 1C writes UTF-8, often with a byte order mark."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OneCImportError("onec_not_utf8", position=exc.start) from None
    return data.removeprefix("\ufeff")
