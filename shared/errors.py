"""A refusal: a stable code, parameters for its message, and the HTTP status it maps to."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from shared.i18n_validation import validation_reason


class Refusal(Exception):
    def __init__(self, code: str, status: int = 422, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.params = params
        self.said_as = code  # the message's key: see worded_as

    def worded_as(self, key: str) -> Refusal:
        """The same refusal, its message the one of ``key``: one code (what clients act on)
        worded for what was refused, e.g. a wrong admin token is ``unauthorized``, said as
        such. For HTTP answers only: an RPC refusal carries its code and params, not this."""
        self.said_as = key
        return self

    def __repr__(self) -> str:
        return f"Refusal({self.code!r}, {self.params!r})"


def describe(
    problems: ValidationError | Sequence[Mapping[str, Any]],
    language: str = "en",
    *,
    limit: int = 3,
    root: str = "(root)",
) -> str:
    """The first few problems of a validation error, as ``field.path: reason; ...`` in
    ``language``, and how many more there are (``(+2)``)."""
    errors = problems.errors() if isinstance(problems, ValidationError) else problems
    said = [
        f"{field_path(err) or root}{_counted_from_one(err, language)}: "
        f"{validation_reason(err, language)}"
        for err in errors[:limit]
    ]
    if len(errors) > limit:
        said.append(f"(+{len(errors) - limit})")
    return "; ".join(said)


def carried(
    exc: ValidationError, *, root: str = "(root)", prefix: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """A validation error's problems as a refusal carries them across the broker (JSON):
    pydantic's ``loc``, ``type``, ``ctx`` and ``msg``, so that the edge says them in its
    reader's language (``describe``). A problem of the whole value is placed at ``root``;
    ``prefix`` goes before every place (``processes[3]``)."""
    return [
        {
            "loc": [*prefix, *(err["loc"] or (root,))],
            "type": err["type"],
            "ctx": {name: plain(value) for name, value in (err.get("ctx") or {}).items()},
            "msg": err["msg"],
        }
        for err in exc.errors()
    ]


def plain(value: Any) -> Any:
    """A rule's value as JSON carries it: a number or text as it is, anything else its text."""
    return value if isinstance(value, int | float | str | bool) else str(value)


# Lists whose items a Russian reader counts from one, as 1C numbers them: the place aside.
_COUNTED_RU = {"documents": "документ {n}", "lines": "{n}-я строка"}


def _counted_from_one(error: Mapping[str, Any], language: str) -> str:
    """Where a problem is, counted as 1C counts (``lines.2`` is «3-я строка»): an aside in
    Russian after the path, which stays as the program reads it; "" where nothing is counted."""
    if language == "en":
        return ""
    loc = list(error.get("loc", ()))
    said = [
        _COUNTED_RU[name].format(n=index + 1)
        for name, index in itertools.pairwise(loc)
        if name in _COUNTED_RU and isinstance(index, int)
    ]
    return f" ({', '.join(said)})" if said else ""


def field_path(error: Mapping[str, Any]) -> str:
    """Where a validation error is, as ``documents.0.lines``; a body that is not JSON is the
    body (FastAPI places it at the character, which its reason says)."""
    if error.get("type") == "json_invalid":
        return str(error["loc"][0]) if error.get("loc") else ""
    return ".".join(str(part) for part in error["loc"])
