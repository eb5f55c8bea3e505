"""Routing storage: business processes, upload requests, documents and their copies.

The only module of routing that touches its store. Business processes, upload requests, master
records, copies and journey steps come back as typed records (:class:`ProcessRecord`,
:class:`RequestRecord`, :class:`DocumentRecord`, :class:`CopyRecord`, :class:`JourneyStep`);
their stored shape stays what it was, so stores written by earlier versions read the same.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal, Self, TypeVar

import orjson

from services.routing import states
from services.routing.processes import BusinessProcess
from shared.clock import now_iso
from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import FactLine, Target
from shared.contracts.uploads import UploadDecided
from shared.replicas import put_newer
from shared.storage import Collection, Doc, Index, Session, Store
from shared.storage.keys import own_id, tenant_key
from shared.storage.records import record_of, row_of

# Processes are per tenant; the defaults live under the tenant "*" and apply to every tenant
# that has no process of its own with the same id.
PROCESSES = Collection("processes", (Index(("tenant", "name")), Index(("tenant",))))
REQUESTS = Collection("requests")  # by tenant:request_id, with the decision given
# The master record per document, read only by its key: no index of its own to keep up (one
# on tenant and state, which no query read, cost two WAL pages an upload and its download).
DOCUMENTS = Collection("documents")
# The uploaded document and the facts counted so far, each by document key, apart from the
# master record: its state changes many times, and a row holding 10,000 lines would be parsed
# and written whole by every one of those changes.
DOCUMENT_BODIES = Collection("document_bodies")
DOCUMENT_FACTS = Collection("document_facts")
# A document's copies are found by (document_key, version) and by document_key alone: the
# second is served by the first's leading field, so it has no index of its own to keep up.
DELIVERIES = Collection(
    "deliveries", (Index(("document_key", "version")), Index(("tenant", "state")))
)

# Every step of every document (see journey.py), by document key; searched by number and PIN.
# Only the request's step has a number and only a copy's steps a device: those two indexes are
# sparse, so the other steps (most of them) are written without an entry in them.
JOURNEY = Collection(
    "journey",
    (
        Index(("document_key",)),
        Index(("document_id",)),
        Index(("number",), sparse=True),
        Index(("device.pin",), sparse=True),
    ),
)

# The registry's directory as routing keeps it (see the end of this module).
REPLICA_DEVICES = Collection(
    "replica_devices", (Index(("tenant", "pin", "status")), Index(("tenant", "status")))
)
REPLICA_PEOPLE = Collection("replica_people")
REPLICA_STATE = Collection("replica_state")
REPLICA_COLLECTIONS = (REPLICA_DEVICES, REPLICA_PEOPLE, REPLICA_STATE)

COLLECTIONS = (
    PROCESSES,
    REQUESTS,
    DOCUMENTS,
    DOCUMENT_BODIES,
    DOCUMENT_FACTS,
    DELIVERIES,
    JOURNEY,
    *REPLICA_COLLECTIONS,
)

ALL_TENANTS = "*"

# Where a default process came from: shipped with tsdx (rewritten by an upgrade) or written
# by an operator (kept as the operator left it).
Origin = Literal["shipped", "operator"]

T = TypeVar("T")


# An upload request, a document and a process, each by its own id in its base (a process also
# in ALL_TENANTS).
request_key = document_key = process_key = tenant_key


async def find_process(db: Session, tenant: str, ref: str) -> BusinessProcess | None:
    """A process by id or by name: the tenant's own first, then the defaults."""
    for owner in (tenant, ALL_TENANTS):
        doc = await db.get(PROCESSES.name, process_key(owner, ref))
        if doc is None:
            found = await db.find(PROCESSES.name, {"tenant": owner, "name": ref}, limit=1)
            doc = found[0] if found else None
        if doc is not None:
            return _parsed_process(doc["process"])
    return None


