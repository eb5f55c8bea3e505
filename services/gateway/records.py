"""The gateway's stored records, typed: what repository.py reads from the store and hands to
the use cases. Each is read from its stored document in one place (``of``) so that every use
case sees the same fields with the same defaults; the nested JSON a record only carries through
to an answer (a document's header, a decision, a result) stays a mapping.

Frozen and slotted: a poll turns each of the device's copies into one, so they stay cheap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.contracts.copies import CopyState
from shared.contracts.documents import DeviceMode

Json = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TenantCopy:
    """The gateway's copy of a base (tenant), kept from the registry's records: what an API key
    authenticates as."""

    id: str
    name: str
    api_key_hash: str
    status: str  # active, disabled
    revision: int
    barcodes: Json  # the base's own barcode settings; empty until it sets them

    @classmethod
    def of(cls, doc: Json) -> TenantCopy:
        return cls(
            doc["id"],
            doc.get("name", ""),
            doc["api_key_hash"],
            doc["status"],
            doc.get("revision", 0),
            doc.get("barcodes") or {},
        )

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class DeviceCopy:
    """The gateway's copy of a device, kept from the registry's records, with the hash of its
    credential and when this gateway last saw it: what a terminal's credential authenticates
    as."""

    id: str
    tenant: str
    pin: str
    name: str
    model: str
    hardware_id: str
    mode: DeviceMode
    status: str  # active, blocked, retired
    credential_hash: str
    revision: int
    last_seen: str | None = None

    @classmethod
    def of(cls, doc: Json) -> DeviceCopy:
        get = doc.get
        return cls(
            doc["id"],
            doc["tenant"],
            doc["pin"],
            get("name", ""),
            get("model", ""),
            get("hardware_id", ""),
            doc["mode"],
            doc["status"],
            doc["credential_hash"],
            get("revision", 0),
            get("last_seen"),
        )


@dataclass(frozen=True, slots=True)
class UploadRecord:
    """An upload from the accounting side and, once routing decided, its answer."""

    id: str  # repository.upload_key(tenant, request_id)
    tenant: str
    request_id: str
    status: str  # pending, accepted, refused
    requested_at: str
    decision: Json | None = None
    decided_at: str | None = None
    # The PIN guess a pending upload holds until its decision settles it (upload_answers.py).
    pin_guess: Json | None = None

    @classmethod
    def of(cls, doc: Json) -> UploadRecord:
        return cls(
            id=doc["id"],
            tenant=doc["tenant"],
            request_id=doc["request_id"],
            status=doc["status"],
            requested_at=doc.get("requested_at", ""),
            decision=doc.get("decision"),
            decided_at=doc.get("decided_at"),
            pin_guess=doc.get("pin_guess"),
        )

    @property
    def pending(self) -> bool:
        return self.status == "pending"


@dataclass(frozen=True, slots=True)
class InboxCopy:
    """One copy in a device's inbox, with a short summary of its document (the body is kept
    apart: only a download reads it)."""

    id: str  # the delivery id
    tenant: str
    device_id: str
    document_id: str
    version: int
    settings: Json
    header: Json
    lines_count: int
    state: CopyState
    routed_at: str
    process: str | None = None
    request_id: str | None = None
    trace: Json | None = None
    withdrawn_reason: str | None = None
    last_refusal: Json | None = None
    last_result_id: str | None = None

    @classmethod
    def of(cls, doc: Json) -> InboxCopy:
        # By position, in the order of the fields: the poll reads every copy of the device.
        get = doc.get
        return cls(
            doc["id"],
            doc["tenant"],
            doc["device_id"],
            doc["document_id"],
            doc["version"],
            doc["settings"],
            doc["header"],
            doc["lines_count"],
            CopyState.stored_by_gateway(doc["state"]),
            get("routed_at", ""),
            get("process"),
            get("request_id"),
            get("trace"),
            get("withdrawn_reason"),
            get("last_refusal"),
            get("last_result_id"),
        )


@dataclass(frozen=True, slots=True)
class ResultRecord:
    """A terminal's result taken once (by copy and result id), or a document the terminal
    started itself (then with the device that sent it)."""

    id: str  # repository.result_key(delivery_id, result_id)
    delivery_id: str
    result_id: str
    final: bool
    lines: int
    status: str  # received, refused
    received_at: str
    device_id: str | None = None
    refusal: Json | None = None

    @classmethod
    def of(cls, doc: Json) -> ResultRecord:
        return cls(
            id=doc["id"],
            delivery_id=doc["delivery_id"],
            result_id=doc["result_id"],
            final=doc["final"],
            lines=doc["lines"],
            status=doc["status"],
            received_at=doc.get("received_at", ""),
            device_id=doc.get("device_id"),
            refusal=doc.get("refusal"),
        )


@dataclass(frozen=True, slots=True)
class CompletedDocument:
    """A document completed in routing, as the accounting side loads it."""

    id: str  # repository.completed_key(tenant, document_id)
    tenant: str
    state: str  # completed, returned (returns.py), loaded
    completed_at: str
    result: Json  # the document.completed event as published
    pulled_at: str | None = None

    @classmethod
    def of(cls, doc: Json) -> CompletedDocument:
        return cls(
            id=doc["id"],
            tenant=doc["tenant"],
            state=doc["state"],
            completed_at=doc["completed_at"],
            result=doc["result"],
            pulled_at=doc.get("pulled_at"),
        )


@dataclass(frozen=True, slots=True)
class Webhook:
    """A base's webhook: its address and signing secret (sealed; ``clear_secret`` only in
    records an older version wrote, resealed at start)."""

    tenant: str
    url: str
    updated_at: str
    sealed_secret: str | None = None
    clear_secret: str | None = None

    @classmethod
    def of(cls, doc: Json) -> Webhook:
        return cls(
            tenant=doc["id"],
            url=doc["url"],
            updated_at=doc.get("updated_at", ""),
            sealed_secret=doc.get("sealed_secret"),
            clear_secret=doc.get("secret"),
        )


@dataclass(frozen=True, slots=True)
class WebhookPush:
    """One push of a completed document to its base's webhook, with its attempts (an entry
    of the delivery log)."""

    id: str  # the completion event's id: receivers deduplicate by it
    tenant: str
    event: str
    document_id: str
    body: str  # the JSON sent, as sent
    state: str  # pending, delivered, failed, cancelled
    attempts: int
    created_at: str
    next_attempt_at: str
    history: tuple[Json, ...] = ()
    delivered_at: str | None = None
    last_status: int | None = None
    last_error: str | None = None

    @classmethod
    def of(cls, doc: Json) -> WebhookPush:
        return cls(
            id=doc["id"],
            tenant=doc["tenant"],
            event=doc["event"],
            document_id=doc["document_id"],
            body=doc["body"],
            state=doc["state"],
            attempts=doc["attempts"],
            created_at=doc["created_at"],
            next_attempt_at=doc["next_attempt_at"],
            history=tuple(doc.get("history") or ()),
            delivered_at=doc.get("delivered_at"),
            last_status=doc.get("last_status"),
            last_error=doc.get("last_error"),
        )
