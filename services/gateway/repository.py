"""Gateway storage: its copies of tenants and devices, upload answers, inboxes, results,
webhooks. The only module of the gateway that calls the store: the use cases call these
functions, with the store or the session of their transaction, and get typed records
(records.py) back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from services.gateway.records import (
    CompletedDocument,
    CompletedEntry,
    DeviceCopy,
    InboxCopy,
    Json,
    PolledCopy,
    ResultRecord,
    TenantCopy,
    UploadRecord,
    Webhook,
    WebhookPush,
)
from shared.catalog.repository import COPY_COLLECTIONS as CATALOG_COLLECTIONS
from shared.contracts.copies import CopyState
from shared.limits import ATTEMPTS
from shared.replicas import put_newer as put_newer  # the copies below are kept by it
from shared.storage import Collection, Doc, DuplicateKeyError, Index, Session, Store
from shared.storage.keys import tenant_key
from shared.storage.records import row_of

# Copies of the registry's tenants and devices, kept current by its events, so that
# authenticating a request needs no round trip to the registry.
TENANTS = Collection("tenants", (Index(("api_key_hash",)),))
DEVICES = Collection("devices", (Index(("credential_hash",)), Index(("tenant",))))
# Read only by key (tenant and request id): no index of its own to keep up (one on tenant and
# status, which no query read, cost an index entry at every upload).
UPLOADS = Collection("uploads")
# A device's copies, each with a short summary of its document; the body is kept apart, in
# INBOX_BODIES, because only a download needs it and polls read the inbox constantly.
INBOX = Collection(
    "inbox",
    (Index(("device_id", "state")), Index(("tenant", "document_id"))),
)
INBOX_BODIES = Collection("inbox_bodies")
# Which device replaced which (by the old device's id), so that a copy routed to a device just
# before it was replaced, but arriving after, still reaches the device that took its place.
REPLACEMENTS = Collection("replacements")
# Terminal results received, by delivery and result id: a retried send applies once.
RESULTS = Collection("results", (Index(("delivery_id",)),))
# The base's completed documents: each entry with the summary its list shows; the result (the
# fact lines) kept apart, in COMPLETED_RESULTS, because only a pull or a push needs it and the
# accounting side lists its results often. An older version kept the result in the entry.
COMPLETED = Collection("completed", (Index(("tenant", "state")),))
COMPLETED_RESULTS = Collection("completed_results")
# Each base's webhook (address and signing secret), by tenant, and the pushes made to it.
WEBHOOKS = Collection("webhooks")
WEBHOOK_DELIVERIES = Collection(
    "webhook_deliveries", (Index(("state",)), Index(("tenant", "created_at")))
)

COLLECTIONS = (
    TENANTS,
    DEVICES,
    UPLOADS,
    INBOX,
    INBOX_BODIES,
    REPLACEMENTS,
    RESULTS,
    COMPLETED,
    COMPLETED_RESULTS,
    WEBHOOKS,
    WEBHOOK_DELIVERIES,
    ATTEMPTS,  # PIN guesses, counted for every instance (shared.limits)
    # The copy of every base's catalog, served to terminals (shared.catalog.repository).
    *CATALOG_COLLECTIONS,
)


# An upload by its request id, a completed document by its accounting id, each in its base.
upload_key = completed_key = tenant_key


def result_key(delivery_id: str, result_id: str) -> str:
    # Result ids are chosen by terminals: scoped by the copy, so one device cannot shadow another.
    return f"{delivery_id}:{result_id}"


async def tenant_by_key_hash(db: Session, key_hash: str) -> TenantCopy | None:
    found = await db.find(TENANTS.name, {"api_key_hash": key_hash}, limit=1)
    return TenantCopy.of(found[0]) if found else None


async def device_by_credential_hash(db: Session, credential_hash: str) -> DeviceCopy | None:
    found = await db.find(DEVICES.name, {"credential_hash": credential_hash}, limit=1)
    return DeviceCopy.of(found[0]) if found else None


def tenant_copy(record: Mapping[str, Any]) -> Doc:
    """The gateway's copy of a tenant from the registry's record (an answer or an event)."""
    return {
        "id": record["tenant"],
        "name": record["name"],
        "api_key_hash": record["api_key_hash"],
        "status": record["status"],
        "revision": record["revision"],
        "barcodes": dict(record.get("barcodes") or {}),
    }


async def keep_device(db: Session, copy: Doc) -> bool:
    """Store the registry's device record as the gateway's copy, unless a newer one is there.

    The gateway is where devices are seen: a record without ``last_seen`` keeps the one the
    copy has. A device that is active again (a replaced device paired anew keeps its id)
    stands for itself once more: what is routed to it from now on is its own, not its
    replacement's."""
    if copy.get("last_seen") is None:
        copy = {k: v for k, v in copy.items() if k != "last_seen"}
    stored = await put_newer(db, DEVICES.name, copy)
    if stored and copy.get("status") == "active":
        await db.delete(REPLACEMENTS.name, copy["id"])
    return stored