async def nearest_process(db: Session, tenant: str, ref: str) -> str:
    """The id of the tenant's process (its own or a default) whose id or name comes closest to
    ``ref``, a name not found: what 1C most likely meant by a mistyped one; "" when none is
    close."""
    known: dict[str, str] = {}  # id or name, lower case -> the process's id
    for owner in (tenant, ALL_TENANTS):
        for row in await db.find(PROCESSES.name, {"tenant": owner}):
            stored = row["process"]
            for said in (stored.get("id"), stored.get("name")):
                if isinstance(said, str) and said:
                    known.setdefault(said.lower(), str(stored.get("id")))
    close = difflib.get_close_matches(ref.lower(), list(known), n=1, cutoff=0.6)
    return known[close[0]] if close else ""


# Processes checked once per stored form instead of on every upload that names them: a
# process changes rarely, and a changed one is stored as other JSON. Callers never change a
# process in place (an edit is a copy), so one instance serves them all.
_PARSED_PROCESSES: dict[bytes, BusinessProcess] = {}
_PARSED_PROCESSES_MAX = 256


def _parsed_process(stored: Doc) -> BusinessProcess:
    try:
        key = orjson.dumps(stored)
    except TypeError:  # a value JSON cannot hold: nothing to key it by
        return BusinessProcess.model_validate(stored)
    process = _PARSED_PROCESSES.get(key)
    if process is None:
        if len(_PARSED_PROCESSES) >= _PARSED_PROCESSES_MAX:
            _PARSED_PROCESSES.clear()
        process = _PARSED_PROCESSES[key] = BusinessProcess.model_validate(stored)
    return process


@dataclass(frozen=True)
class ProcessRecord:
    """One business process as stored under its scope: a tenant, or :data:`ALL_TENANTS` for
    the defaults. Its row keeps the scope in ``tenant`` and the process's name beside it, which
    :func:`find_process` searches by."""

    scope: str
    process: BusinessProcess
    origin: Origin  # of a default; a tenant's own process is always an operator's
    updated_at: str

    @property
    def id(self) -> str:
        return process_key(self.scope, self.process.id)

    @classmethod
    def of(cls, row: Doc) -> ProcessRecord:
        return cls(
            scope=row["tenant"],
            process=BusinessProcess.model_validate(row["process"]),
            # Rows written before origins were kept are the shipped ones.
            origin=row.get("origin", "shipped"),
            updated_at=row.get("updated_at", ""),
        )

    def row(self) -> Doc:
        return {
            "id": self.id,
            "tenant": self.scope,
            "name": self.process.name,
            "origin": self.origin,
            "updated_at": self.updated_at,
            "process": self.process.model_dump(mode="json"),
        }


async def in_one_transaction(store: Store, work: Callable[[Session], Awaitable[T]]) -> T:
    """``work`` in one transaction of ``store``, run again whole (on fresh reads) if the store
    aborted it for a conflict; its result once committed. ``work`` reaches the store only
    through this module's functions, with the session it is given."""
    return await store.run_transaction(work)


async def process_record(db: Session, scope: str, process_id: str) -> ProcessRecord | None:
    """The process stored under exactly this scope (no fallback to the defaults)."""
    row = await db.get(PROCESSES.name, process_key(scope, process_id))
    return None if row is None else ProcessRecord.of(row)


async def save_process(
    db: Session, scope: str, process: BusinessProcess, origin: Origin = "operator"
) -> ProcessRecord:
    """Write (or wholly replace) the scope's process; the record as written."""
    record = ProcessRecord(scope=scope, process=process, origin=origin, updated_at=now_iso())
    await db.put(PROCESSES.name, record.row())
    return record


async def delete_process(db: Session, scope: str, process_id: str) -> bool:
    """Remove the scope's own process; whether there was one."""
    return await db.delete(PROCESSES.name, process_key(scope, process_id))


async def processes_of(db: Session, scope: str) -> list[ProcessRecord]:
    """The process records stored under one scope (a tenant, or "*" for the defaults)."""
    return [ProcessRecord.of(row) for row in await db.find(PROCESSES.name, {"tenant": scope})]


