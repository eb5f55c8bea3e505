"""Document and copy states, follow-ups that fit, and the follow-up request: pure, table-tested."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from services.routing import states
from services.routing.processes import (
    FILE_INVALID,
    BusinessProcess,
    default_processes,
    follow_up_mismatch,
    load_processes,
)
from services.routing.repository import CopyRecord
from services.routing.results import follow_up, follow_up_id
from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import FactLine, Target
from shared.errors import Refusal


@pytest.mark.parametrize(
    ("current", "step", "after"),
    [
        ("routed", "delivered", "delivered"),
        ("routed", "downloaded", "downloaded"),
        ("delivered", "downloaded", "downloaded"),
        ("delivered", "in_progress", "in_progress"),
        ("downloaded", "in_progress", "in_progress"),
        ("in_progress", "released", "delivered"),
        ("downloaded", "delivered", None),  # late news never moves a copy back
        ("in_progress", "downloaded", None),
        ("delivered", "delivered", None),
        ("delivered", "released", None),
        ("done", "in_progress", None),  # a finished copy no longer changes
        ("withdrawn", "downloaded", None),
        ("done", "released", None),
    ],
)
def test_copy_after_step(current: str, step: str, after: str | None) -> None:
    assert states.copy_after_step(current, step) == after


@pytest.mark.parametrize(
    ("current", "copies", "expected"),
    [
        ("queued", ["routed"], "queued"),
        ("queued", [], "queued"),
        ("queued", ["routed", "delivered"], "delivered"),
        ("delivered", ["delivered", "downloaded"], "downloaded"),
        ("downloaded", ["routed", "in_progress"], "in_progress"),
        ("in_progress", ["done", "delivered"], "in_progress"),  # one finished, one not
        ("in_progress", ["delivered"], "delivered"),  # the only worker released it
        ("completed", ["done"], "completed"),
        ("loaded", ["routed"], "loaded"),  # only a new upload starts a document again
    ],
)
def test_document_state_follows_the_furthest_copy(
    current: str, copies: list[str], expected: str
) -> None:
    assert states.document_state(current, copies) == expected


@pytest.mark.parametrize(
    ("document", "copies", "expected"),
    [
        ("queued", ["routed"], False),
        ("delivered", ["delivered", "routed"], False),
        ("downloaded", ["downloaded"], True),
        ("in_progress", ["in_progress", "routed"], True),
        ("in_progress", ["done", "routed"], True),  # a finished copy's result would be lost
        ("completed", ["done"], False),
        ("loaded", ["done", "done"], False),
        ("queued", ["withdrawn"], False),
    ],
)
def test_in_work(document: str, copies: list[str], expected: bool) -> None:
    assert states.in_work(document, copies) is expected


BASE: dict[str, Any] = {
    "name": "x",
    "source_type": "Заказ",
    "terminal_type": "Приёмка",
    "result_type": "Приходный ордер",
}


def process(**changes: Any) -> BusinessProcess:
    return BusinessProcess.model_validate(BASE | changes)


def test_shipped_follow_ups_fit() -> None:
    shipped = {p.id: p for p in default_processes()}
    assert follow_up_mismatch(shipped) is None
    receipt = shipped["storekeepers-receipt"]
    assert receipt.next_process == "storekeepers-placement"
    assert shipped["storekeepers-placement"].source_type == receipt.result_type


def test_a_shipped_process_gives_each_user_an_own_copy_without_a_fixed_assignee() -> None:
    own = [p for p in default_processes() if p.own_copy_per_user and p.fixed_assignee is None]
    assert [p.id for p in own] == ["inventory-own-copies"]
    assert not own[0].keep_merged  # results are loaded per user


@pytest.mark.parametrize(
    ("processes", "detail"),
    [
        ({"a": process(id="a", next_process="b")}, "next process “b” is unknown"),
        (
            {
                "a": process(id="a", next_process="b"),
                "b": process(id="b", source_type="Другой"),
            },
            "produces “Приходный ордер”, but its next process “b” starts from “Другой”",
        ),
    ],
)
def test_follow_up_mismatch(processes: dict[str, BusinessProcess], detail: str) -> None:
    assert detail in (follow_up_mismatch(processes) or "")


def test_a_fitting_chain_and_an_unknown_next_when_only_known_are_checked() -> None:
    fits = {
        "a": process(id="a", next_process="b"),
        "b": process(id="b", source_type="Приходный ордер"),
    }
    assert follow_up_mismatch(fits) is None
    assert follow_up_mismatch({"a": process(id="a", next_process="z")}, only_known=True) is None


def test_a_file_whose_follow_up_does_not_fit_is_refused() -> None:
    text = (
        "processes:\n"
        "  - {id: a, name: A, source_type: S, terminal_type: T, result_type: R, next_process: b}\n"
        "  - {id: b, name: B, source_type: X, terminal_type: T, result_type: R}\n"
    )
    with pytest.raises(Refusal) as refused:
        load_processes(text)
    assert refused.value.code == FILE_INVALID
    assert "starts from “X”" in refused.value.params["details"]


DOCUMENT = CarriedDocument.model_validate(
    {
        "header": {
            "accounting_type": "Приходный ордер на товары",
            "id": "doc-1",
            "number": "17",
            "extra": {"Склад": "Основной"},
        },
        "lines": [
            {"line_no": 1, "product_id": "p1", "name": "Молоко", "barcodes": ["46001"]},
            {"line_no": 2, "product_id": "p2", "name": "Хлеб", "planned_qty": "5"},
        ],
    }
)
FACTS = [
    FactLine(
        line_no=2,
        product_id="p2",
        quantity=Decimal("4"),
        series="L042",
        expiry="2027-03-31",
        cell="RECEIVING",
    ),
    FactLine(product_id="p9", barcode="46999", quantity=Decimal("1")),  # unplanned
]


def _copy(target: Target, channel: str) -> CopyRecord:
    return CopyRecord(
        id="c-1",
        tenant="t1",
        document_key="t1:doc-1",
        request_id="r-1",
        channel=channel,
        target=target,
        copy="own",
        mode="online",
        version=1,
        state="done",
        routed_at="2026-01-01T00:00:00+00:00",
    )


def receipt() -> BusinessProcess:
    return {p.id: p for p in default_processes()}["storekeepers-receipt"]


def test_follow_up_starts_the_next_process_with_the_counted_plan() -> None:
    uploaded_for = Target(kind="group", value="storekeepers")
    copy = _copy(Target(kind="user", value="ivanov"), "lan")
    request = follow_up(receipt(), DOCUMENT, FACTS, uploaded_for, copy)
    assert request.request_id == "doc-1:storekeepers-placement"
    assert request.process == "storekeepers-placement"
    assert request.channel == "lan"
    # An own copy finished by one user: the next process goes to the group it was for.
    assert request.target == Target(kind="group", value="storekeepers")
    [carried] = request.documents
    document = carried.model()
    assert document.header.id == "doc-1:storekeepers-placement"
    assert document.header.accounting_type == "Приходный ордер на товары"
    assert document.header.number == "17"
    assert document.header.extra == {
        "Склад": "Основной",
        "based_on": "doc-1",
        "based_on_process": "storekeepers-receipt",
    }
    assert [(line.line_no, line.product_id, line.planned_qty) for line in document.lines] == [
        (1, "p2", Decimal("4")),
        (2, "p9", Decimal("1")),
    ]
    assert document.lines[0].name == "Хлеб"
    assert document.lines[1].barcodes == ["46999"]
    # The batch counted goes on to the next process; the cell it was counted in does not.
    counted = document.lines[0]
    assert (counted.series, counted.expiry, counted.cell) == ("L042", "2027-03-31", "")


def test_follow_up_of_a_device_copy_goes_to_that_device() -> None:
    uploaded_for = Target(kind="pin", value="5546")
    copy = _copy(Target(kind="device", value="dev-1"), "internet")
    request = follow_up(receipt(), DOCUMENT, FACTS, uploaded_for, copy)
    assert request.target == Target(kind="device", value="dev-1")
    assert request.channel == "internet"


def test_a_follow_up_id_too_long_is_shortened_by_a_digest() -> None:
    long_id = "x" * 190
    shortened = follow_up_id(long_id, "storekeepers-placement")
    assert len(shortened) <= 200
    assert shortened.endswith(":storekeepers-placement")
    assert shortened == follow_up_id(long_id, "storekeepers-placement")  # stable
    assert follow_up_id("d", "p") == "d:p"


@pytest.mark.parametrize(
    ("document", "copies", "recall", "expected"),
    [
        ("delivered", ["delivered"], False, None),
        ("downloaded", ["downloaded"], False, "document_in_work"),
        ("downloaded", ["downloaded"], True, None),
        ("in_progress", ["done", "routed"], False, "document_in_work"),
        # A result nobody has loaded is never replaced, recall or not.
        ("completed", ["done"], False, "document_result_not_loaded"),
        ("completed", ["done"], True, "document_result_not_loaded"),
        ("loaded", ["done"], False, None),
    ],
)
def test_reupload_refusal(
    document: str, copies: list[str], recall: bool, expected: str | None
) -> None:
    assert states.reupload_refusal(document, copies, recall=recall) == expected
