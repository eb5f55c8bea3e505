"""The gateway's stored records, typed: what repository.py reads from the store and hands to
the use cases. Each is read from its stored document in one place (``of``, by the rule of
shared/storage/records.py) so that every use case sees the same fields with the same defaults;
the nested JSON a record only carries through to an answer (a document's header, a decision, a
result) stays a mapping.

Frozen and slotted: a poll turns each of the device's copies into one, so they stay cheap.
A field the stored document may lack though the record always has it (an older version did not
write it) is read with its default here, by name. The records look alike field by field, as do
those of the other services' repository.py: each declares its own stored shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from shared.contracts.copies import CopyState
from shared.contracts.documents import DeviceMode
from shared.storage.records import record_of

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
        get = doc.get
        return record_of(
            cls,
            doc,
            name=get("name", ""),
            revision=get("revision", 0),
            barcodes=get("barcodes") or {},
        )

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class DeviceCopy:
    """The gateway's copy of a device, kept from the registry's records, with the hash of its
    credential and when this gateway last saw it: what a terminal's credential authenticates
    as. Routing keeps its own copy (ReplicaDevice in routing/repository.py): the same first
    fields, each service's own store and extras."""

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
        return record_of(
            cls,
            doc,
            name=get("name", ""),
            model=get("model", ""),
            hardware_id=get("hardware_id", ""),
            revision=get("revision", 0),
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
        return record_of(cls, doc, requested_at=doc.get("requested_at", ""))

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
        # By position, in the order of the fields, not by record_of: the poll reads every copy
        # of the device, and this is twice as fast.
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


class PolledCopy(NamedTuple):
    """A copy as the inbox poll reads it: what its answer shows and what makes news, nothing
    more. A plain tuple built by position: a poll reads every open copy of the device, and a
    full :class:`InboxCopy` costs about three times as much to build."""

    id: str  # the delivery id
    document_id: str
    version: int
    header: Json
    settings: Json
    lines_count: int
    state: CopyState
    withdrawn_reason: str | None = None
    last_refusal: Json | None = None

    @classmethod
    def of(cls, doc: Json) -> PolledCopy:
        get = doc.get
        # Every field given, in order: the tuple is made directly, without the generated
        # __new__ (a third of the cost, ten times a poll).
        return tuple.__new__(
            cls,
            (
                doc["id"],
                doc["document_id"],
                doc["version"],
                doc["header"],
                doc["settings"],
                doc["lines_count"],
                CopyState.stored_by_gateway(doc["state"]),
                get("withdrawn_reason"),
                get("last_refusal"),
            ),
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
        return record_of(cls, doc, received_at=doc.get("received_at", ""))


# What the list of results shows of each result (besides its state and time): its summary.
SUMMARY_FIELDS = ("document_id", "process", "result_type", "mode", "returned")


def summary_of(result: Json) -> Json:
    """The fields of a result (a ``document.completed`` as published) that its summary shows."""
    return {name: result[name] for name in SUMMARY_FIELDS if name in result}


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
    def of(cls, doc: Json, result: Json | None = None) -> CompletedDocument:
        # The result is stored apart from the entry (an older version kept it inside).
        return record_of(cls, doc, result=doc["result"] if result is None else result)

    @property
    def summary(self) -> Json:
        return summary_of(self.result)


@dataclass(frozen=True, slots=True)
class CompletedEntry:
    """A completed document as the list of results shows it: its summary, without the result
    (a large document's is megabytes of fact lines)."""

    id: str
    tenant: str
    state: str
    completed_at: str
    summary: Json  # summary_of(result)
    pulled_at: str | None = None

    @classmethod
    def of(cls, doc: Json) -> CompletedEntry:
        # An entry an older version wrote holds its whole result and no summary.
        summary = doc["summary"] if "summary" in doc else summary_of(doc["result"])
        return record_of(cls, doc, summary=summary)


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
        # Kept under the base's id; an older version's clear secret under "secret".
        get = doc.get
        return record_of(
            cls,
            doc,
            tenant=doc["id"],
            updated_at=get("updated_at", ""),
            clear_secret=get("secret"),
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
        return record_of(cls, doc, history=tuple(doc.get("history") or ()))
