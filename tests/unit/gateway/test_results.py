"""Completed documents as the accounting side sees them, without I/O."""

from __future__ import annotations

from services.gateway.records import CompletedDocument
from services.gateway.results import result_summary, result_view

RESULT = {
    "document_id": "doc-1",
    "process": "receipt",
    "result_type": "fact",
    "mode": "online",
    "lines": [{"item": "a", "quantity": "2"}],
}
DONE = CompletedDocument(
    id="trade:doc-1", tenant="trade", state="completed", completed_at="2026-12-01", result=RESULT
)


def test_the_summary_names_the_document_and_leaves_its_lines_out() -> None:
    assert result_summary(DONE) == {
        "document_id": "doc-1",
        "process": "receipt",
        "result_type": "fact",
        "mode": "online",
        "state": "completed",
        "completed_at": "2026-12-01",
    }


def test_one_result_carries_its_lines() -> None:
    assert result_view(DONE)["result"]["lines"] == RESULT["lines"]
