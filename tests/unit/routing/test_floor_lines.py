"""Lines as the floor counts them: merging keeps batches (characteristic, series, expiry) and
cells apart, quantity control holds a planned cell, and marking codes are checked against
what the accounting side expected (aggregation codes by their contents)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from services.routing.processes import BusinessProcess
from services.routing.quantity import check_facts, merge_lines, merge_results
from shared.contracts.documents import DocumentLine, ExpectedMark, FactLine
from shared.contracts.results import DocumentCompleted, DocumentCompletedV2
from shared.marks import check_marks

GS = "\x1d"
GTIN = "04601234567893"
A, B, C, D = (f"01{GTIN}21SERIAL{n}{GS}93AbCd" for n in "ABCD")
SSCC = "00146012345678901236"


def fact(**values: Any) -> FactLine:
    return FactLine.model_validate({"product_id": "milk", "quantity": "1", **values})


MERGING = [
    pytest.param(
        [fact(line_no=1, series="L1"), fact(line_no=1, series="L1", quantity="2")],
        [(1, "L1", "", "3")],
        id="one-series-sums",
    ),
    pytest.param(
        [fact(line_no=1, series="L1"), fact(line_no=1, series="L2"), fact(line_no=1, series="L1")],
        [(1, "L1", "", "2"), (1, "L2", "", "1")],
        id="two-series-stay-apart-first-counted-first",
    ),
    pytest.param(
        [fact(line_no=1, cell="A-1"), fact(line_no=1, cell="A-2"), fact(line_no=1, cell="A-1")],
        [(1, "", "A-1", "2"), (1, "", "A-2", "1")],
        id="two-cells-stay-apart",
    ),
    pytest.param(
        [fact(line_no=2, cell="B"), fact(line_no=1, cell="B"), fact(line_no=1, cell="A")],
        [(1, "", "B", "1"), (1, "", "A", "1"), (2, "", "B", "1")],
        id="plan-order-then-first-counted",
    ),
    pytest.param(
        [fact(series="L1", cell="A"), fact(series="L1", cell="A"), fact(series="L2", cell="A")],
        [(None, "L1", "A", "2"), (None, "L2", "A", "1")],
        id="unplanned-product-per-series",
    ),
    pytest.param(
        [fact(line_no=1, series="L1", expiry="2027-01-31"),
         fact(line_no=1, series="L1", expiry="2027-02-28")],
        [(1, "L1", "", "1"), (1, "L1", "", "1")],
        id="another-expiry-is-another-batch",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("facts", "merged"), MERGING)
def test_merging_keeps_batches_and_cells_apart(
    facts: list[FactLine], merged: list[tuple[int | None, str, str, str]]
) -> None:
    lines = merge_lines(facts)
    assert [(x.line_no, x.series, x.cell, str(x.quantity)) for x in lines] == merged


def test_marks_stay_with_their_cell_and_each_code_once_across_users() -> None:
    facts = [
        fact(line_no=1, cell="A", marks=[A], user="ivanov"),
        fact(line_no=1, cell="B", marks=[B], user="petrov"),
        fact(line_no=1, cell="A", marks=[A.replace(GS, "")], user="petrov"),
    ]
    merged = merge_results(facts, keep_merged=False)
    assert [(x.cell, x.marks) for x in merged.lines] == [("A", [A]), ("B", [B])]
    assert [x.cell for x in merged.per_user["petrov"]] == ["B", "A"]


PLAN = [  # as the document's body keeps the lines: their JSON
    DocumentLine(line_no=1, product_id="milk", planned_qty=Decimal(2), cell="A-1").model_dump(
        mode="json"
    ),
    DocumentLine(line_no=2, product_id="kefir", planned_qty=Decimal(1)).model_dump(mode="json"),
]

CONTROL = [
    pytest.param([fact(line_no=1, cell="A-1", quantity="2")], None, id="planned-cell"),
    pytest.param([fact(line_no=1, quantity="2")], None, id="no-cell-taken-as-planned"),
    pytest.param(
        [fact(line_no=2, product_id="kefir", cell="Z-9")], None, id="plan-names-no-cell"
    ),
    pytest.param([fact(line_no=1, cell="B-7")], "cell_mismatch", id="another-cell"),
    pytest.param(
        [fact(line_no=1, cell="A-1", series="L1"), fact(line_no=1, cell="A-1", series="L2"),
         fact(line_no=1, cell="A-1", series="L3")],
        "quantity_over_plan",
        id="batches-add-up-against-the-plan",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("facts", "code"), CONTROL)
def test_quantity_control_holds_the_planned_cell(facts: list[FactLine], code: str | None) -> None:
    refused = check_facts(PLAN, facts, quantity_control=True)
    assert (refused.code if refused else None) == code


def test_without_quantity_control_any_cell_is_taken() -> None:
    assert check_facts(PLAN, [fact(line_no=1, cell="B-7")], quantity_control=False) is None
    refused = check_facts(PLAN, [fact(line_no=1, cell="B-7")], quantity_control=True)
    assert refused is not None
    assert dict(refused.params) == {
        "line": 1, "cell": "B-7", "planned_cell": "A-1", "product": "milk",
    }  # fmt: skip


EXPECTED = [ExpectedMark(code=SSCC, contents=[A, B]), ExpectedMark(code=C)]


def test_marks_are_found_surplus_or_missing() -> None:
    surplus = f"01{GTIN}21SERIALE{GS}93AbCd"
    lines = [fact(line_no=1, quantity="3", marks=[A.replace(GS, ""), B, surplus])]
    checked = [(x.code, x.status, x.line_no, x.aggregate) for x in check_marks(EXPECTED, lines)]
    assert checked == [
        (A.replace(GS, ""), "found", 1, SSCC),
        (B, "found", 1, SSCC),
        (C, "missing", None, None),
        (surplus, "surplus", 1, None),
    ]


def test_nothing_is_checked_when_nothing_was_expected() -> None:
    assert check_marks([], [fact(line_no=1, marks=[A])]) == []


def test_expected_codes_are_marking_codes() -> None:
    with pytest.raises(ValidationError):
        ExpectedMark(code="bad code with spaces")
    with pytest.raises(ValidationError):
        FactLine(product_id="milk", quantity=Decimal(1), expiry="31.03.2027")


def test_a_version_2_completion_is_understood_as_version_3() -> None:
    old = DocumentCompletedV2.model_validate(
        {
            "document_id": "d1",
            "process": "purchase-receipt",
            "mode": "online",
            "header": {"accounting_type": "Заказ", "id": "d1"},
            "lines": [{"line_no": 1, "product_id": "milk", "quantity": "1", "marks": [A]}],
        }
    )
    new = old.upgraded()
    assert isinstance(new, DocumentCompleted)
    assert new.lines[0].marks == [A]
    assert (new.lines[0].series, new.marks_check, new.created_on_terminal) == ("", [], False)


def test_a_process_made_on_the_terminal_creates_a_new_document() -> None:
    base = {
        "id": "receipt-on-terminal",
        "name": "Приёмка без заказа",
        "source_type": "Поступление",
        "terminal_type": "Поступление",
        "result_type": "Приобретение товаров и услуг",
        "create_on_terminal": True,
    }
    with pytest.raises(ValidationError, match="create_new"):
        BusinessProcess.model_validate(base)
    process = BusinessProcess.model_validate({**base, "on_load": {"action": "create_new"}})
    assert process.create_on_terminal
