"""The waiting 1C upload answers: hand an upload from the accounting side to routing and wait
briefly for routing's answer, kept by request id.

The answer is stored by request id, so asking again with the same id returns the same answer
and publishes nothing new once routing has decided. An upload is stored only decided (by the
transaction that keeps routing's decision, with its routed copies or its refusal: ``inbox.py``),
or as pending when its wait ran out: the caller then asks for it by its request id, and an
upload answered within the wait costs no write of its own.
"""

from __future__ import annotations

import time
from typing import Any

from services.gateway import repository as repo
from services.gateway.notifier import News, Notifier, set_within
from services.gateway.records import UploadRecord
from shared.clock import now_iso
from shared.contracts.uploads import UploadRequested, over_limits
from shared.errors import Refusal
from shared.limits import Reservation
from shared.messaging.broker import BrokerUnavailable
from shared.service import Runtime

# How often a waiting request re-reads the store, in case another replica stored the answer.
_RECHECK_SECONDS = 0.25


def check_limits(request: UploadRequested, rt: Runtime) -> None:
    broken = over_limits(
        request,
        max_documents=rt.settings.max_documents_per_upload,
        max_lines=rt.settings.max_lines_per_document,
    )
    if broken is not None:
        code, params = broken
        raise Refusal(code, 413, **params)


# The one refusal that means a PIN was guessed wrong: it keeps its guess counted.
PIN_MISS = "device_not_found_by_pin"


async def hold_pin_guess(rt: Runtime, key: str, reservation: Reservation) -> bool:
    """Keep the PIN guess of an upload still pending with it, for routing's decision to settle
    (``settled_pin_guess``). False when the decision came meanwhile: settle it now."""
    guess = {"key": reservation.key, "window_ends_ms": reservation.window_ends_ms}
    return await repo.hold_pin_guess(rt.store, key, guess)


def settled_pin_guess(record: UploadRecord, code: str | None) -> Reservation | None:
    """The guess a pending upload held that its decision gives back (not a PIN miss), if any."""
    guess = record.pin_guess
    if not guess or code == PIN_MISS:
        return None
    return Reservation(guess["key"], guess["window_ends_ms"], None)


async def submit(
    rt: Runtime, notifier: Notifier, tenant: str, request: UploadRequested
) -> tuple[UploadRecord, bool]:
    """The upload's record, and whether it was decided before (its request id sent again:
    the same answer, nothing published)."""
    key = repo.upload_key(tenant, request.request_id)
    requested_at = now_iso()
    # Watched from the start: routing's decision may be stored here at any moment from now on
    # (while the broker confirms the publish, or for an upload sent before and still pending).
    with notifier.watching(key) as news:
        stored = await repo.upload_by_key(rt.store, key)
        if stored is not None and not stored.pending:
            return stored, True
        try:
            # Publishing again while pending is harmless: routing decides a request id once.
            # The gateway reads an accepted internet upload's decision from its routed copies.
            await rt.broker.publish(request.model_copy(update={"answer_with_copies": True}), tenant)
        except BrokerUnavailable:
            # Not confirmed (no node reachable, a nack while a quorum elects its leader, or no
            # answer in time): nothing may be assumed accepted, so the caller is told to retry.
            raise Refusal("upload_not_confirmed", 503) from None
        # The documents are routing's now and the wait needs only the key: holding them while
        # this gateway stores their routed copies would keep a large document here twice.
        request.documents = []
        timeout = rt.settings.upload_wait_seconds
        decided = await wait_for_decision(rt, news, key, timeout)
        if decided is not None and not decided.pending:
            return decided, False
        # Not decided in time: stored as pending only now, for the caller to ask for it by
        # its request id; an upload decided within the wait, the common case, is written once,
        # decided, by the transaction that keeps the decision (inbox.py).
        pending = UploadRecord(
            id=key,
            tenant=tenant,
            request_id=request.request_id,
            status="pending",
            requested_at=requested_at,
        )
        return await repo.add_pending_upload(rt.store, pending), False


async def wait_for_decision(
    rt: Runtime, news: News, key: str, timeout: float
) -> UploadRecord | None:
    """The upload once decided, else as last read when the timeout passes. The decision comes
    with ``news`` when this gateway stored it (as committed: a decided upload never changes,
    so it is not read again); the store is read every ``_RECHECK_SECONDS`` in case another
    replica did."""
    deadline = time.monotonic() + timeout
    while True:
        await set_within(news, min(max(deadline - time.monotonic(), 0), _RECHECK_SECONDS))
        news.clear()
        stored = news.stored
        if isinstance(stored, UploadRecord) and stored.id == key and not stored.pending:
            return stored
        record = await repo.upload_by_key(rt.store, key)
        if record is not None and not record.pending:
            return record
        if deadline - time.monotonic() <= 0:
            return record


async def decided_since(rt: Runtime, record: UploadRecord) -> UploadRecord:
    """The upload as stored now (decided since ``record`` was read)."""
    return await repo.upload_by_key(rt.store, record.id) or record


async def answer_of(rt: Runtime, tenant: str, request_id: str) -> UploadRecord:
    """The base's upload by its request id (its answer once decided)."""
    record = await repo.upload(rt.store, tenant, request_id)
    if record is None:
        raise Refusal("upload_not_found", 404, request_id=request_id)
    return record


def answer(record: UploadRecord) -> dict[str, Any]:
    """The upload's public answer (without the message text, which depends on the language)."""
    body: dict[str, Any] = {"request_id": record.request_id, "status": record.status}
    decision = record.decision
    if decision:
        if decision["outcome"] == "refused":
            body["code"] = decision["code"]
            body["params"] = decision.get("params", {})
        else:
            body["deliveries"] = decision["deliveries"]
    return body
