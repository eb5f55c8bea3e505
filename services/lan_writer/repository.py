"""LAN base storage: documents (one row per routed copy), log-in sessions, results sent.

The only module of the LAN writer that touches its store; it hands out typed records
(:class:`LanCopy`, :class:`LanSession`, :class:`SentResult`) and takes them back.

A document row's id is the delivery id routing gave the copy, so a copy is written once
however often its message is delivered. ``assignee`` is one string naming whom the copy is
for (see :func:`assignee_key`), so "everything this user may see" is a single query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from services.lan_writer.locks import Holder, Lock
from shared.catalog.repository import COPY_COLLECTIONS as CATALOG_COLLECTIONS
from shared.contracts.directory import BarcodeSettings, barcode_settings_of
from shared.contracts.documents import Target
from shared.limits import ATTEMPTS
from shared.replicas import put_newer
from shared.storage import Collection, Doc, Index, Session
from shared.storage.records import record_of, row_of

DOCUMENTS = Collection(
    "documents",
    (
        Index(("tenant", "assignee", "state")),
        Index(("tenant", "state")),
        Index(("tenant", "document_id")),
    ),
)
# Keyed by the hash of the session token; the token itself is never stored.
SESSIONS = Collection("sessions", (Index(("tenant", "login")),))
# Keyed by :func:`result_key`: a result re-sent by the terminal is applied once.
RESULTS = Collection("results", (Index(("delivery_id",)),))

# Copies of the registry's tenants (kept by ``tenant.changed``): what the LAN terminals need of
# their base, its barcode settings.
TENANTS = Collection("tenants", ())

# ATTEMPTS: log-in guesses (shared.limits); the copy of every base's catalog, served to
# terminals (shared.catalog.repository).
COLLECTIONS = (DOCUMENTS, SESSIONS, RESULTS, TENANTS, ATTEMPTS, *CATALOG_COLLECTIONS)

EVERYONE = "everyone"
# Documents a user may still work on; done and withdrawn ones leave the lists.
OPEN_STATES = ("free", "taken")


def assignee_key(target: Target) -> str:
    """``user:<login>``, ``group:<name>``, ``device:<id>`` or ``everyone``."""
    if target.kind == "everyone":
        return EVERYONE
    return f"{target.kind}:{target.value}"


def target_of(assignee: str) -> dict[str, str | None]:
    if assignee == EVERYONE:
        return {"kind": EVERYONE, "value": None}
    kind, _, value = assignee.partition(":")
    return {"kind": kind, "value": value}


def keys_for(login: str, groups: list[str], device_id: str | None) -> list[str]:
    """Every assignee key whose documents a logged-in user sees."""
    keys = [f"user:{login}", *(f"group:{g}" for g in groups), EVERYONE]
    if device_id:
        keys.append(f"device:{device_id}")
    return keys


def result_key(delivery_id: str, login: str, result_id: str) -> str:
    """One id per (copy, user, terminal's result id): users of a shared copy never collide."""
    return hashlib.sha256(f"{delivery_id}\n{login}\n{result_id}".encode()).hexdigest()


# Copies ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LanCopy:
    """One routed copy in the LAN base, with whom it is for and who works on it (``lock``)."""

    id: str  # the delivery id
    tenant: str
    document_id: str
    request_id: str
    process: str
    version: int
    assignee: str  # see assignee_key
    # The delivery settings and the document as routing sent them, in their JSON form: shown
    # to terminals as they are, never read field by field here.
    settings: Mapping[str, Any]
    document: Mapping[str, Any]
    lock: Lock
    revision: int  # each change is a compare-and-set on it
    routed_at: str
    # The latest refused result of each user, by login: code, params, result id, time.
    refusals: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    released: Mapping[str, Any] | None = None  # the operator's last force-release
    reassigned: Mapping[str, Any] | None = None  # the operator's last reassignment
    withdrawn_at: str | None = None

    @property
    def state(self) -> str:
        return self.lock.state

    @property
    def header(self) -> Mapping[str, Any]:
        header: Mapping[str, Any] = self.document["header"]
        return header

    @classmethod
    def of(cls, row: Doc) -> LanCopy:
        return record_of(
            cls,
            row,
            lock=Lock(
                state=row["state"],
                collective=bool(row.get("collective")),
                holders=tuple(Holder(h["login"], h["since"]) for h in row.get("holders", [])),
                finished=tuple(row.get("finished", [])),
                lost=dict(row.get("lost", {})),
                withdrawn_reason=row.get("withdrawn_reason", ""),
            ),
        )

    def row(self) -> Doc:
        lock = self.lock
        row = row_of(
            self,
            lock=None,  # its fields stand in the row itself
            settings=dict(self.settings),
            document=dict(self.document),
            refusals={login: dict(r) for login, r in self.refusals.items()},
            released=None if self.released is None else dict(self.released),
            reassigned=None if self.reassigned is None else dict(self.reassigned),
        )
        row.update(
            collective=lock.collective,
            state=lock.state,
            holders=[{"login": h.login, "since": h.since} for h in lock.holders],
            finished=list(lock.finished),
            lost=dict(lock.lost),
        )
        if lock.withdrawn_reason:
            row["withdrawn_reason"] = lock.withdrawn_reason
        return row


async def copy(db: Session, delivery_id: str) -> LanCopy | None:
    return await _read(db, DOCUMENTS, delivery_id, LanCopy.of)


async def add_copy(db: Session, copy: LanCopy) -> None:
    await db.insert(DOCUMENTS.name, copy.row())


async def replace_copy(db: Session, before: LanCopy, after: LanCopy) -> bool:
    """Write ``after`` if the row is still as ``before`` was read; whether it was written.

    Only the fields that changed are written: the document itself never changes here.
    """
    was = before.row()
    changes = {k: v for k, v in after.row().items() if k != "id" and was.get(k) != v}
    return await db.update(
        DOCUMENTS.name,
        before.id,
        changes,
        expect={"revision": before.revision, "state": before.state},
    )


async def open_copies(db: Session, tenant: str, assignees: Sequence[str]) -> list[LanCopy]:
    """The copies for any of ``assignees`` that are still worked on, oldest first."""
    where = {"tenant": tenant, "assignee": list(assignees), "state": list(OPEN_STATES)}
    return [LanCopy.of(r) for r in await db.find(DOCUMENTS.name, where, order_by="routed_at")]


async def copies_of(db: Session, tenant: str, states: Sequence[str] = ()) -> list[LanCopy]:
    """A base's copies, in some states when given, oldest first."""
    where: dict[str, Any] = {"tenant": tenant}
    if states:
        where["state"] = list(states)
    return [LanCopy.of(r) for r in await db.find(DOCUMENTS.name, where, order_by="routed_at")]


# Results sent ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentResult:
    """A result a user sent, as passed on to routing; ``status`` turns ``refused`` later if
    routing refuses it."""

    id: str  # result_key(delivery_id, login, result_id)
    delivery_id: str
    tenant: str
    login: str
    result_id: str  # the terminal's id of the send
    final: bool  # the user finished
    completes: bool  # the document is done: routing got it as final
    received_at: str
    status: str = "sent"
    created: bool = False  # a document started on the terminal: no copy in the LAN base
    code: str | None = None
    params: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, row: Doc) -> SentResult:
        return record_of(cls, row, status=row["status"], created=bool(row.get("created")))

    def row(self) -> Doc:
        # Only a started document's row says "created"; a refusal's code and params come later.
        return row_of(self, created=True if self.created else None, code=None, params=None)