async def all_process_records(db: Session) -> list[ProcessRecord]:
    """The process records of every scope."""
    return [ProcessRecord.of(row) for row in await db.find(PROCESSES.name)]


@dataclass(frozen=True)
class RequestRecord:
    """An upload request decided once: its decision is announced again when it is asked again."""

    id: str  # request_key(tenant, request_id)
    tenant: str
    decision: UploadDecided | None
    # The id of the message that was decided: the same message delivered again is applied
    # already. None in records of releases that kept it as an applied-message row instead.
    message: str | None = None


@dataclass(frozen=True)
class DocumentRecord:
    """The master record of one accounting document (per tenant and accounting id)."""

    id: str  # document_key(tenant, document_id)
    tenant: str
    document_id: str
    process: str
    # The process as it was at upload: it governs this version's results.
    process_snapshot: BusinessProcess | None
    request_id: str | None
    channel: str | None
    target: Target | None  # whom the accounting side uploaded it for
    version: int
    state: str
    uploaded_at: str | None = None
    completed_at: str | None = None
    created_on_terminal: bool = False

    @classmethod
    def of(cls, row: Doc) -> DocumentRecord:
        snapshot = row.get("process_snapshot")
        target = row.get("target")
        return cls(
            id=row["id"],
            tenant=row["tenant"],
            document_id=row.get("document_id") or own_id(row["id"], row["tenant"]),
            process=row["process"],
            process_snapshot=BusinessProcess.model_validate(snapshot) if snapshot else None,
            request_id=row.get("request_id"),
            channel=row.get("channel"),
            target=Target.model_validate(target) if target else None,
            version=row["version"],
            state=row["state"],
            uploaded_at=row.get("uploaded_at"),
            completed_at=row.get("completed_at"),
            created_on_terminal=bool(row.get("created_on_terminal")),
        )

    def row(self, snapshot: Doc | None = None, target: Doc | None = None) -> Doc:
        """The stored row; ``snapshot`` and ``target``: the process snapshot's and the target's
        JSON when the caller has them already (the documents of one upload share both)."""
        if snapshot is None and self.process_snapshot is not None:
            snapshot = self.process_snapshot.model_dump(mode="json")
        if target is None and self.target is not None:
            target = self.target.model_dump(mode="json")
        row: Doc = {
            "id": self.id,
            "tenant": self.tenant,
            "document_id": self.document_id,
            "process": self.process,
            "process_snapshot": snapshot,
            "request_id": self.request_id,
            "channel": self.channel,
            "target": target,
            "version": self.version,
            "state": self.state,
            "uploaded_at": self.uploaded_at,
        }
        if self.created_on_terminal:
            row["created_on_terminal"] = True
        return row


@dataclass(frozen=True)
class CopyRecord:
    """One copy (delivery) of a document, for a device, a user, a group or everyone."""

    id: str  # the delivery id
    tenant: str
    document_key: str
    request_id: str
    channel: str
    target: Target
    copy: str  # shared, collective or own
    mode: str  # online or offline
    version: int
    state: str
    routed_at: str
    withdrawn_reason: str | None = None

    @property
    def document_id(self) -> str:
        """The accounting id of the document this copy belongs to."""
        return own_id(self.document_key, self.tenant)

    @classmethod
    def of(cls, row: Doc) -> CopyRecord:
        return record_of(cls, row, target=Target.model_validate(row["target"]))

    def row(self) -> Doc:
        return row_of(self, target=self.target.model_dump(mode="json"))


@dataclass(frozen=True)
class JourneyStep:
    """One step of a document's journey (see journey.py); ``details`` as the step names them."""

    id: str
    tenant: str
    document_key: str
    document_id: str
    at: str
    seq: int
    step: str
    service: str
    delivery_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, row: Doc) -> JourneyStep:
        # The details stand in the row beside the step's own fields.
        details = {k: v for k, v in row.items() if k not in _STEP_FIELDS}
        return record_of(cls, row, details=details)

    def row(self) -> Doc:
        return {**row_of(self, details=None), **self.details}


