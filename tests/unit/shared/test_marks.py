"""Marking codes («Честный ЗНАК») on fact lines: their key, and how collective results merge
them (per line, each physical code once)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.routing.quantity import merge_lines, merge_results
from shared.contracts.documents import FactLine
from shared.contracts.results import DocumentCompleted, DocumentCompletedV1
from shared.marks import first_repeated, mark_key, unique_marks

GS = "\x1d"
GTIN = "04601234567893"
CRYPTO = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/=abcde"
SHOES = f"01{GTIN}21a5Yz8JkL0pQ2w{GS}91EE06{GS}92{CRYPTO}"
MILK = f"01{GTIN}215Nq+g/{GS}93dGVz"
MILK_WEIGHED = f"01{GTIN}21Xk!7aQ{GS}93Ab3F{GS}3103001235"
WATER = f"01{GTIN}21JgXJ5.T0a1Bc{GS}93a9Z+"
PACK = f"{GTIN}-5RsTuVAAAAcR/z"

KEYS = [
    pytest.param(SHOES, f"01{GTIN}21a5Yz8JkL0pQ2w", id="shoes-with-gs"),
    pytest.param(SHOES.replace(GS, ""), f"01{GTIN}21a5Yz8JkL0pQ2w", id="shoes-without-gs"),
    pytest.param(MILK, f"01{GTIN}215Nq+g/", id="milk-with-gs"),
    pytest.param(MILK.replace(GS, ""), f"01{GTIN}215Nq+g/", id="milk-without-gs"),
    pytest.param(MILK_WEIGHED.replace(GS, ""), f"01{GTIN}21Xk!7aQ", id="weighed-milk"),
    pytest.param(WATER.replace(GS, ""), f"01{GTIN}21JgXJ5.T0a1Bc", id="water-without-gs"),
    pytest.param(f"01{GTIN}21a5Yz8JkL0pQ2w", f"01{GTIN}21a5Yz8JkL0pQ2w", id="01-21-only"),
    pytest.param(PACK, f"01{GTIN}21-5RsTuV", id="cigarette-pack"),
    pytest.param("4601234567893", "4601234567893", id="not-a-marking-code"),
]


@pytest.mark.parametrize(("code", "key"), KEYS)
def test_a_code_is_compared_on_01_gtin_21_serial(code: str, key: str) -> None:
    assert mark_key(code) == key


def test_one_physical_code_is_kept_once_in_the_order_first_seen() -> None:
    marks = [SHOES, MILK, SHOES.replace(GS, ""), WATER, MILK]
    assert unique_marks(marks) == [SHOES, MILK, WATER]
    assert first_repeated(marks) == f"01{GTIN}21a5Yz8JkL0pQ2w"
    assert first_repeated([SHOES, MILK, WATER]) is None


def _fact(line_no: int, qty: str, marks: list[str], user: str | None = None) -> FactLine:
    return FactLine(
        line_no=line_no, product_id="shoes", quantity=Decimal(qty), user=user, marks=marks
    )


def test_collective_results_merge_marks_per_line_without_duplicates() -> None:
    facts = [
        _fact(1, "2", [SHOES, MILK], user="ivanov"),
        _fact(1, "2", [WATER, SHOES.replace(GS, "")], user="petrov"),
        _fact(2, "1", [MILK], user="petrov"),
    ]
    merged = merge_lines(facts)
    assert [(line.line_no, line.quantity, line.marks) for line in merged] == [
        (1, Decimal(4), [SHOES, MILK, WATER]),
        (2, Decimal(1), [MILK]),  # another line: its own marks
    ]
    per_user = merge_results(facts, keep_merged=False).per_user
    assert per_user["ivanov"][0].marks == [SHOES, MILK]
    assert per_user["petrov"][0].marks == [WATER, SHOES.replace(GS, "")]


def test_a_single_result_with_a_repeated_mark_merges_to_one() -> None:
    [line] = merge_lines([_fact(1, "2", [MILK, MILK.replace(GS, "")])])
    assert line.marks == [MILK]


def test_lines_without_marks_stay_without() -> None:
    [line] = merge_lines([_fact(1, "1", []), _fact(1, "1", [])])
    assert line.marks == []


@pytest.mark.parametrize(
    "mark",
    [
        pytest.param("", id="empty"),
        pytest.param("x" * 201, id="too-long"),
        pytest.param(f"01{GTIN}21ключ", id="not-ascii"),
        pytest.param(f"01{GTIN}21a b c d", id="space"),
        pytest.param(f"01{GTIN}21abc\ndef", id="newline"),
    ],
)
def test_a_bad_mark_is_refused_by_the_contract(mark: str) -> None:
    with pytest.raises(ValidationError):
        FactLine(line_no=1, product_id="shoes", quantity=Decimal(1), marks=[mark])


def test_the_group_separator_survives_validation_and_a_trailing_enter_does_not() -> None:
    line = FactLine(line_no=1, product_id="shoes", quantity=Decimal(1), marks=[SHOES + GS])
    assert line.marks == [SHOES + GS]
    line = FactLine(line_no=1, product_id="shoes", quantity=Decimal(1), marks=[MILK + "\r\n"])
    assert line.marks == [MILK]


def test_a_version_1_completion_is_understood_as_version_2_without_marks() -> None:
    old = DocumentCompletedV1.model_validate(
        {
            "document_id": "d1",
            "process": "p",
            "mode": "online",
            "header": {"accounting_type": "Заказ", "id": "d1"},
            "lines": [{"line_no": 1, "product_id": "shoes", "quantity": "2"}],
        }
    )
    new = old.upgraded()
    assert isinstance(new, DocumentCompleted)
    assert new.lines[0].marks == []
    assert new.lines[0].quantity == Decimal(2)
    with pytest.raises(ValidationError):  # version 1 never carries marks
        DocumentCompletedV1.model_validate(
            {**old.model_dump(), "lines": [{**new.lines[0].model_dump(), "marks": [MILK]}]}
        )