async def keep_replacement(db: Session, tenant: str, old_device: str, new_device: str) -> None:
    await db.put(REPLACEMENTS.name, {"id": old_device, "tenant": tenant, "new_device": new_device})


async def standing_for(db: Session, tenant: str, device_id: str) -> str:
    """The device that now stands for ``device_id``: the one that replaced it (in turn, when
    that one was replaced too), or ``device_id`` itself."""
    seen = {device_id}
    while True:
        replaced = await db.get(REPLACEMENTS.name, device_id)
        if replaced is None or replaced.get("tenant") != tenant:
            return device_id
        device_id = replaced["new_device"]
        if device_id in seen:  # replaced back and forth: stay with the last one found
            return device_id
        seen.add(device_id)


async def standing_for_each(db: Session, tenant: str, device_ids: Iterable[str]) -> dict[str, str]:
    """:func:`standing_for` of each device, by its id: one query when none was replaced."""
    wanted = list(dict.fromkeys(device_ids))
    replaced = {row["id"] for row in await db.find(REPLACEMENTS.name, {"id": wanted})}
    return {
        device_id: await standing_for(db, tenant, device_id) if device_id in replaced else device_id
        for device_id in wanted
    }


async def was_replaced(db: Session, device_id: str) -> bool:
    """Whether another terminal took this device's place."""
    return await db.get(REPLACEMENTS.name, device_id) is not None


# ---- the directory's copies ---------------------------------------------------------------
# Written as the registry's records are (documents, kept by revision: shared.replicas), read
# typed.


async def tenant(db: Session, tenant_id: str) -> TenantCopy | None:
    doc = await db.get(TENANTS.name, tenant_id)
    return None if doc is None else TenantCopy.of(doc)


async def keep_tenant(db: Session, copy: Doc) -> bool:
    """Keep a tenant's copy unless a newer one is kept."""
    return await put_newer(db, TENANTS.name, copy)


async def device(db: Session, device_id: str) -> DeviceCopy | None:
    doc = await db.get(DEVICES.name, device_id)
    return None if doc is None else DeviceCopy.of(doc)


async def keep_device_now(db: Store, copy: Doc) -> bool:
    """Keep a device's copy in a transaction of its own (see :func:`keep_device`)."""
    return await db.run_transaction(lambda session: keep_device(session, copy))


async def keep_replacement_now(db: Store, tenant: str, old_device: str, new_device: str) -> None:
    await db.run_transaction(
        lambda session: keep_replacement(session, tenant, old_device, new_device)
    )


async def mark_seen(db: Session, device_id: str, at: str) -> None:
    await db.update(DEVICES.name, device_id, {"last_seen": at})