_STEP_FIELDS = frozenset(f.name for f in fields(JourneyStep)) - {"details"}


# Up to this many rows are read by id one by one. The rule holds for SQLite, where it was
# measured: in process, a get each costs less than one query for a list of them (SQLite builds
# a table of the list) until there are more. On MongoDB each get is a round trip to the server,
# so there one query for the list likely wins from two ids on (not measured).
_FEW = 4


async def _by_ids(db: Session, collection: str, ids: Sequence[str]) -> list[Doc]:
    """The rows of these ids that exist: a get each for a few, one query for more."""
    if len(ids) > _FEW:
        return await db.find(collection, {"id": list(ids)})
    found = [await db.get(collection, id) for id in ids]
    return [row for row in found if row is not None]


# Upload requests ------------------------------------------------------------------------------


async def request(db: Session, tenant: str, request_id: str) -> RequestRecord | None:
    row = await db.get(REQUESTS.name, request_key(tenant, request_id))
    if row is None:
        return None
    decision = row.get("decision")
    return RequestRecord(
        id=row["id"],
        tenant=row["tenant"],
        decision=UploadDecided.model_validate(decision) if decision is not None else None,
        message=row.get("message"),
    )


async def record_decision(
    db: Session,
    tenant: str,
    request_id: str,
    decided: UploadDecided,
    dumped: Doc | None = None,
    *,
    message: str | None = None,
) -> None:
    """Record the request with its decision, once: a request decided before (by another
    instance meanwhile) raises DuplicateKeyError, and the transaction deciding it again is
    rolled back whole. ``dumped``: the decision's JSON when the caller has it already;
    ``message``: the id of the message decided."""
    key = request_key(tenant, request_id)
    row = {
        "id": key,
        "tenant": tenant,
        "at": now_iso(),
        "decision": dumped if dumped is not None else decided.model_dump(mode="json"),
    }
    if message is not None:
        row["message"] = message
    await db.insert(REQUESTS.name, row)


# Master records -------------------------------------------------------------------------------


async def document(db: Session, key: str) -> DocumentRecord | None:
    """A document's master record by its key (:func:`document_key`)."""
    row = await db.get(DOCUMENTS.name, key)
    return None if row is None else DocumentRecord.of(row)


async def documents(db: Session, keys: Sequence[str]) -> dict[str, DocumentRecord]:
    """The master records of these documents that exist, by key (a get each for up to
    ``_FEW`` of them, else one query)."""
    return {row["id"]: DocumentRecord.of(row) for row in await _by_ids(db, DOCUMENTS.name, keys)}


async def document_states(db: Session, keys: Iterable[str]) -> dict[str, tuple[str, int]]:
    """The state and version of each of these master records that exists, by key (read as
    :func:`documents` reads them): their processes and targets are not made into records."""
    rows = await _by_ids(db, DOCUMENTS.name, list(keys))
    return {row["id"]: (row["state"], row["version"]) for row in rows}


async def put_document(db: Session, master: DocumentRecord, snapshot: Doc | None = None) -> None:
    """Write the master record (``snapshot``: its process's JSON, see DocumentRecord.row)."""
    await put_documents(db, [master], snapshot)


async def put_documents(
    db: Session,
    masters: Sequence[DocumentRecord],
    snapshot: Doc | None = None,
    target: Doc | None = None,
) -> None:
    """Write the master records of one upload's documents, in one statement: ``snapshot`` and
    ``target`` are their process's and their target's JSON (the same for all of them; each
    record's own when not given)."""
    if masters:
        await db.put_many(DOCUMENTS.name, [master.row(snapshot, target) for master in masters])


async def set_document_state(db: Session, key: str, state: str) -> None:
    await db.update(DOCUMENTS.name, key, {"state": state})


