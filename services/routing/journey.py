"""A document's journey: every step of it, recorded once, in order, with its time, the service
where it happened, and whom it concerned (channel, device, user).

Routing keeps the master record of every document and already applies the messages that
report its steps, so it records them there, in the transaction that applies the message: the
consumer's applied-message rule then makes a redelivered message add nothing. No message is
added for the journey's sake.

- Steps a copy takes once (``delivered``, ``downloaded``) are keyed by copy and step (id
  ``<document key>:<delivery id>:<step>``): the same news reported again by another message is
  still one step, and news arriving late (delivered after downloaded) is still recorded at its
  own time.
- Other steps are keyed by the message that reported them and their place in it (id
  ``<message id>:<n>``). The message id alone makes the id unique, since a message is applied
  once (see :class:`Journal`); the document key is left out so that one message's steps sort
  side by side in the journey's index by id: an upload of many documents writes a few index
  pages, not one per document. Steps written before this shape carry
  ``<document key>:<message id>:<n>``; the two shapes never meet, and no such step is read by
  its id.
- Steps are inserted, never upserted: an id taken already raises DuplicateKeyError (the
  message's transaction is rolled back) instead of overwriting a step.
- A refused upload leaves ``requested`` and ``refused`` steps under the document's id even
  though no master record is made: the accounting side and operators see why it went nowhere.

The steps routing records (``ROUTING_STEPS``, shared/journey.py, where every step of the journey
is named) are documented in docs/routing.md; the views below are what the gateway (accounting
API, admin API) and the dashboard show, each with the gateway's own steps joined in.
"""

from __future__ import annotations

from typing import Any, Protocol

from services.routing import repository as repo
from services.routing import states
from shared.clock import now_iso
from shared.contracts import Envelope
from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import Channel
from shared.errors import Refusal
from shared.journey import ROUTING_STEPS
from shared.storage import Doc, Session

ONCE_PER_COPY = ("delivered", "downloaded")

# Where a channel's steps happen.
CHANNEL_SERVICE: dict[str, str] = {"internet": "gateway", "lan": "lan_writer"}
# What a DeliveryProgressed state is called in the journey.
PROGRESS_STEP = {
    "delivered": "delivered",
    "downloaded": "downloaded",
    "in_progress": "taken",
    "released": "released",
}


class Journal:
    """The steps one message adds, written with the transaction that applies it: kept here
    as they are added and written together when the message's work is done (``async with``,
    or :meth:`write`), one statement for all of them.

    - A step keyed by the message and its place in it cannot be there yet: the message's
      record in the same transaction (its applied-message row, or the upload request's record
      that names it) lets it be applied only once.
    - A copy's once-only step (``ONCE_PER_COPY``) may be: those already stored are read in
      one query for all the message's copies and left as they are, and one the message names
      twice is kept the first time.
    """

    def __init__(self, db: Session, envelope: Envelope) -> None:
        self._db = db
        self._envelope = envelope
        self._tenant = envelope.tenant or ""
        self._at = now_iso()
        self._n = 0
        self._steps: dict[str, repo.JourneyStep] = {}

    async def __aenter__(self) -> Journal:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:  # otherwise the transaction is rolled back: nothing to write
            await self.write()

    def add(
        self,
        document_id: str,
        step: str,
        *,
        service: str,
        at: str | None = None,
        delivery_id: str | None = None,
        **details: Any,
    ) -> None:
        assert step in ROUTING_STEPS, step
        self._n += 1
        key = repo.document_key(self._tenant, document_id)
        if step in ONCE_PER_COPY and delivery_id is not None:
            step_id = f"{key}:{delivery_id}:{step}"
            if step_id in self._steps:
                return
        else:
            # By the message, not the document: the steps of one message sit side by side in
            # the journey's index by id, a few pages for an upload of many documents.
            step_id = f"{self._envelope.id}:{self._n}"
        self._steps[step_id] = repo.JourneyStep(
            id=step_id,
            tenant=self._tenant,
            document_key=key,
            document_id=document_id,
            at=at or self._at,
            seq=self._n,
            step=step,
            service=service,
            delivery_id=delivery_id,
            details={k: v for k, v in details.items() if v is not None},
        )

    def requested(self, document: CarriedDocument, channel: Channel, target: Doc) -> None:
        self.add(
            document.header.id,
            "requested",
            service="accounting",
            at=self._envelope.time.isoformat(),
            number=document.header.number or None,
            accounting_type=document.header.accounting_type,
            channel=channel,
            target=target,
        )

    async def write(self) -> None:
        """Write the steps added since the last write, in the order they were added."""
        steps, self._steps = self._steps, {}
        once = [
            s.id for s in steps.values() if s.step in ONCE_PER_COPY and s.delivery_id is not None
        ]
        stored = await repo.stored_steps(self._db, once) if once else set()
        await repo.add_steps(self._db, [s for s in steps.values() if s.id not in stored])


def _public(step: repo.JourneyStep) -> Doc:
    shown: Doc = {"at": step.at, "step": step.step, "service": step.service}
    if step.delivery_id is not None:
        shown["delivery_id"] = step.delivery_id
    shown.update({k: v for k, v in step.details.items() if k != "device_id"})
    return shown