async def devices_with_copies(
    db: Session, device_ids: Sequence[str], states: Iterable[CopyState]
) -> set[str]:
    """Which of the devices have a copy in the given states, in one query (the long polls'
    safety check asks it for many waiting devices at once)."""
    where = {"device_id": list(device_ids), "state": list(stored_words(states))}
    return {row["device_id"] for row in await db.find(INBOX.name, where)}


async def devices(db: Session) -> list[DeviceCopy]:
    """Every device copy (the presence tracker is seeded from them at start)."""
    return [DeviceCopy.of(doc) for doc in await db.find(DEVICES.name)]


# ---- upload answers -----------------------------------------------------------------------


async def upload(db: Session, tenant_id: str, request_id: str) -> UploadRecord | None:
    return await upload_by_key(db, upload_key(tenant_id, request_id))


async def upload_by_key(db: Session, key: str) -> UploadRecord | None:
    """An upload's record by its key (:func:`upload_key`)."""
    doc = await db.get(UPLOADS.name, key)
    return None if doc is None else UploadRecord.of(doc)


async def add_pending_upload(db: Session, record: UploadRecord) -> UploadRecord:
    """Store a new pending upload; the one stored already when another call was first."""
    try:
        await db.insert(UPLOADS.name, _upload_doc(record))
    except DuplicateKeyError:
        return await upload_by_key(db, record.id) or record
    return record


async def hold_pin_guess(db: Session, key: str, guess: Json) -> bool:
    """Keep the PIN guess with the upload while it is pending; False once it was decided."""
    return await db.update(
        UPLOADS.name, key, {"pin_guess": dict(guess)}, expect={"status": "pending"}
    )


async def keep_decision(db: Session, record: UploadRecord) -> None:
    """Store a decided upload not stored before (decided within its wait, or an AMQP
    adapter's), whole."""
    await db.put(UPLOADS.name, _upload_doc(record))


async def decide_upload(db: Session, record: UploadRecord) -> None:
    changes = {
        "status": record.status,
        "decision": record.decision,
        "decided_at": record.decided_at,
    }
    await db.update(UPLOADS.name, record.id, changes)


def _upload_doc(record: UploadRecord) -> Doc:
    decision = record.decision
    return row_of(
        record,
        decision=None if decision is None else dict(decision),
        decided_at=None if decision is None else record.decided_at,
        pin_guess=None,
    )


# ---- inboxes ------------------------------------------------------------------------------
# A copy's state is stored in the terminal API's word (CopyState.terminal_word).


async def polled_copies(db: Session, device_id: str, states: Sequence[str]) -> list[PolledCopy]:
    """A device's copies in the given states (stored words: :func:`stored_words`) as the poll
    reads them, oldest first: one query. Put in order here, not by the store: SQLite would
    read each row's ``routed_at`` out of its JSON again to sort a handful of rows."""
    rows = await db.find(INBOX.name, {"device_id": device_id, "state": list(states)})
    rows.sort(key=_routed_at)
    return [PolledCopy.of(row) for row in rows]


def _routed_at(row: Doc) -> str:
    routed_at: str = row.get("routed_at") or ""
    return routed_at


def stored_words(states: Iterable[CopyState]) -> tuple[str, ...]:
    """The words the inbox stores for these states (worked out once by the callers)."""
    return tuple(state.terminal_word for state in states)


async def copy(db: Session, delivery_id: str) -> InboxCopy | None:
    doc = await db.get(INBOX.name, delivery_id)
    return None if doc is None else InboxCopy.of(doc)


async def copies(db: Session, delivery_ids: Sequence[str]) -> dict[str, InboxCopy]:
    """The copies of these deliveries that exist, by delivery id, in one query."""
    rows = await db.find(INBOX.name, {"id": list(delivery_ids)})
    return {row["id"]: InboxCopy.of(row) for row in rows}


async def copy_document(db: Session, delivery_id: str) -> Json | None:
    """The copy's whole document (its body), as routing routed it."""
    body = await db.get(INBOX_BODIES.name, delivery_id)
    return None if body is None else body["document"]