async def complete_document(db: Session, key: str, state: str) -> None:
    await db.update(DOCUMENTS.name, key, {"state": state, "completed_at": now_iso()})


async def mark_loaded(db: Session, key: str, *, state: str, from_state: str) -> bool:
    """Move the document to ``state`` (loaded) if it is in ``from_state``; whether it moved."""
    return await db.update(
        DOCUMENTS.name, key, {"state": state, "loaded_at": now_iso()}, expect={"state": from_state}
    )


# Copies ---------------------------------------------------------------------------------------


async def copy_of(db: Session, delivery_id: str) -> CopyRecord | None:
    row = await db.get(DELIVERIES.name, delivery_id)
    return None if row is None else CopyRecord.of(row)


async def copies_of(db: Session, key: str, version: int | None = None) -> list[CopyRecord]:
    """The copies of a document (by document key), of one upload version when given."""
    where: dict[str, object] = {"document_key": key}
    if version is not None:
        where["version"] = version
    return [CopyRecord.of(row) for row in await db.find(DELIVERIES.name, where)]


async def copies_of_documents(db: Session, keys: Sequence[str]) -> dict[str, list[CopyRecord]]:
    """The copies of these documents, of every version, by document key, in one query."""
    found: dict[str, list[CopyRecord]] = {key: [] for key in keys}
    for row in await db.find(DELIVERIES.name, {"document_key": list(keys)}):
        found[row["document_key"]].append(CopyRecord.of(row))
    return found


async def copies(db: Session, delivery_ids: Sequence[str]) -> dict[str, CopyRecord]:
    """The copies of these deliveries that exist, by delivery id (a get each for up to
    ``_FEW`` of them, else one query)."""
    rows = await _by_ids(db, DELIVERIES.name, delivery_ids)
    return {row["id"]: CopyRecord.of(row) for row in rows}


async def copy_states_of(db: Session, versions: Mapping[str, int]) -> dict[str, list[str]]:
    """:func:`copy_states` of several documents (document key: version), in one query."""
    found: dict[str, list[str]] = {key: [] for key in versions}
    # The versions asked narrow the query (the index is on both fields); which one is each
    # document's is checked per row.
    where = {"document_key": list(versions), "version": sorted(set(versions.values()))}
    for row in await db.find(DELIVERIES.name, where):
        if row["version"] == versions[row["document_key"]]:
            found[row["document_key"]].append(row["state"])
    return found


async def copy_states(db: Session, key: str, version: int) -> list[str]:
    """The states of one upload version's copies of a document: what its own state and its
    completion follow, read without making a record of each copy."""
    return (await copy_states_of(db, {key: version}))[key]


async def add_copy(db: Session, copy: CopyRecord) -> None:
    await db.insert(DELIVERIES.name, copy.row())


async def add_new_copies(db: Session, copies: Sequence[CopyRecord]) -> None:
    """Write copies just made, in one statement. Each id is new (a random one): one taken
    already raises DuplicateKeyError, as :func:`add_copy` does, and never overwrites a copy."""
    if copies:
        await db.insert_many(DELIVERIES.name, [copy.row() for copy in copies])


async def withdraw_copy(db: Session, delivery_id: str, *, state: str, reason: str) -> None:
    await db.update(DELIVERIES.name, delivery_id, {"state": state, "withdrawn_reason": reason})


async def set_copy_state(db: Session, delivery_id: str, state: str) -> None:
    await db.update(DELIVERIES.name, delivery_id, {"state": state})


async def record_copy_step(db: Session, delivery_id: str, state: str, by: str | None) -> None:
    """The copy's state after a step the channel reported, and who reported it (a device id,
    a login, or None when the channel itself did)."""
    await db.update(DELIVERIES.name, delivery_id, {"state": state, "by": by})


# The document and its facts -------------------------------------------------------------------


