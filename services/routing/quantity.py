"""Results of scanning: quantity control against the plan, and merging of collective work.

Pure: no I/O. Fact lines link to planned lines by ``line_no``; a fact without one is an
unplanned product. Where docs/routing.md is silent, this module decides:

- Quantity control is checked on the total counted so far for the document: pass every fact
  line of every user and every submission, so collective work cannot exceed the plan together.
- Under quantity control an unplanned product has a plan of zero and is refused with
  ``product_not_in_plan``.
- A fact naming a line number the document does not have is refused with
  ``fact_line_unknown``, and one naming a line of another product with
  ``fact_line_other_product``, whether or not quantity control is on (it is bad input: the
  result would count one product on another's line, with that line's price and keys).
- A total that would go beyond the largest quantity (:data:`MAX_QUANTITY`) is refused with
  ``quantity_total_too_large`` whether or not quantity control is on: every quantity accepted
  at an edge keeps the rule, so this is the one way a sum could leave it.
- Merging sums per planned line (``line_no``), and per product for unplanned products, kept
  apart per characteristic, series, expiry date and cell: what was counted of one planned
  line in two batches or two cells stays two result lines with the same ``line_no``.
  Merged lines come in plan order (then in the order first counted), then unplanned products
  in the order first scanned; each keeps the first barcode scanned and its ``extra``.
- A merged line of a planned line carries that plan line's ``extra`` as 1C sent it (its own
  attributes of the line: a price, a row key), beside any keys a terminal sent in its facts;
  where both name one, 1C's stands (a terminal does not reprice a line). The result can be
  loaded without reading the plan again.
- Under quantity control a planned line that names a cell takes facts only in that cell:
  a fact in another cell is ``cell_mismatch`` (a fact naming no cell is taken as the
  planned one). Quantities are checked per planned line over all its batches and cells.
- A line merged over the whole document carries no user; a per-user line carries its user.
- Marking codes (``marks``) of a line are joined in the order they came, each physical code
  once (by 01 + GTIN + 21 + serial): two users cannot both have sold the same item. The
  quantities are summed as they were sent; a terminal counts one unit per marking code.
- Per-user results are keyed by login; facts without a user are kept under ``""``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from services.routing.rules import Refused
from shared.contracts.documents import FactLine
from shared.contracts.quantity import MAX_QUANTITY
from shared.marks import unique_marks

NO_USER = ""
_Key = tuple[int | None, str]  # (line_no, product_id); the product counts when line_no is None
# A merged line: the key plus characteristic, series, expiry and cell.
_MergeKey = tuple[int | None, str, str, str, str, str]
_K = TypeVar("_K", _Key, _MergeKey)


@dataclass(frozen=True)
class MergedResult:
    lines: list[FactLine]  # the whole document, summed per line
    per_user: dict[str, list[FactLine]] = field(default_factory=dict)  # filled unless kept merged


def check_facts(
    planned: Sequence[Mapping[str, Any]], facts: Iterable[FactLine], *, quantity_control: bool
) -> Refused | None:
    """Refuse facts that name unknown lines or add up beyond the largest quantity, or, under
    quantity control, exceed the plan. ``planned``: the plan's lines as their checked JSON (a
    ``DocumentLine``'s, as the document's body keeps them)."""
    plan = {line["line_no"]: line for line in planned}
    totals: dict[_Key, Decimal] = {}
    for fact in facts:
        line = plan.get(fact.line_no) if fact.line_no is not None else None
        if fact.line_no is not None and line is None:
            return Refused("fact_line_unknown", {"line": fact.line_no, "product": fact.product_id})
        if line is not None and line["product_id"] != fact.product_id:
            return Refused(
                "fact_line_other_product",
                {"line": fact.line_no, "product": fact.product_id, "planned": line["product_id"]},
            )
        planned_cell = line["cell"] if line is not None else ""
        if quantity_control and planned_cell and fact.cell and fact.cell != planned_cell:
            params = {"line": fact.line_no, "cell": fact.cell, "planned_cell": planned_cell}
            return Refused("cell_mismatch", {**params, "product": fact.product_id})
        key = _key(fact)
        total = totals[key] = totals.get(key, Decimal(0)) + fact.quantity
        if total > MAX_QUANTITY:
            # Each fact keeps the quantity rule, so this sum of two is exact; stopping here keeps
            # every total, and so every merged line, within the rule the next hop checks.
            return Refused(
                "quantity_total_too_large",
                {
                    "line": fact.line_no or "",
                    "product": fact.product_id,
                    "limit": _text(MAX_QUANTITY),
                },
            )
    if not quantity_control:
        return None
    for line_no, product_id in _in_order(totals):
        total = totals[(line_no, product_id)]
        if line_no is None:
            return Refused("product_not_in_plan", {"product": product_id, "fact": _text(total)})
        line = plan[line_no]
        planned_qty = Decimal(line["planned_qty"])  # checked: a quantity written in full
        if total > planned_qty:
            return Refused(
                "quantity_over_plan",
                {
                    "line": line_no,
                    "product": line["product_id"],
                    "planned": _text(planned_qty),
                    "fact": _text(total),
                },
            )
    return None


def merge_lines(facts: Iterable[FactLine], *, in_place: bool = False) -> list[FactLine]:
    """Sum facts per planned line (per product when unplanned), per batch and cell.

    ``in_place``: the facts are the caller's to give up, and the first fact of each merged
    line becomes that line (the others are summed into it) instead of a copy of it: the copies
    of a 10,000-line result took 13 MB and a third of the merge's time."""
    merged: dict[_MergeKey, FactLine] = {}
    for fact in facts:
        key = _merge_key(fact)
        seen = merged.get(key)
        if seen is None:
            marks = unique_marks(fact.marks)
            if in_place:
                fact.user = None
                fact.marks = marks
                merged[key] = fact
            else:
                merged[key] = fact.model_copy(update={"user": None, "marks": marks})
            continue
        # ``seen`` is this merge's own line (a copy, or a fact given up): summed into in place.
        seen.quantity = seen.quantity + fact.quantity
        seen.marks = unique_marks([*seen.marks, *fact.marks])
        if not seen.barcode:
            seen.barcode = fact.barcode
    return [merged[key] for key in _in_order(merged)]