class _Device(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def pin(self) -> str: ...
    @property
    def name(self) -> str: ...


def device_named(device: _Device) -> Doc:
    """A device as a step names it: its id, the PIN the operator sees, its name."""
    return {"id": device.id, "pin": device.pin, "name": device.name}


async def timeline(db: Session, tenant: str, document_id: str) -> list[Doc]:
    """The document's steps in order; each step of a copy names the copy's device (or user).

    A copy moved to a device's replacement (which took over the PIN and the waiting documents)
    names the replacement from its ``moved`` step on, and so does a step that replacement
    reported: by its PIN and name as routing's copy of the directory knows them, or by its id
    alone when the copy no longer holds it.
    """
    rows = await repo.steps_of(db, repo.document_key(tenant, document_id))
    devices = {
        r.delivery_id: r.details["device"]
        for r in rows
        if r.step == "routed" and "device" in r.details
    }
    named: dict[str, Doc] = {}

    async def known_as(device_id: str) -> Doc:
        if device_id not in named:
            found = await repo.replica_device(db, device_id)
            named[device_id] = {"id": device_id} if found is None else device_named(found)
        return named[device_id]

    steps = []
    for row in rows:
        step = _public(row)
        device = devices.get(row.delivery_id or "")
        reported_by = row.details.get("device_id")
        moved_to = (row.details.get("target") or {}).get("value") if row.step == "moved" else None
        if moved_to:
            step["device"] = await known_as(moved_to)
        elif reported_by and (device is None or device["id"] != reported_by):
            step["device"] = await known_as(reported_by)
        elif device is not None and "device" not in step:
            step["device"] = device
        steps.append(step)
    return steps


async def journey_view(
    db: Session, tenant: str, document_id: str, *, held: bool = True
) -> Doc | None:
    """The document's state and timeline, or None when this base never asked for it.
    ``held``: with why it waits, when it does (a search lists no timeline, and skips it)."""
    steps = await timeline(db, tenant, document_id)
    master = await repo.document(db, repo.document_key(tenant, document_id))
    if not steps and master is None:
        return None
    if master is not None and held:
        steps.extend(await _held(db, master))
    requested = [s for s in steps if s["step"] == "requested"]
    # Never accepted: the last answer was a refusal.
    state = master.state if master is not None else "refused"
    return {
        "document_id": document_id,
        "tenant": tenant,
        "number": requested[-1].get("number", "") if requested else "",
        "accounting_type": requested[-1].get("accounting_type", "") if requested else "",
        "process": master.process if master else None,
        "version": master.version if master else None,
        "state": state,
        "timeline": steps,
    }


async def _held(db: Session, master: repo.DocumentRecord) -> list[Doc]:
    """Why the document has not arrived, when it is why: each live copy of its version whose
    device is blocked or retired now (a blocked device's inbox waits for it to be let in
    again). Shown at the end of the timeline, as of now; never recorded."""
    held: list[Doc] = []
    for copy in await repo.copies_of(db, master.id, master.version):
        if copy.state not in states.LIVE or copy.target.kind != "device" or not copy.target.value:
            continue
        device = await repo.replica_device(db, copy.target.value)
        if device is None or device.status == "active":
            continue
        held.append(
            {
                "at": now_iso(),
                "step": "held",
                "service": "routing",
                "delivery_id": copy.id,
                "device": device_named(device),
                "code": f"device_{device.status}",
            }
        )
    return held


# What a search matches: the accounting id, the number, the PIN of the device it went to.
_SEARCHED = ("document_id", "number", "device.pin")


async def find(db: Session, tenant: str | None, query: str, limit: int = 20) -> list[Doc]:
    """Documents whose accounting id, number or device PIN is ``query`` (one base, or all when
    ``tenant`` is None), most recent first."""
    found: dict[str, repo.JourneyStep] = {}
    for row in await repo.steps_matching(db, tenant, _SEARCHED, query):
        latest = found.get(row.document_key)
        if latest is None or row.at > latest.at:
            found[row.document_key] = row
    matches = []
    for row in sorted(found.values(), key=lambda r: r.at, reverse=True)[:limit]:
        view = await journey_view(db, row.tenant, row.document_id, held=False)
        if view is not None:
            matches.append({k: v for k, v in view.items() if k != "timeline"})
    return matches


async def document_view(db: Session, tenant: str, document_id: str) -> dict[str, Any]:
    """A document's master record as operators see it: state, version and copies."""
    key = repo.document_key(tenant, document_id)
    master = await repo.document(db, key)
    if master is None:
        raise Refusal("not_found", 404)
    copies = await repo.copies_of(db, key)
    return {
        "document_id": master.document_id,
        "process": master.process,
        "channel": master.channel,
        "target": master.target.model_dump(mode="json") if master.target else None,
        "version": master.version,
        "state": master.state,
        "request_id": master.request_id,
        "uploaded_at": master.uploaded_at,
        "completed_at": master.completed_at,
        "copies": [
            {
                "delivery_id": c.id,
                "version": c.version,
                "channel": c.channel,
                "target": c.target.model_dump(mode="json"),
                "copy": c.copy,
                "mode": c.mode,
                "state": c.state,
                "withdrawn_reason": c.withdrawn_reason,
            }
            for c in sorted(copies, key=lambda c: (c.version, c.routed_at))
        ],
    }