async def start_body(
    db: Session, tenant: str, key: str, document: Doc, *, first_version: bool = False
) -> None:
    """The document of a new upload version (its JSON), with no facts counted yet. An earlier
    version's facts are cleared; a first version has none, and its facts row is written with
    its first result (:func:`facts_of` reads a missing row as no facts)."""
    await start_bodies(db, tenant, [(key, document, first_version)])


async def start_bodies(db: Session, tenant: str, started: Sequence[tuple[str, Doc, bool]]) -> None:
    """:func:`start_body` for several documents (key, document, first version), one statement
    for their bodies and one for the facts cleared of those that had an earlier version."""
    if started:
        bodies = [{"id": key, "tenant": tenant, "document": doc} for key, doc, _ in started]
        await db.put_many(DOCUMENT_BODIES.name, bodies)
    cleared = [{"id": key, "tenant": tenant, "facts": {}} for key, _, first in started if not first]
    if cleared:
        await db.put_many(DOCUMENT_FACTS.name, cleared)


# Master records written before the document and its facts were kept apart hold them
# themselves: they are still read from there.


async def body_of(db: Session, key: str) -> CarriedDocument | None:
    """The document as uploaded, its lines as their JSON (no line model is built)."""
    row = await db.get(DOCUMENT_BODIES.name, key)
    if row is None:
        row = await db.get(DOCUMENTS.name, key)
    stored = row.get("document") if row is not None else None
    return None if stored is None else CarriedDocument.model_validate(stored)


async def facts_of(db: Session, key: str) -> dict[str, list[FactLine]]:
    """The document's facts so far, by who sent them (``<delivery id>:<user>``)."""
    row = await db.get(DOCUMENT_FACTS.name, key)
    if row is None:
        row = await db.get(DOCUMENTS.name, key)
    stored: dict[str, list[Doc]] = (row or {}).get("facts") or {}
    return {who: [FactLine.model_validate(f) for f in lines] for who, lines in stored.items()}


async def save_facts(db: Session, master: DocumentRecord, facts: dict[str, list[FactLine]]) -> None:
    dumped = {who: [f.model_dump(mode="json") for f in lines] for who, lines in facts.items()}
    row = {"id": master.id, "tenant": master.tenant, "facts": dumped}
    await db.put(DOCUMENT_FACTS.name, row)


# The journey ----------------------------------------------------------------------------------


async def stored_steps(db: Session, step_ids: Sequence[str]) -> set[str]:
    """Which of these steps are stored already (a get each for up to ``_FEW`` of them, else
    one query)."""
    return {row["id"] for row in await _by_ids(db, JOURNEY.name, step_ids)}


async def add_steps(db: Session, steps: Sequence[JourneyStep]) -> None:
    """Write steps none of which is stored yet (journey.py's Journal sees to it), in one
    statement: a step stored already raises DuplicateKeyError and is never overwritten."""
    if steps:
        await db.insert_many(JOURNEY.name, [step.row() for step in steps])


async def steps_of(db: Session, key: str) -> list[JourneyStep]:
    """A document's steps (by document key), in the order they happened."""
    steps = [JourneyStep.of(row) for row in await db.find(JOURNEY.name, {"document_key": key})]
    steps.sort(key=lambda s: (s.at, s.seq))
    return steps


async def steps_matching(
    db: Session, tenant: str | None, fields: Sequence[str], value: str
) -> list[JourneyStep]:
    """Steps whose ``fields`` (any of them) equal ``value``, of one base or of all (None)."""
    where: dict[str, Any] = {} if tenant is None else {"tenant": tenant}
    return [
        JourneyStep.of(row)
        for name in fields
        for row in await db.find(JOURNEY.name, {**where, name: value})
    ]


# Routing's copy of the registry's directory (directory_replica.py) ----------------------------
# Devices by id and each base's people by tenant, each with the registry's revision; a copy is
# only ever replaced by a newer revision. One row of REPLICA_STATE says a snapshot was applied.

_SNAPSHOT_ROW = "snapshot"