async def add_new_copies(db: Session, copies: Sequence[tuple[InboxCopy, Json]]) -> None:
    """Store copies with their documents' bodies, in two statements however many they are.
    Only for copies read as not stored, in the same transaction (:func:`copies`); one stored
    meanwhile all the same raises DuplicateKeyError, and the transaction is rolled back: a
    copy is never overwritten."""
    await db.insert_many(
        INBOX_BODIES.name, [_body_row(copy, document) for copy, document in copies]
    )
    await db.insert_many(INBOX.name, [_copy_row(copy) for copy, _ in copies])


def _body_row(copy: InboxCopy, document: Json) -> Doc:
    return {"id": copy.id, "tenant": copy.tenant, "document": dict(document)}


def _copy_row(copy: InboxCopy) -> Doc:
    return row_of(
        copy,
        settings=dict(copy.settings),
        header=dict(copy.header),
        state=copy.state.terminal_word,
        trace=None if copy.trace is None else dict(copy.trace),
        # What a copy gathers later, never there when it arrives.
        withdrawn_reason=None,
        last_refusal=None,
        last_result_id=None,
    )


async def withdraw_copy(db: Session, delivery_id: str, reason: str) -> None:
    changes = {"state": CopyState.WITHDRAWN.terminal_word, "withdrawn_reason": reason}
    await db.update(INBOX.name, delivery_id, changes)


async def change_copy_state(
    db: Session, delivery_id: str, state: CopyState, *, expect: CopyState
) -> bool:
    """Move the copy to ``state`` if it is still in ``expect``; whether it moved."""
    return await db.update(
        INBOX.name,
        delivery_id,
        {"state": state.terminal_word},
        expect={"state": expect.terminal_word},
    )


async def reopen_copy(db: Session, delivery_id: str, refusal: Json, *, expect: CopyState) -> bool:
    """Send the copy back to work with the refusal of its latest result."""
    return await db.update(
        INBOX.name,
        delivery_id,
        {"state": CopyState.IN_PROGRESS.terminal_word, "last_refusal": dict(refusal)},
        expect={"state": expect.terminal_word},
    )


async def take_result_into_copy(
    db: Session, delivery_id: str, result_id: str, *, final: bool
) -> None:
    state = CopyState.DONE if final else CopyState.IN_PROGRESS
    changes = {"state": state.terminal_word, "last_result_id": result_id}
    await db.update(INBOX.name, delivery_id, changes)


async def move_waiting_copies(db: Session, tenant: str, old_device: str, new_device: str) -> int:
    """Give the copies still waiting for ``old_device`` to ``new_device``; how many moved."""
    waiting = await db.find(
        INBOX.name,
        {"device_id": old_device, "tenant": tenant, "state": CopyState.DELIVERED.terminal_word},
    )
    for row in waiting:
        await db.update(INBOX.name, row["id"], {"device_id": new_device})
    return len(waiting)


# ---- the bench's seeding door: inbox rows and device copies as they are stored -------------


async def device_as_stored(db: Session, device_id: str) -> Doc | None:
    """A device's copy as stored (the bench clones it)."""
    return await db.get(DEVICES.name, device_id)


async def insert_devices(db: Session, copies: Sequence[Doc]) -> None:
    """Write new device copies as they are (the bench seeds a large base with them)."""
    for copy in copies:
        await db.insert(DEVICES.name, copy)


async def all_copies_of_device(db: Session, device_id: str) -> list[Doc]:
    """A device's inbox rows as stored (the bench clones them)."""
    return await db.find(INBOX.name, {"device_id": device_id})


async def insert_copies(db: Session, rows: Sequence[Doc]) -> None:
    """Write inbox rows as they are, without bodies (the bench seeds polls' inboxes with them)."""
    for row in rows:
        await db.insert(INBOX.name, row)


