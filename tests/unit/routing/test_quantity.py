"""Quantity control against the plan, and merging of collective results."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from services.routing.quantity import NO_USER, check_facts, merge_lines, merge_results
from services.routing.rules import Refused
from shared.contracts.documents import DocumentLine, FactLine
from shared.i18n import MESSAGES, render

# A plan's lines as the document's body keeps them: their JSON.
PLAN = [
    DocumentLine(line_no=1, product_id="milk", planned_qty=Decimal("10")).model_dump(mode="json"),
    DocumentLine(line_no=2, product_id="sugar", planned_qty=Decimal("2.5")).model_dump(mode="json"),
]


def fact(
    line_no: int | None,
    qty: str,
    product: str = "milk",
    user: str | None = None,
    barcode: str = "",
) -> FactLine:
    return FactLine(
        line_no=line_no, product_id=product, quantity=Decimal(qty), user=user, barcode=barcode
    )


CHECKS = [
    pytest.param([fact(1, "10"), fact(2, "2.5", "sugar")], True, None, id="exactly-plan"),
    pytest.param(
        [fact(1, "4"), fact(1, "6", user="petrov")], True, None, id="collective-total-at-plan"
    ),
    pytest.param([fact(1, "11")], False, None, id="over-plan-without-control"),
    pytest.param([fact(None, "1", "salt")], False, None, id="unplanned-without-control"),
    pytest.param(
        [fact(1, "10.001")],
        True,
        Refused(
            "quantity_over_plan", {"line": 1, "product": "milk", "planned": "10", "fact": "10.001"}
        ),
        id="over-plan-by-a-fraction",
    ),
    pytest.param(
        [fact(1, "1"), fact(2, "2", "sugar"), fact(2, "0.6", "sugar", user="petrov")],
        True,
        Refused(
            "quantity_over_plan", {"line": 2, "product": "sugar", "planned": "2.5", "fact": "2.6"}
        ),
        id="collective-total-over-plan",
    ),
    pytest.param(
        [fact(None, "1", "salt")],
        True,
        Refused("product_not_in_plan", {"product": "salt", "fact": "1"}),
        id="unplanned-under-control",
    ),
    pytest.param(
        [fact(3, "1", "salt")],
        False,
        Refused("fact_line_unknown", {"line": 3, "product": "salt"}),
        id="unknown-line-without-control",
    ),
    pytest.param(
        [fact(1, "1"), fact(7, "1")],
        True,
        Refused("fact_line_unknown", {"line": 7, "product": "milk"}),
        id="unknown-line-under-control",
    ),
    pytest.param(
        [fact(1, "1", "sugar")],
        False,
        Refused("fact_line_other_product", {"line": 1, "product": "sugar", "planned": "milk"}),
        id="another-product-s-line",
    ),
    pytest.param([], True, None, id="no-facts"),
]


@pytest.mark.parametrize(("facts", "control", "expected"), CHECKS)
def test_check_facts(facts: list[FactLine], control: bool, expected: Refused | None) -> None:
    assert check_facts(PLAN, facts, quantity_control=control) == expected


@pytest.mark.parametrize(
    "refusal", [c.values[-1] for c in CHECKS if c.values[-1] is not None], ids=lambda r: r.code
)
def test_refusals_render_in_both_languages(refusal: Refused) -> None:
    assert set(MESSAGES[refusal.code]) == {"ru", "en"}
    for language in ("ru", "en"):
        assert "{" not in render(refusal.code, language, dict(refusal.params))


def summed(lines: list[FactLine]) -> list[tuple[Any, ...]]:
    return [(f.line_no, f.product_id, f.quantity, f.user, f.barcode) for f in lines]


MERGES = [
    pytest.param(
        [
            fact(2, "1", "sugar", "ivanov"),
            fact(1, "3", user="ivanov", barcode="460001"),
            fact(1, "2.5", user="petrov"),
        ],
        [(1, "milk", Decimal("5.5"), None, "460001"), (2, "sugar", Decimal("1"), None, "")],
        id="summed-per-line-in-plan-order",
    ),
    pytest.param(
        [
            fact(None, "1", "salt", "ivanov"),
            fact(1, "1"),
            fact(None, "2", "pepper", "petrov"),
            fact(None, "1", "salt", "petrov"),
        ],
        [
            (1, "milk", Decimal("1"), None, ""),
            (None, "salt", Decimal("2"), None, ""),
            (None, "pepper", Decimal("2"), None, ""),
        ],
        id="unplanned-per-product-after-plan",
    ),
    pytest.param(
        [fact(1, "1"), fact(1, "1", barcode="460002"), fact(1, "1", barcode="460003")],
        [(1, "milk", Decimal("3"), None, "460002")],
        id="first-barcode-kept",
    ),
    pytest.param([], [], id="nothing"),
]


@pytest.mark.parametrize(("facts", "expected"), MERGES)
def test_merge_lines(facts: list[FactLine], expected: list[tuple[Any, ...]]) -> None:
    assert summed(merge_lines(facts)) == expected


COLLECTIVE = [
    fact(1, "3", user="ivanov"),
    fact(1, "2", user="petrov"),
    fact(2, "1", "sugar", user="ivanov"),
    fact(1, "1", user="ivanov"),
    fact(2, "0.5", "sugar"),
]


def test_kept_merged_result_is_not_split_per_user() -> None:
    result = merge_results(COLLECTIVE, keep_merged=True)
    assert summed(result.lines) == [
        (1, "milk", Decimal("6"), None, ""),
        (2, "sugar", Decimal("1.5"), None, ""),
    ]
    assert result.per_user == {}


def test_result_not_kept_merged_is_loaded_per_user() -> None:
    result = merge_results(COLLECTIVE, keep_merged=False)
    assert summed(result.lines) == summed(merge_results(COLLECTIVE, keep_merged=True).lines)
    assert {user: summed(lines) for user, lines in result.per_user.items()} == {
        "ivanov": [
            (1, "milk", Decimal("4"), "ivanov", ""),
            (2, "sugar", Decimal("1"), "ivanov", ""),
        ],
        "petrov": [(1, "milk", Decimal("2"), "petrov", "")],
        NO_USER: [(2, "sugar", Decimal("0.5"), None, "")],
    }


def _collective() -> list[FactLine]:
    return [line.model_copy() for line in COLLECTIVE]


def test_facts_given_up_make_the_same_merged_result_of_themselves() -> None:
    facts = _collective()
    result = merge_results(facts, keep_merged=True, consume=True)
    assert summed(result.lines) == summed(merge_results(COLLECTIVE, keep_merged=True).lines)
    assert all(any(line is fact for fact in facts) for line in result.lines)  # no copies


def test_facts_not_given_up_or_loaded_per_user_are_left_as_they_were() -> None:
    for keep_merged, consume in ((True, False), (False, True)):
        facts = _collective()
        result = merge_results(facts, keep_merged=keep_merged, consume=consume)
        assert summed(facts) == summed(COLLECTIVE)
        assert not any(line is fact for line in result.lines for fact in facts)


def test_totals_beyond_the_largest_quantity_are_refused_not_raised() -> None:
    """Many lines of the largest quantity summed: refused with a code, never an exception, and
    every total that is accepted still keeps the quantity rule."""
    biggest = "999999999999999.999999"
    many = [fact(1, biggest, user=f"u{i}") for i in range(5000)]
    refused = check_facts(
        [DocumentLine(line_no=1, product_id="milk", planned_qty=biggest).model_dump(mode="json")],
        many,
        quantity_control=False,
    )
    assert refused is not None and refused.code == "quantity_total_too_large"
    assert render(refused.code, "en", dict(refused.params)).startswith("Line 1, product")
    one = [fact(1, biggest, user="u1")]
    plan = [DocumentLine(line_no=1, product_id="milk", planned_qty=biggest).model_dump(mode="json")]
    assert check_facts(plan, one, quantity_control=True) is None
    merged = merge_results(one, keep_merged=False)
    assert FactLine.model_validate(merged.lines[0].model_dump(mode="json")).quantity == Decimal(
        biggest
    )


def test_result_lines_carry_their_plan_lines_extra_over_the_terminals_keys() -> None:
    plan = [
        DocumentLine(
            line_no=1, product_id="milk", planned_qty=Decimal("10"), extra={"Цена": "89.90"}
        ).model_dump(mode="json"),
        PLAN[1],
    ]
    counted = fact(1, "4", user="ivanov")
    counted.extra = {"Цена": "terminal's", "Место": "рампа 2"}
    facts = [counted, fact(1, "2", user="petrov"), fact(2, "1", "sugar"), fact(None, "1", "salt")]
    for keep_merged in (True, False):
        result = merge_results(facts, keep_merged=keep_merged, planned=plan)
        assert [line.extra for line in result.lines] == [
            {"Цена": "89.90", "Место": "рампа 2"},  # 1C's price stands, the terminal's key added
            {},  # line 2's plan has none
            {},  # a product outside the plan has no plan line
        ]
    per_user = merge_results(facts, keep_merged=False, planned=plan).per_user
    assert [line.extra for line in per_user["petrov"]] == [{"Цена": "89.90"}]
    assert counted.extra == {"Цена": "terminal's", "Место": "рампа 2"}  # the fact left as it was
