"""The waiting 1C upload answers without I/O: the public answer and the PIN guess a decision
settles."""

from __future__ import annotations

from services.gateway.records import UploadRecord
from services.gateway.upload_answers import PIN_MISS, answer, settled_pin_guess

PENDING = UploadRecord(id="t:r", tenant="t", request_id="r", status="pending", requested_at="x")
GUESS = {"key": "pin:abc", "window_ends_ms": 60_000}


def test_a_pending_upload_answers_with_its_status_only() -> None:
    assert answer(PENDING) == {"request_id": "r", "status": "pending"}


def test_an_accepted_upload_lists_its_deliveries() -> None:
    decision = {"outcome": "accepted", "deliveries": [{"delivery_id": "dl-1"}]}
    accepted = UploadRecord(
        id="t:r", tenant="t", request_id="r", status="accepted", requested_at="x", decision=decision
    )
    assert answer(accepted) == {
        "request_id": "r",
        "status": "accepted",
        "deliveries": [{"delivery_id": "dl-1"}],
    }


def test_a_refused_upload_gives_its_code_and_params() -> None:
    decision = {"outcome": "refused", "code": PIN_MISS, "params": {"pin": "1234"}}
    refused = UploadRecord(
        id="t:r", tenant="t", request_id="r", status="refused", requested_at="x", decision=decision
    )
    assert answer(refused) == {
        "request_id": "r",
        "status": "refused",
        "code": PIN_MISS,
        "params": {"pin": "1234"},
    }


def test_a_decision_gives_back_the_guess_the_upload_held_unless_the_pin_was_wrong() -> None:
    held = UploadRecord(
        id="t:r", tenant="t", request_id="r", status="pending", requested_at="x", pin_guess=GUESS
    )
    given_back = settled_pin_guess(held, None)
    assert given_back is not None
    assert (given_back.key, given_back.window_ends_ms) == ("pin:abc", 60_000)
    assert settled_pin_guess(held, PIN_MISS) is None


def test_an_upload_without_a_guess_gives_nothing_back() -> None:
    assert settled_pin_guess(PENDING, None) is None
