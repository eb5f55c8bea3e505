"""The gateway's repository on real SQLite: each kind of record written and read back typed,
and the compare-and-set writes the use cases rely on."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.gateway import repository as repo
from services.gateway.journeys import result_steps
from services.gateway.records import (
    CompletedDocument,
    CompletedEntry,
    ResultRecord,
    UploadRecord,
    Webhook,
    WebhookPush,
)
from shared.contracts.copies import CopyState
from shared.storage import DuplicateKeyError, Store
from tests.support.gateway_copies import DOCUMENT, a_copy

PENDING = UploadRecord(
    id=repo.upload_key("trade", "req-1"),
    tenant="trade",
    request_id="req-1",
    status="pending",
    requested_at="2026-12-01T10:00:00+00:00",
)
PUSH = WebhookPush(
    id="ev-1",
    tenant="trade",
    event="document.completed",
    document_id="doc-1",
    body='{"event": "document.completed"}',
    state="pending",
    attempts=0,
    created_at="2026-12-01T10:00:00+00:00",
    next_attempt_at="2026-12-01T10:00:00+00:00",
)


# ---- inboxes ----


async def test_a_copy_reads_back_as_written_and_waiting_is_stored_in_the_terminals_word(
    store: Store,
) -> None:
    copy = a_copy(trace={"traceparent": "00-abc-def-01"})
    await repo.add_new_copies(store, [(copy, DOCUMENT)])
    assert await repo.copy(store, "dl-1") == copy
    assert await repo.copy_document(store, "dl-1") == DOCUMENT
    stored = await store.get(repo.INBOX.name, "dl-1")
    assert stored is not None and stored["state"] == "waiting"


async def test_new_copies_with_a_taken_id_are_refused_not_written_over(store: Store) -> None:
    copy = a_copy()
    await repo.add_new_copies(store, [(copy, DOCUMENT)])
    assert await repo.copy(store, "dl-1") == copy

    with pytest.raises(DuplicateKeyError):
        await repo.add_new_copies(store, [(a_copy(device_id="other"), {"other": "document"})])

    assert await repo.copy(store, "dl-1") == copy
    assert await repo.copy_document(store, "dl-1") == DOCUMENT


async def test_an_unknown_copy_reads_as_none(store: Store) -> None:
    assert await repo.copy(store, "nope") is None
    assert await repo.copy_document(store, "nope") is None


async def test_a_device_sees_only_its_copies_in_the_states_asked_oldest_first(
    store: Store,
) -> None:
    rows = [
        a_copy(id="late", routed_at="2026-12-01T12:00:00+00:00"),
        a_copy(id="early", routed_at="2026-12-01T09:00:00+00:00", state=CopyState.DOWNLOADED),
        a_copy(id="done", state=CopyState.DONE),
        a_copy(id="other", device_id="dev-2"),
    ]
    await repo.add_new_copies(store, [(row, DOCUMENT) for row in rows])
    words = repo.stored_words((CopyState.DELIVERED, CopyState.DOWNLOADED))
    found = await repo.polled_copies(store, "dev-1", words)
    assert [(r.id, r.state) for r in found] == [
        ("early", CopyState.DOWNLOADED),
        ("late", CopyState.DELIVERED),
    ]


async def test_a_state_changes_only_from_the_state_expected(store: Store) -> None:
    await repo.add_new_copies(store, [(a_copy(), DOCUMENT)])
    assert await repo.change_copy_state(
        store, "dl-1", CopyState.DOWNLOADED, expect=CopyState.DELIVERED
    )
    assert not await repo.change_copy_state(
        store, "dl-1", CopyState.DOWNLOADED, expect=CopyState.DELIVERED
    )
    copy = await repo.copy(store, "dl-1")
    assert copy is not None and copy.state is CopyState.DOWNLOADED


async def test_a_withdrawn_copy_keeps_its_reason(store: Store) -> None:
    await repo.add_new_copies(store, [(a_copy(), DOCUMENT)])
    await repo.withdraw_copy(store, "dl-1", "cancelled in 1C")
    copy = await repo.copy(store, "dl-1")
    assert copy is not None
    assert (copy.state, copy.withdrawn_reason) == (CopyState.WITHDRAWN, "cancelled in 1C")


async def test_a_result_taken_moves_the_copy_and_a_refusal_reopens_it(store: Store) -> None:
    await repo.add_new_copies(store, [(a_copy(state=CopyState.DOWNLOADED), DOCUMENT)])
    await repo.take_result_into_copy(store, "dl-1", "r1", final=True)
    done = await repo.copy(store, "dl-1")
    assert done is not None and (done.state, done.last_result_id) == (CopyState.DONE, "r1")
    refusal = {"result_id": "r1", "code": "quantity_over_plan", "params": {}}
    assert await repo.reopen_copy(store, "dl-1", refusal, expect=CopyState.DONE)
    reopened = await repo.copy(store, "dl-1")
    assert reopened is not None
    assert (reopened.state, reopened.last_refusal) == (CopyState.IN_PROGRESS, refusal)


async def test_only_waiting_copies_of_the_same_base_move_to_the_replacement(store: Store) -> None:
    await repo.add_new_copies(store, [(a_copy(id="waits"), DOCUMENT)])
    await repo.add_new_copies(store, [(a_copy(id="taken", state=CopyState.DOWNLOADED), DOCUMENT)])
    await repo.add_new_copies(store, [(a_copy(id="foreign", tenant="other"), DOCUMENT)])
    assert await repo.move_waiting_copies(store, "trade", "dev-1", "dev-2") == 1
    owners = {r["id"]: r["device_id"] for r in await repo.all_copies_of_device(store, "dev-1")}
    assert owners == {"taken": "dev-1", "foreign": "dev-1"}
    moved = await repo.copy(store, "waits")
    assert moved is not None and moved.device_id == "dev-2"


async def test_a_replacement_is_followed_within_its_base_only(store: Store) -> None:
    await repo.keep_replacement_now(store, "trade", "dev-1", "dev-2")
    await repo.keep_replacement_now(store, "trade", "dev-2", "dev-3")
    assert await repo.standing_for(store, "trade", "dev-1") == "dev-3"
    assert await repo.standing_for(store, "other", "dev-1") == "dev-1"
    assert await repo.was_replaced(store, "dev-1")
    assert not await repo.was_replaced(store, "dev-3")


# ---- upload answers ----


async def test_a_second_pending_upload_gets_the_one_stored_first(store: Store) -> None:
    assert await repo.add_pending_upload(store, PENDING) == PENDING
    later = replace(PENDING, requested_at="2026-12-01T11:00:00+00:00")
    assert await repo.add_pending_upload(store, later) == PENDING
    assert await repo.upload(store, "trade", "req-1") == PENDING


async def test_a_pin_guess_is_held_only_while_the_upload_is_pending(store: Store) -> None:
    await repo.add_pending_upload(store, PENDING)
    guess = {"key": "pin:abc", "window_ends_ms": 1}
    assert await repo.hold_pin_guess(store, PENDING.id, guess)
    held = await repo.upload_by_key(store, PENDING.id)
    assert held is not None and held.pin_guess == guess
    decided = replace(held, status="accepted", decision={"outcome": "accepted"}, decided_at="t")
    await repo.decide_upload(store, decided)
    assert not await repo.hold_pin_guess(store, PENDING.id, guess)
    answer = await repo.upload_by_key(store, PENDING.id)
    assert answer is not None and (answer.status, answer.decision) == (
        "accepted",
        {"outcome": "accepted"},
    )


async def test_a_decision_for_an_upload_never_seen_here_is_kept_whole(store: Store) -> None:
    record = replace(PENDING, status="refused", decision={"outcome": "refused"}, decided_at="t")
    await repo.keep_decision(store, record)
    assert await repo.upload_by_key(store, PENDING.id) == record


# ---- results and completed documents ----


async def test_a_result_reads_back_and_a_refusal_is_kept_with_it(store: Store) -> None:
    record = ResultRecord(
        id=repo.result_key("dl-1", "r1"),
        delivery_id="dl-1",
        result_id="r1",
        final=True,
        lines=3,
        status="received",
        received_at="t",
        device_id="dev-1",
    )
    await repo.add_result(store, record)
    assert await repo.result(store, "dl-1", "r1") == record
    refusal = {"result_id": "r1", "code": "quantity_over_plan", "params": {"line": 1}}
    await repo.refuse_result(store, "dl-1", "r1", refusal)
    assert await repo.result(store, "dl-1", "r1") == replace(
        record, status="refused", refusal=refusal
    )


async def test_completed_documents_are_listed_until_loaded(store: Store) -> None:
    done = CompletedDocument(
        id=repo.completed_key("trade", "doc-1"),
        tenant="trade",
        state="completed",
        completed_at="2026-12-01T10:00:00+00:00",
        result={"document_id": "doc-1", "mode": "online"},
    )
    await repo.keep_completed(store, done)
    assert await repo.unloaded(store, "trade") == [
        CompletedEntry(
            id=done.id,
            tenant="trade",
            state="completed",
            completed_at=done.completed_at,
            summary={"document_id": "doc-1", "mode": "online"},
        )
    ]
    await repo.mark_pulled(store, "trade", "doc-1", "2026-12-01T11:00:00+00:00")
    await repo.mark_loaded(store, "trade", "doc-1")
    assert await repo.unloaded(store, "trade") == []
    assert await repo.completed(store, "trade", "doc-1") == replace(
        done, state="loaded", pulled_at="2026-12-01T11:00:00+00:00"
    )


# ---- webhooks and pushes ----


async def test_a_webhook_changes_its_address_and_on_request_its_secret(store: Store) -> None:
    await repo.add_webhook(store, Webhook("trade", "https://a.example", "t1", "sealed-1"))
    await repo.change_webhook(store, "trade", "https://b.example", "t2")
    assert await repo.webhook(store, "trade") == Webhook(
        "trade", "https://b.example", "t2", "sealed-1"
    )
    await repo.change_webhook(store, "trade", "https://b.example", "t3", sealed_secret="sealed-2")
    hook = await repo.webhook(store, "trade")
    assert hook is not None and hook.sealed_secret == "sealed-2"
    await repo.remove_webhook(store, "trade")
    assert await repo.webhook(store, "trade") is None


async def test_a_reseal_applies_only_over_the_secret_as_read(store: Store) -> None:
    await store.insert(repo.WEBHOOKS.name, {"id": "trade", "url": "u", "secret": "whsec_clear"})
    [read] = await repo.webhooks(store)
    assert read.clear_secret == "whsec_clear"
    assert await repo.reseal_webhook(store, read, "sealed-1")
    assert not await repo.reseal_webhook(store, read, "sealed-2")  # changed since it was read
    [now] = await repo.webhooks(store)
    assert (now.clear_secret, now.sealed_secret) == (None, "sealed-1")


async def test_a_push_is_leased_once_and_its_attempt_recorded_over_what_was_read(
    store: Store,
) -> None:
    await repo.add_push(store, PUSH)
    [due] = await repo.pending_pushes(store, limit=10)
    assert due == PUSH
    assert await repo.lease_push(store, due, "2026-12-01T10:05:00+00:00")
    assert not await repo.lease_push(store, due, "2026-12-01T10:06:00+00:00")
    attempted = replace(
        due,
        attempts=1,
        state="delivered",
        delivered_at="2026-12-01T10:00:02+00:00",
        last_status=200,
        history=({"at": "2026-12-01T10:00:02+00:00", "status": 200},),
    )
    assert await repo.record_attempt(store, due, attempted)
    assert not await repo.record_attempt(store, due, attempted)  # attempts moved on since
    assert await repo.pending_pushes(store, limit=10) == []
    [logged] = await repo.webhook_deliveries(store, "trade", "delivered", 10)
    assert (logged.attempts, logged.last_status, logged.history) == (1, 200, attempted.history)


async def test_a_push_of_a_removed_webhook_is_cancelled_once(store: Store) -> None:
    await repo.add_push(store, PUSH)
    assert await repo.cancel_push(store, PUSH.id, "webhook removed")
    assert not await repo.cancel_push(store, PUSH.id, "webhook removed")
    [cancelled] = await repo.webhook_deliveries(store, "trade", None, 10)
    assert (cancelled.state, cancelled.last_error) == ("cancelled", "webhook removed")


async def test_a_documents_journey_at_the_gateway_has_its_pushes_and_first_pull(
    store: Store,
) -> None:
    delivered = replace(PUSH, attempts=1)
    await repo.add_push(store, delivered)
    await repo.record_attempt(
        store, delivered, replace(delivered, attempts=2, state="delivered", delivered_at="t2")
    )
    await repo.keep_completed(
        store,
        CompletedDocument(
            id=repo.completed_key("trade", "doc-1"),
            tenant="trade",
            state="completed",
            completed_at="t0",
            result={"document_id": "doc-1"},
        ),
    )
    await repo.mark_pulled(store, "trade", "doc-1", "t3")
    assert await result_steps(store, "trade", "doc-1") == [
        {"at": "t2", "step": "pushed", "service": "gateway", "attempts": 2},
        {"at": "t3", "step": "pulled", "service": "gateway"},
    ]


# ---- the directory's copies ----

TENANT_RECORD = {
    "tenant": "trade",
    "name": "Склад",
    "api_key_hash": "k1",
    "status": "active",
    "revision": 3,
    "barcodes": {"gs_substitute": "~"},
}
DEVICE_DOC = {
    "id": "dev-1",
    "tenant": "trade",
    "pin": "1234",
    "name": "ТСД 1",
    "model": "EDA50",
    "hardware_id": "hw-1",
    "mode": "online",
    "status": "active",
    "last_seen": None,
    "credential_hash": "h1",
    "revision": 1,
}


async def test_a_base_is_found_typed_by_its_key_and_an_older_record_does_not_win(
    store: Store,
) -> None:
    await repo.keep_tenant(store, repo.tenant_copy(TENANT_RECORD))
    await repo.keep_tenant(store, repo.tenant_copy({**TENANT_RECORD, "revision": 2, "name": "x"}))
    tenant = await repo.tenant_by_key_hash(store, "k1")
    assert tenant == await repo.tenant(store, "trade")
    assert tenant is not None and tenant.active
    assert (tenant.name, tenant.revision, tenant.barcodes) == ("Склад", 3, {"gs_substitute": "~"})
    assert await repo.tenant_by_key_hash(store, "other") is None


async def test_a_device_is_found_typed_by_its_credential_and_keeps_its_sighting(
    store: Store,
) -> None:
    await repo.keep_device_now(store, DEVICE_DOC)
    await repo.mark_seen(store, "dev-1", "2026-12-01T10:00:00+00:00")
    # A newer record from the registry that knows no sighting keeps the gateway's own.
    await repo.keep_device_now(store, {**DEVICE_DOC, "revision": 2, "status": "blocked"})
    device = await repo.device_by_credential_hash(store, "h1")
    assert device is not None and device == await repo.device(store, "dev-1")
    assert (device.status, device.last_seen) == ("blocked", "2026-12-01T10:00:00+00:00")
    assert [d.id for d in await repo.devices(store)] == ["dev-1"]


async def test_a_replaced_device_paired_anew_stands_for_itself_again(store: Store) -> None:
    await repo.keep_device_now(store, {**DEVICE_DOC, "status": "retired"})
    await repo.keep_replacement_now(store, "trade", "dev-1", "dev-2")
    assert await repo.standing_for(store, "trade", "dev-1") == "dev-2"
    await repo.keep_device_now(store, {**DEVICE_DOC, "revision": 2, "status": "active"})
    assert not await repo.was_replaced(store, "dev-1")
    assert await repo.standing_for(store, "trade", "dev-1") == "dev-1"


async def test_the_list_of_results_reads_no_fact_lines(store: Store) -> None:
    lines = [{"line_no": n, "product_id": f"p-{n}", "quantity": "1"} for n in range(1, 4)]
    result = {
        "document_id": "doc-1",
        "process": "Приёмка",
        "result_type": "Поступление",
        "mode": "offline",
        "lines": lines,
    }
    key = repo.completed_key("trade", "doc-1")
    done = CompletedDocument(key, "trade", "completed", "2026-12-01T10:00:00+00:00", result)
    await repo.keep_completed(store, done)
    [row] = await store.find(repo.COMPLETED.name, {"tenant": "trade"})
    assert "lines" not in str(row)  # the entry the list reads holds the summary only
    [entry] = await repo.unloaded(store, "trade")
    assert entry.summary == {k: v for k, v in result.items() if k != "lines"}
    assert await repo.completed(store, "trade", "doc-1") == done


async def test_an_entry_an_older_version_wrote_is_read_with_its_result(store: Store) -> None:
    result = {"document_id": "doc-1", "process": "П", "result_type": "Т", "mode": "online"}
    key = repo.completed_key("trade", "doc-1")
    old_row = {
        "id": key,
        "tenant": "trade",
        "state": "completed",
        "completed_at": "2026-12-01T10:00:00+00:00",
        "result": {**result, "lines": [{"product_id": "p", "quantity": "1"}]},
    }
    await store.put(repo.COMPLETED.name, old_row)
    [entry] = await repo.unloaded(store, "trade")
    assert entry.summary == result
    found = await repo.completed(store, "trade", "doc-1")
    assert found is not None and found.result == old_row["result"]
    found_entry = await repo.completed_entry(store, "trade", "doc-1")
    assert found_entry == entry
