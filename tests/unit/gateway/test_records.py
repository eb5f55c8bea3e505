"""The gateway's typed records read from stored documents, and the one name of a copy's state."""

from __future__ import annotations

import pytest

from services.gateway.records import InboxCopy, UploadRecord, Webhook, WebhookPush
from shared.contracts.copies import CopyState


def test_a_delivered_copy_is_waiting_for_the_terminal_and_delivered_for_routing() -> None:
    assert CopyState.DELIVERED.value == "delivered"
    assert CopyState.DELIVERED.terminal_word == "waiting"
    assert CopyState.stored_by_gateway("waiting") is CopyState.DELIVERED


@pytest.mark.parametrize("state", list(CopyState))
def test_every_state_reads_back_from_the_word_the_inbox_stores(state: CopyState) -> None:
    assert CopyState.stored_by_gateway(state.terminal_word) is state


@pytest.mark.parametrize("state", [s for s in CopyState if s is not CopyState.DELIVERED])
def test_every_other_state_has_one_word_everywhere(state: CopyState) -> None:
    assert state.terminal_word == state.value


def test_an_unknown_stored_state_is_not_taken_for_a_known_one() -> None:
    with pytest.raises(ValueError):
        CopyState.stored_by_gateway("lost")


def test_an_inbox_row_reads_as_a_copy_with_its_state_and_no_refusal() -> None:
    copy = InboxCopy.of(
        {
            "id": "dl-1",
            "tenant": "trade",
            "device_id": "dev-1",
            "document_id": "doc-1",
            "version": 2,
            "settings": {"terminal_type": "receipt"},
            "header": {"accounting_type": "receipt", "number": "7", "date": "2026-12-01"},
            "lines_count": 4,
            "state": "waiting",
            "routed_at": "2026-12-01T10:00:00+00:00",
        }
    )
    assert copy.state is CopyState.DELIVERED
    assert (copy.version, copy.lines_count, copy.last_refusal, copy.trace) == (2, 4, None, None)


def test_an_upload_is_pending_until_decided() -> None:
    doc = {"id": "t:r", "tenant": "t", "request_id": "r", "status": "pending"}
    assert UploadRecord.of(doc).pending
    decided = UploadRecord.of({**doc, "status": "accepted", "decision": {"outcome": "accepted"}})
    assert not decided.pending and decided.decision == {"outcome": "accepted"}


def test_a_webhook_kept_in_clear_by_an_older_version_shows_its_clear_secret() -> None:
    hook = Webhook.of({"id": "trade", "url": "https://a.example", "secret": "whsec_x"})
    assert (hook.tenant, hook.clear_secret, hook.sealed_secret) == ("trade", "whsec_x", None)


def test_a_push_keeps_its_history_in_order_and_cannot_be_changed() -> None:
    push = WebhookPush.of(
        {
            "id": "ev-1",
            "tenant": "trade",
            "event": "document.completed",
            "document_id": "doc-1",
            "body": "{}",
            "state": "pending",
            "attempts": 2,
            "created_at": "a",
            "next_attempt_at": "b",
            "history": [{"at": "1"}, {"at": "2"}],
        }
    )
    assert [entry["at"] for entry in push.history] == ["1", "2"]
    with pytest.raises(AttributeError):
        push.state = "delivered"  # type: ignore[misc]
