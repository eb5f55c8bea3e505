"""A refusal: a stable code, parameters for its message, and the HTTP status it maps to."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class Refusal(Exception):
    def __init__(self, code: str, status: int = 422, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.params = params

    def __repr__(self) -> str:
        return f"Refusal({self.code!r}, {self.params!r})"


def describe(exc: ValidationError, *, limit: int = 3, root: str = "(root)") -> str:
    """The first few problems of a validation error, as ``field.path: reason; ...``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in err['loc']) or root}: {err['msg']}"
        for err in exc.errors()[:limit]
    )