def merge_results(
    facts: Iterable[FactLine],
    *,
    keep_merged: bool,
    consume: bool = False,
    planned: Sequence[Mapping[str, Any]] = (),
) -> MergedResult:
    """The document's result: merged per line, and also per user unless kept merged.

    ``consume``: the facts are not needed afterwards, so a result kept merged is made of them
    (see :func:`merge_lines`); per-user results still need them as they were, and copy.
    ``planned``: the plan's lines as their checked JSON, whose ``extra`` the result's lines
    carry back."""
    facts = list(facts)
    lines = merge_lines(facts, in_place=consume and keep_merged)
    extras = {line["line_no"]: line["extra"] for line in planned if line.get("extra")}
    _with_plan_extra(lines, extras)
    if keep_merged:
        return MergedResult(lines)
    by_user: dict[str, list[FactLine]] = {}
    for fact in facts:
        by_user.setdefault(fact.user or NO_USER, []).append(fact)
    per_user = {
        user: [line.model_copy(update={"user": user or None}) for line in merge_lines(own)]
        for user, own in by_user.items()
    }
    for own_lines in per_user.values():
        _with_plan_extra(own_lines, extras)
    return MergedResult(lines, per_user)


def _with_plan_extra(lines: Iterable[FactLine], extras: Mapping[int, dict[str, Any]]) -> None:
    """Each line of a planned line given its plan line's ``extra`` over its own keys (a new
    dict: a merged line may share its ``extra`` with the fact it was copied from)."""
    if not extras:
        return
    for line in lines:
        extra = extras.get(line.line_no) if line.line_no is not None else None
        if extra:
            line.extra = {**line.extra, **extra}


def _key(fact: FactLine) -> _Key:
    return (fact.line_no, "" if fact.line_no is not None else fact.product_id)


def _merge_key(fact: FactLine) -> _MergeKey:
    return (*_key(fact), fact.characteristic, fact.series, fact.expiry, fact.cell)


def _in_order(keys: Iterable[_K]) -> list[_K]:
    """Planned lines by line number, then unplanned products in the order first seen."""
    keys = list(keys)
    planned = sorted((key for key in keys if key[0] is not None), key=lambda key: key[0] or 0)
    return planned + [key for key in keys if key[0] is None]


def _text(quantity: Decimal) -> str:
    """A quantity for a message: no exponent, no trailing zeros (``10``, ``2.5``)."""
    return format(quantity.normalize(), "f")
