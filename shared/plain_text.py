"""The one rule for a text that the quick checks (a document line, a catalog product) may take
without a model: what the model would keep exactly as it came.

Anything else (a text to trim, a lone surrogate, a length out of bounds) is left to the model,
which names the fault in its own words.
"""

from __future__ import annotations


def plain_text(value: object, longest: int, shortest: int = 0) -> bool:
    """A text of ``shortest``..``longest`` characters, with nothing to trim and no lone
    surrogate (JSON's ``"\\ud800"`` escape), which the model refuses."""
    # ``strip()`` trims what either pydantic (Unicode White_Space) or Python calls space; when
    # there is nothing to trim the comparison is an identity check.
    return (
        type(value) is str
        and shortest <= len(value) <= longest
        and value == value.strip()
        and (value.isascii() or _encodable(value))
    )


def _encodable(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True