# ---- results ------------------------------------------------------------------------------


async def result(db: Session, delivery_id: str, result_id: str) -> ResultRecord | None:
    doc = await db.get(RESULTS.name, result_key(delivery_id, result_id))
    return None if doc is None else ResultRecord.of(doc)


async def add_result(db: Session, record: ResultRecord) -> None:
    """Raises DuplicateKeyError when the same result was taken meanwhile."""
    await db.insert(RESULTS.name, row_of(record, refusal=None))  # a refusal comes later


async def refuse_result(db: Session, delivery_id: str, result_id: str, refusal: Json) -> None:
    changes = {"status": "refused", "refusal": dict(refusal)}
    await db.update(RESULTS.name, result_key(delivery_id, result_id), changes)


# ---- completed documents ------------------------------------------------------------------


async def completed(store: Store, tenant_id: str, document_id: str) -> CompletedDocument | None:
    """A completed document with its result: the entry and its result are two rows, read in
    one transaction, never across a newer version's commit (a return or the next version's
    completion replaces both at once)."""
    key = completed_key(tenant_id, document_id)
    async with store.transaction() as db:
        doc = await db.get(COMPLETED.name, key)
        if doc is None:
            return None
        if "result" in doc:  # an entry written by an older version
            return CompletedDocument.of(doc)
        body = await db.get(COMPLETED_RESULTS.name, key)
    if body is None:
        raise LookupError(f"completed document {key} has no stored result")
    return CompletedDocument.of(doc, body["result"])


async def completed_entry(db: Session, tenant_id: str, document_id: str) -> CompletedEntry | None:
    """A completed document's entry, without its result."""
    doc = await db.get(COMPLETED.name, completed_key(tenant_id, document_id))
    return None if doc is None else CompletedEntry.of(doc)


async def keep_completed(db: Session, done: CompletedDocument) -> None:
    """Store a completed document (a newer version of it replaces the older)."""
    await db.put(COMPLETED_RESULTS.name, {"id": done.id, "result": dict(done.result)})
    # A newer version is not pulled yet, whatever the older was; the result is left out
    # (row_of leaves out a field given as None).
    entry = row_of(done, result=None, pulled_at=None)
    await db.put(COMPLETED.name, {**entry, "summary": dict(done.summary)})


async def unloaded(db: Session, tenant_id: str) -> list[CompletedEntry]:
    """The base's completed (and returned) documents not loaded yet, oldest first."""
    where = {"tenant": tenant_id, "state": ["completed", "returned"]}
    docs = await db.find(COMPLETED.name, where, order_by="completed_at")
    return [CompletedEntry.of(doc) for doc in docs]


async def mark_pulled(db: Session, tenant_id: str, document_id: str, at: str) -> None:
    await db.update(COMPLETED.name, completed_key(tenant_id, document_id), {"pulled_at": at})


async def mark_loaded(db: Session, tenant_id: str, document_id: str) -> None:
    await db.update(COMPLETED.name, completed_key(tenant_id, document_id), {"state": "loaded"})


# ---- webhooks and their pushes ------------------------------------------------------------


async def webhook(db: Session, tenant_id: str) -> Webhook | None:
    doc = await db.get(WEBHOOKS.name, tenant_id)
    return None if doc is None else Webhook.of(doc)


async def webhooks(db: Session) -> list[Webhook]:
    return [Webhook.of(doc) for doc in await db.find(WEBHOOKS.name)]


async def add_webhook(db: Session, hook: Webhook) -> None:
    """Raises DuplicateKeyError when the base's webhook was set meanwhile."""
    doc = {"id": hook.tenant, "url": hook.url, "sealed_secret": hook.sealed_secret}
    await db.insert(WEBHOOKS.name, {**doc, "updated_at": hook.updated_at})