@dataclass(frozen=True)
class ReplicaDevice:
    """Routing's copy of a registry device; the gateway keeps its own (DeviceCopy in
    gateway/records.py): the same first fields, each service's own store and extras."""

    id: str
    tenant: str
    pin: str
    name: str
    model: str
    hardware_id: str
    mode: Literal["online", "offline"]
    status: str  # active, blocked, retired
    revision: int
    replaced_by: str | None = None

    @classmethod
    def of(cls, doc: Doc) -> Self:
        return record_of(cls, doc)

    def row(self) -> Doc:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ReplicaPeople:
    id: str  # the tenant
    users: list[str]
    groups: dict[str, list[str]]
    revision: int

    @classmethod
    def of(cls, doc: Doc) -> Self:
        return cls(doc["id"], list(doc["users"]), dict(doc["groups"]), doc["revision"])

    def row(self) -> Doc:
        return {"id": self.id, "tenant": self.id, **self.__dict__}


async def keep_device(db: Session, device: ReplicaDevice) -> bool:
    """Keep the device unless a newer revision of it is there; True if kept."""
    return await put_newer(db, REPLICA_DEVICES.name, device.row())


async def keep_people(db: Session, people: ReplicaPeople) -> bool:
    return await put_newer(db, REPLICA_PEOPLE.name, people.row())


async def replica_device(db: Session, device_id: str) -> ReplicaDevice | None:
    doc = await db.get(REPLICA_DEVICES.name, device_id)
    return None if doc is None else ReplicaDevice.of(doc)


async def replica_device_by_pin(db: Session, tenant: str, pin: str) -> ReplicaDevice | None:
    """The active device with this PIN, else the blocked one that keeps it (an upload to it is
    then refused as «blocked», which tells 1C what to do, not as «no such PIN»); a retired
    device's PIN is nobody's."""
    for status in ("active", "blocked"):
        where = {"tenant": tenant, "pin": pin, "status": status}
        found = await db.find(REPLICA_DEVICES.name, where, limit=1)
        if found:
            return ReplicaDevice.of(found[0])
    return None


async def replica_devices(
    db: Session, tenant: str, status: str | None = None
) -> list[ReplicaDevice]:
    where: dict[str, Any] = {"tenant": tenant}
    if status is not None:
        where["status"] = status
    return [ReplicaDevice.of(d) for d in await db.find(REPLICA_DEVICES.name, where, order_by="id")]


async def replica_people(db: Session, tenant: str) -> ReplicaPeople | None:
    doc = await db.get(REPLICA_PEOPLE.name, tenant)
    return None if doc is None else ReplicaPeople.of(doc)


async def snapshot_applied_at(db: Session) -> str | None:
    """When a snapshot of the registry's directory was last applied whole; None: never."""
    doc = await db.get(REPLICA_STATE.name, _SNAPSHOT_ROW)
    return None if doc is None else str(doc["at"])


async def mark_snapshot_applied(db: Session) -> None:
    await db.put(REPLICA_STATE.name, {"id": _SNAPSHOT_ROW, "at": now_iso()})


async def copies_for_device(
    db: Session, tenant: str, device_id: str, states: Sequence[str]
) -> list[CopyRecord]:
    """The copies routed to a device that are in one of ``states``."""
    where = {"tenant": tenant, "target.value": device_id, "state": list(states)}
    return [CopyRecord.of(row) for row in await db.find(DELIVERIES.name, where)]


async def retarget_copy(db: Session, delivery_id: str, target: Target) -> None:
    await db.update(DELIVERIES.name, delivery_id, {"target": target.model_dump(mode="json")})


async def return_copy(db: Session, copy: CopyRecord, code: str) -> bool:
    """Withdraw a copy no terminal has taken, as returned with ``code``; False if it was taken."""
    changes = {"state": states.WITHDRAWN, "withdrawn_reason": "returned", "returned_code": code}
    return await db.update(DELIVERIES.name, copy.id, changes, expect={"state": copy.state})
