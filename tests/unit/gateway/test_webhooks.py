"""The base's delivery log entries, without I/O."""

from __future__ import annotations

from dataclasses import replace

from services.gateway.records import WebhookPush
from services.gateway.webhooks import log_entry

PUSH = WebhookPush(
    id="ev-1",
    tenant="trade",
    event="document.completed",
    document_id="doc-1",
    body="{}",
    state="pending",
    attempts=1,
    created_at="2026-12-01T10:00:00+00:00",
    next_attempt_at="2026-12-01T10:01:00+00:00",
    history=({"at": "2026-12-01T10:00:01+00:00", "status": 500},),
    last_status=500,
    last_error="HTTP 500",
)


def test_a_pending_push_shows_when_it_is_tried_next() -> None:
    entry = log_entry(PUSH)
    assert entry["next_attempt_at"] == "2026-12-01T10:01:00+00:00"
    assert entry["history"] == [{"at": "2026-12-01T10:00:01+00:00", "status": 500}]
    assert (entry["delivery_id"], entry["last_error"]) == ("ev-1", "HTTP 500")


def test_a_push_no_longer_pending_shows_no_next_attempt() -> None:
    for state in ("delivered", "failed", "cancelled"):
        assert log_entry(replace(PUSH, state=state))["next_attempt_at"] is None
