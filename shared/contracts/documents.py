"""Documents as they travel between the accounting system, tsdx and the terminals.

Quantities are exact, bounded decimals (1C counts in fractions of kilograms and metres; see
:mod:`shared.contracts.quantity`); in JSON they are written as strings so nothing is lost to
floating point. Dates from 1C often carry no time
zone and are kept as the accounting system wrote them.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field

from shared.contracts.absent import NullMeansAbsent
from shared.contracts.quantity import Quantity

Channel = Literal["internet", "lan"]
TargetKind = Literal["pin", "device", "everyone", "group", "user"]
DeviceMode = Literal["online", "offline"]

_ID = Field(min_length=1, max_length=200)

# Free-form data of the accounting system or the terminal may nest this deep: far more than
# any real property list, and well within what every hop encodes (orjson stops at 255).
EXTRA_MAX_DEPTH = 32


def _depth(value: Any) -> int:
    """How many objects and lists nest inside one another in ``value``, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _shallow(extra: dict[str, Any]) -> dict[str, Any]:
    # Checked on every line of a document, where it is almost always empty or flat: those
    # need no walk (a walk of an empty object cost more than the rest of the line's checks).
    if not extra or not any(isinstance(v, dict | list) for v in extra.values()):
        return extra
    if _depth(extra) > EXTRA_MAX_DEPTH:
        raise ValueError(f"nested deeper than {EXTRA_MAX_DEPTH} levels")
    return extra


# A free-form JSON object, nested no deeper than the contracts carry (a deeper one could not
# even be serialised into a message).
ShallowObject = Annotated[dict[str, Any], AfterValidator(_shallow)]


class Strict(NullMeansAbsent):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Target(Strict):
    """Whom an upload is for. ``value`` is the PIN, device id, group or user; none for everyone."""

    kind: TargetKind
    value: str | None = Field(default=None, min_length=1, max_length=200)


class DocumentHeader(Strict):
    accounting_type: str = Field(min_length=1, max_length=200)  # e.g. «Заказ поставщику»
    id: str = _ID  # the accounting system's GUID / reference
    number: str = Field(default="", max_length=100)
    date: str = Field(default="", max_length=40)
    counterparty: str = Field(default="", max_length=500)
    warehouse: str = Field(default="", max_length=500)
    comment: str = Field(default="", max_length=5000)
    extra: ShallowObject = Field(default_factory=dict)


# An expiry date as ISO 8601 (``2027-03-31``); GS1's AI 17 (YYMMDD) is turned into one.
EXPIRY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class LineAttributes(Strict):
    """What tells one batch of a product from another, and where it lies. Empty when unknown.

    ``characteristic``: 1C's «Характеристика» (size, colour); ``series``: the batch (GS1 AI
    10); ``expiry``: the expiry date (AI 17); ``cell``: the storage cell (addressed storage)."""

    characteristic: str = Field(default="", max_length=200)
    series: str = Field(default="", max_length=200)
    expiry: str = Field(default="", pattern=f"{EXPIRY_PATTERN}|^$")
    cell: str = Field(default="", max_length=200)


class PlannedLine(Strict):
    line_no: int = Field(ge=1)
    product_id: str = _ID
    name: str = Field(default="", max_length=1000)
    article: str = Field(default="", max_length=200)
    barcodes: list[str] = Field(default_factory=list, max_length=100)
    unit: str = Field(default="", max_length=50)
    planned_qty: Quantity = Decimal(0)
    extra: ShallowObject = Field(default_factory=dict)


class DocumentLine(LineAttributes, PlannedLine):
    """A planned line; its attributes (a cell to pick from or place into, a series) are what
    the plan asks for, empty when any will do."""


# A marking code as scanned: printable ASCII and the group separator (0x1D), as GS1 allows.
MARK_PATTERN = r"^[\x1d\x21-\x7e]+$"
MARK_MAX_LENGTH = 200  # the longest «Честный ЗНАК» code (with an 88-character crypto) is ~160
MARKS_PER_LINE_MAX = 10_000
EXPECTED_MARKS_MAX = 100_000
MarkCode = Annotated[str, Field(min_length=1, max_length=MARK_MAX_LENGTH, pattern=MARK_PATTERN)]


class ExpectedMark(Strict):
    """A marking code the accounting side expects to arrive (from the supplier's УПД).

    With ``contents`` it is an aggregation code (an SSCC, ``00`` + 18 digits, or a group
    pack's code) standing for the item codes inside it."""

    code: MarkCode
    contents: list[MarkCode] = Field(default_factory=list, max_length=MARKS_PER_LINE_MAX)


def repeated_line_number(numbers: Iterable[int]) -> tuple[int, int, int] | None:
    """The first line number used twice, with the places (from 1) of its two lines; None when
    each line has its own. A result names the line it counts by its number, so two lines of
    one number would be counted as one (the second's product lost). Checked where a document
    comes in (an upload, a 1C import), not where one already kept is read again."""
    seen: dict[int, int] = {}
    for place, number in enumerate(numbers, start=1):
        first = seen.setdefault(number, place)
        if first != place:
            return number, first, place
    return None


class Document(Strict):
    header: DocumentHeader
    lines: list[DocumentLine] = Field(default_factory=list)
    # Marking codes to check the scanned ones against; none: nothing is checked.
    expected_marks: list[ExpectedMark] = Field(default_factory=list, max_length=EXPECTED_MARKS_MAX)


class FactLineV1(Strict):
    """One scan result as schema version 1 of ``document.completed`` carries it (no marks)."""

    line_no: int | None = Field(default=None, ge=1)
    product_id: str = _ID
    barcode: str = Field(default="", max_length=200)
    quantity: Quantity
    user: str | None = Field(default=None, max_length=200)
    extra: ShallowObject = Field(default_factory=dict)


class FactLineV2(FactLineV1):
    """One scan result as schema version 2 of ``document.completed`` carries it. ``marks``:
    the marking codes («Честный ЗНАК») scanned for this line, as scanned; one physical code at
    most once (compared on 01 + GTIN + 21 + serial, see shared/marks.py)."""

    marks: list[MarkCode] = Field(default_factory=list, max_length=MARKS_PER_LINE_MAX)


class FactLine(LineAttributes, FactLineV2):
    """One scan result. ``line_no`` links it to a planned line; none for an unplanned product.
    The line's characteristic, series, expiry and cell (see :class:`LineAttributes`) keep
    apart what was counted of one planned line in different batches or cells."""