async def change_webhook(
    db: Session, tenant_id: str, url: str, updated_at: str, *, sealed_secret: str | None = None
) -> None:
    """A new address; a new secret too when ``sealed_secret`` is given (any clear one goes)."""
    changes: Doc = {"url": url, "updated_at": updated_at}
    if sealed_secret is not None:
        changes.update(sealed_secret=sealed_secret, secret=None)
    await db.update(WEBHOOKS.name, tenant_id, changes)


async def reseal_webhook(db: Session, hook: Webhook, sealed_secret: str) -> bool:
    """Replace the secret as read in ``hook`` (clear or sealed) by ``sealed_secret``; False
    when another instance changed it since (a compare-and-set on what was read)."""
    expect: Doc = (
        {"secret": hook.clear_secret}
        if hook.clear_secret
        else {"sealed_secret": hook.sealed_secret}
    )
    changes = {"sealed_secret": sealed_secret, "secret": None}
    return await db.update(WEBHOOKS.name, hook.tenant, changes, expect=expect)


async def remove_webhook(db: Session, tenant_id: str) -> None:
    await db.delete(WEBHOOKS.name, tenant_id)


async def add_push(db: Session, push: WebhookPush) -> None:
    await db.insert(
        WEBHOOK_DELIVERIES.name,
        row_of(
            push,
            history=[dict(entry) for entry in push.history],
            # What its attempts write later.
            delivered_at=None,
            last_status=None,
            last_error=None,
        ),
    )


async def pending_pushes(db: Session, limit: int) -> list[WebhookPush]:
    """The pending pushes, the one due first first."""
    rows = await db.find(
        WEBHOOK_DELIVERIES.name, {"state": "pending"}, order_by="next_attempt_at", limit=limit
    )
    return [WebhookPush.of(row) for row in rows]


async def cancel_push(db: Session, push_id: str, reason: str) -> bool:
    return await db.update(
        WEBHOOK_DELIVERIES.name,
        push_id,
        {"state": "cancelled", "last_error": reason},
        expect={"state": "pending"},
    )


async def lease_push(db: Session, push: WebhookPush, until: str) -> bool:
    """Claim a pending push until ``until``: False when another pass or instance claimed it."""
    return await db.update(
        WEBHOOK_DELIVERIES.name,
        push.id,
        {"next_attempt_at": until},
        expect={"state": "pending", "next_attempt_at": push.next_attempt_at},
    )


async def record_attempt(db: Session, push: WebhookPush, attempted: WebhookPush) -> bool:
    """Store an attempt's outcome (``attempted``: the push after it) over the push as read."""
    changes: Doc = {
        "attempts": attempted.attempts,
        "history": [dict(entry) for entry in attempted.history],
        "last_status": attempted.last_status,
        "last_error": attempted.last_error,
        "state": attempted.state,
    }
    if attempted.state == "pending":  # tried again later
        changes["next_attempt_at"] = attempted.next_attempt_at
    if attempted.delivered_at is not None:
        changes["delivered_at"] = attempted.delivered_at
    return await db.update(
        WEBHOOK_DELIVERIES.name,
        push.id,
        changes,
        expect={"state": "pending", "attempts": push.attempts},
    )


async def pushes_of(db: Session, tenant_id: str, document_id: str) -> list[WebhookPush]:
    """The webhook pushes made for one document's result."""
    rows = await db.find(WEBHOOK_DELIVERIES.name, {"tenant": tenant_id, "document_id": document_id})
    return [WebhookPush.of(row) for row in rows]


async def webhook_deliveries(
    db: Session, tenant_id: str, state: str | None, limit: int
) -> list[WebhookPush]:
    """A base's pushes (only those in ``state`` when given), newest first."""
    where: dict[str, Any] = {"tenant": tenant_id}
    if state is not None:
        where["state"] = state
    rows = await db.find(
        WEBHOOK_DELIVERIES.name, where, order_by="created_at", descending=True, limit=limit
    )
    return [WebhookPush.of(row) for row in rows]