async def sent_result(db: Session, key: str) -> SentResult | None:
    return await _read(db, RESULTS, key, SentResult.of)


async def record_result(db: Session, sent: SentResult) -> None:
    """Raises DuplicateKeyError when the same send is recorded already."""
    await db.insert(RESULTS.name, sent.row())


async def mark_refused(db: Session, key: str, code: str, params: Mapping[str, Any]) -> None:
    await db.update(RESULTS.name, key, {"status": "refused", "code": code, "params": dict(params)})


async def senders_of(db: Session, delivery_id: str) -> set[str]:
    """Who has sent anything for this copy."""
    return {r["login"] for r in await db.find(RESULTS.name, {"delivery_id": delivery_id})}


# Sessions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LanSession:
    """A user logged in on a terminal; the id is the hash of the session token."""

    id: str
    tenant: str
    login: str
    name: str
    groups: tuple[str, ...]
    device_id: str | None
    created_at: str
    expires_at: str

    @classmethod
    def of(cls, row: Doc) -> LanSession:
        return record_of(cls, row, groups=tuple(row["groups"]))

    def row(self) -> Doc:
        return row_of(self, groups=list(self.groups))


async def open_session(db: Session, session: LanSession) -> None:
    await db.insert(SESSIONS.name, session.row())


async def session(db: Session, session_id: str) -> LanSession | None:
    return await _read(db, SESSIONS, session_id, LanSession.of)


async def sessions_of(db: Session, tenant: str, login: str) -> list[LanSession]:
    found = await db.find(SESSIONS.name, {"tenant": tenant, "login": login})
    return [LanSession.of(row) for row in found]


async def end_session(db: Session, session_id: str) -> None:
    await db.delete(SESSIONS.name, session_id)


# The bases' barcode settings ------------------------------------------------------------------


async def barcode_settings(db: Session, tenant_id: str) -> BarcodeSettings:
    """How the base's weight and marking codes are read, from the copy ``tenant.changed`` keeps."""
    return barcode_settings_of(await db.get(TENANTS.name, tenant_id))


async def keep_barcode_settings(
    db: Session, tenant_id: str, revision: int, barcodes: BarcodeSettings
) -> None:
    """Keep the base's settings unless a newer revision of them is kept already."""
    copy = {"id": tenant_id, "revision": revision, "barcodes": barcodes.model_dump()}
    await put_newer(db, TENANTS.name, copy)


R = TypeVar("R")


async def _read(db: Session, table: Collection, key: str, of: Callable[[Doc], R]) -> R | None:
    """One row by its key as its typed record; None when there is none."""
    row = await db.get(table.name, key)
    return None if row is None else of(row)
