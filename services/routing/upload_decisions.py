"""Deciding upload requests: the rules, the master record of each document, and its copies.

A request is decided once per request id; asking again re-announces the same decision and
delivers nothing new. Everything a decision changes, and every event it causes, is committed
in one transaction: all the request's documents together.

What a decision publishes, as few messages as the asker allows:

- accepted, with copies: one ``document.routed.<channel>`` with every document once and all
  its copies. When the asker reads the answer from the copies (``answer_with_copies``: the
  gateway, and routing's own follow-ups) and they go to the internet channel, the decision
  travels inside that message; otherwise ``upload.decided`` follows it (an adapter on the
  broker, the LAN channel, whose copies the gateway does not receive);
- refused (or accepted with no copy): ``upload.decided`` alone;
- asked again: ``upload.decided`` with the recorded decision.

The registry's known-devices list takes ``upload.decided`` whole, and ``document.routed.internet``
only when the decision it carries is news to the list (device_news.py): such a message goes
under its news key, which every consumer of the copies takes as well.

Uploading a document again (same accounting id) starts a new version of it:

- copies no terminal has taken yet are withdrawn with reason ``replaced``;
- if the document is being worked on (a copy is taken, or some copy finished while the
  document is not complete), the request is refused with ``document_in_work`` unless it asks
  to ``recall``: then the taken copies are withdrawn with reason ``recalled`` (the terminal
  learns it at its next contact) and the results sent so far are dropped;
- if the document is completed and the accounting side has not loaded its result yet, the
  request is refused with ``document_result_not_loaded``, recall or not: the new version's
  result would take the place of one nobody has read.

A request that names the same document twice is refused with ``document_repeated`` before
any other rule: its copies would replace each other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from services.routing import repository as repo
from services.routing import rules, states
from services.routing.device_news import DeviceNews
from services.routing.journey import Journal, device_named
from services.routing.processes import BusinessProcess
from shared.clock import now_iso
from shared.contracts import Envelope
from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import Target
from shared.contracts.uploads import (
    Delivery,
    DeliverySettings,
    DocumentRouted,
    DocumentWithdrawn,
    RoutedCopy,
    UploadDecided,
    UploadRequested,
    over_limits,
)
from shared.i18n import render
from shared.ids import time_ordered_id
from shared.logging import get_logger
from shared.messaging.consumer import PermanentFailure
from shared.messaging.topology import DEVICE_NEWS_KEYS, device_news_of
from shared.metrics import DOCUMENTS_ROUTED, UPLOADS
from shared.outbox import AlreadyApplied, Tx, UnitOfWork
from shared.storage import Doc, DuplicateKeyError, Store

log = get_logger("tsdx.routing")


# The directory facts the rules ask for, of one tenant, as of the upload's request time
# (routing's copy of the registry's directory, see directory_client.py).
FetchDirectory = Callable[[str, rules.Lookups, datetime], Awaitable[rules.DirectoryView]]


@dataclass(frozen=True)
class _Deciding:
    """One request's decision inside its transaction: what every step of accepting it uses."""

    tx: Tx
    journal: Journal
    tenant: str
    envelope: Envelope
    request: UploadRequested
    process: BusinessProcess
    # Dumped once each: the process for every master record's snapshot, the request's target
    # for every master record; each document for its body row and for ``document.routed`` (by
    # document id, filled as they are started).
    process_json: Doc
    target_json: Doc
    documents_json: dict[str, Doc]
    # The rows the accepted request adds, written together once every document is decided.
    adds: _Adds


@dataclass(frozen=True)
class _Adds:
    """What accepting a request writes of its documents: one statement for each kind of row,
    however many documents the request holds."""

    masters: list[repo.DocumentRecord] = field(default_factory=list)
    bodies: list[tuple[str, Doc, bool]] = field(default_factory=list)  # key, document, first
    copies: list[repo.CopyRecord] = field(default_factory=list)

    async def write(self, deciding: _Deciding) -> None:
        db = deciding.tx.db
        await repo.put_documents(db, self.masters, deciding.process_json, deciding.target_json)
        await repo.start_bodies(db, deciding.tenant, self.bodies)
        await repo.add_new_copies(db, self.copies)


class UploadDecider:
    def __init__(
        self,
        store: Store,
        uow: UnitOfWork,
        directory: FetchDirectory,
        *,
        max_documents: int,
        max_lines: int,
        news: DeviceNews | None = None,
    ) -> None:
        self._store = store
        self._uow = uow
        self._directory = directory
        self._max_documents = max_documents
        self._max_lines = max_lines
        self._news = news if news is not None else DeviceNews()

    async def handle(self, envelope: Envelope, request: UploadRequested) -> None:
        tenant = envelope.tenant
        if not tenant:
            raise PermanentFailure("upload.requested without a tenant")
        # The HTTP edge's limits hold for adapters that publish straight to the broker too.
        broken = over_limits(request, max_documents=self._max_documents, max_lines=self._max_lines)
        if broken is not None:
            code, params = broken
            raise PermanentFailure(f"{code}: {render(code, 'en', params)}")
        previous = await repo.request(self._store, tenant, request.request_id)
        if previous is not None:
            await self._asked_again(envelope, previous)
            return
        process = await repo.find_process(self._store, tenant, request.process)
        decision = await self._decide(tenant, request, process, envelope)
        try:
            # The request's record keeps this message's id: it is the message's applied
            # record (no row of its own in applied_messages), written in the same transaction.
            async with self._uow() as tx, Journal(tx.db, envelope) as journal:
                target = request.target.model_dump(mode="json")
                named = _named_once(request)
                for document in named:
                    journal.requested(document, request.channel, target)
                routed: list[RoutedCopy] = []
                dumped: dict[str, Doc] = {}
                if isinstance(decision, rules.Refused):
                    decided = _refused(request, envelope, decision.code, dict(decision.params))
                else:
                    assert process is not None
                    deciding = _Deciding(
                        tx,
                        journal,
                        tenant,
                        envelope,
                        request,
                        process,
                        process.model_dump(mode="json"),
                        target,
                        dumped,
                        _Adds(),
                    )
                    decided = await self._accept(deciding, decision, routed)
                if decided.outcome == "refused":
                    for document in named:
                        journal.add(
                            document.header.id,
                            "refused",
                            service="routing",
                            code=decided.code,
                            params=decided.params or None,
                        )
                # The request's record, written with the decision (a request decided
                # meanwhile by another instance ends this transaction in DuplicateKeyError).
                # Dumped once: for the request's record and for the answer.
                answer = _Answer(decided, decided.model_dump(mode="json"))
                await repo.record_decision(
                    tx.db, tenant, request.request_id, decided, answer.json, message=envelope.id
                )
                told = await self._announce(tx, tenant, envelope, request, answer, routed, dumped)
                # Told once committed: a decision rolled back (a DuplicateKeyError below, or a
                # conflict) routed nothing and told the device list nothing.
                tx.once_committed(partial(self._told, tenant, told, request, decided, process))
        except DuplicateKeyError:
            previous = await repo.request(self._store, tenant, request.request_id)
            if previous is None:
                # Another row collided, not the request's record: nothing was decided. Acking
                # would lose the upload; the consumer retries the message (or parks it).
                raise
            # Decided meanwhile by another routing instance: that decision stands.
            await self._asked_again(envelope, previous)
            return

    def _told(
        self,
        tenant: str,
        told: list[str],
        request: UploadRequested,
        decided: UploadDecided,
        process: BusinessProcess | None,
    ) -> None:
        """What a committed decision tells: the device list's news, the counters, its line."""
        self._news.told(tenant, told)
        UPLOADS.labels(decided.outcome, decided.code or "").inc()
        if process is not None:
            for delivery in decided.deliveries:
                DOCUMENTS_ROUTED.labels(delivery.channel, delivery.target.kind, process.id).inc()
        log.info(
            "upload.decided",
            request_id=request.request_id,
            outcome=decided.outcome,
            code=decided.code,
            deliveries=len(decided.deliveries),
        )

    async def _decide(
        self,
        tenant: str,
        request: UploadRequested,
        process: BusinessProcess | None,
        envelope: Envelope,
    ) -> rules.Decision:
        repeated = _repeated_document(request)
        if repeated is not None:
            return rules.Refused("document_repeated", {"document": repeated})
        types = [d.header.accounting_type for d in request.documents]
        lookups = rules.lookups_for(process, request.channel, request.target, types)
        directory = await self._directory(tenant, lookups, envelope.time)
        # A process not found: the one its name comes closest to, to say in the refusal.
        nearest = (
            "" if process else await repo.nearest_process(self._store, tenant, request.process)
        )
        return rules.decide(
            process,
            request.process,
            request.channel,
            request.target,
            types,
            directory,
            tenant=tenant,
            nearest=nearest,
        )

    async def _announce(
        self,
        tx: Tx,
        tenant: str,
        envelope: Envelope,
        request: UploadRequested,
        answer: _Answer,
        copies: list[RoutedCopy],
        dumped: dict[str, Doc],
    ) -> list[str]:
        """Publish the decision and the copies: one message for an internet upload whose asker
        reads the decision from its copies, otherwise the copies and ``upload.decided``.
        ``dumped``: each document's JSON, as its body row took it. Answers the devices the
        known-devices list is told of by the copies' message (news), if any."""
        decided = answer.decided
        if decided.outcome != "accepted" or not copies:
            await tx.emit_dumped(decided, answer.json, tenant)
            return []
        answered_by_copies = request.answer_with_copies and request.channel == "internet"
        used = {c.document_id for c in copies}
        routed = DocumentRouted(
            request_id=request.request_id,
            process=decided.process,
            channel=request.channel,
            documents=[d for d in _named_once(request) if d.header.id in used],
            copies=copies,
            requested_at=envelope.time,
            decided=decided if answered_by_copies else None,
        )
        body = _routed_json(routed, dumped, answer.json if answered_by_copies else None)
        if not answered_by_copies:
            await tx.emit_dumped(routed, body, tenant)
            await tx.emit_dumped(decided, answer.json, tenant)
            return []
        reached = decided.devices_reached()
        news_key = device_news_of(routed.routing_key())
        if news_key not in DEVICE_NEWS_KEYS or not self._news.is_news(tenant, reached):
            await tx.emit_dumped(routed, body, tenant)
            return []
        await tx.emit_dumped(routed, body, tenant, news_key)
        return reached

    async def _asked_again(self, envelope: Envelope, previous: repo.RequestRecord) -> None:
        """A request decided before: the message that was decided, delivered again, is applied
        already; another message asking the same announces the same decision again."""
        if previous.message == envelope.id:
            raise AlreadyApplied(envelope.id)
        async with self._uow(applying=envelope) as tx:
            if previous.decision is not None:
                await tx.emit(previous.decision, envelope.tenant)

    async def _accept(
        self, deciding: _Deciding, decision: rules.Accepted, routed: list[RoutedCopy]
    ) -> UploadDecided:
        tx, tenant, request = deciding.tx, deciding.tenant, deciding.request
        # Re-uploads first: all-or-nothing, so refuse before anything is written. What each
        # document's earlier upload left is read once, for the refusal and for its new version.
        earlier = await _earlier(tx, tenant, request.documents)
        for document in request.documents:
            code = earlier[document.header.id].refusal(recall=request.recall)
            if code is not None:
                params = {"document": document.header.id, "number": document.header.number}
                return _refused(request, deciding.envelope, code, params)
        deliveries: list[Delivery] = []
        for route in decision.routes:
            document = request.documents[route.document_index]
            version = await self._start_version(deciding, document, earlier[document.header.id])
            for recipient in route.recipients:
                delivery, copy = await self._deliver(deciding, document, version, recipient)
                deliveries.append(delivery)
                routed.append(copy)
        await deciding.adds.write(deciding)
        return UploadDecided(
            request_id=request.request_id,
            process=deciding.process.id,
            channel=request.channel,
            target=request.target,
            outcome="accepted",
            deliveries=deliveries,
            requested_at=deciding.envelope.time,
        )

    async def _start_version(
        self, deciding: _Deciding, document: CarriedDocument, earlier: _Earlier
    ) -> int:
        """Withdraw live copies of an earlier upload of this document; return the new version."""
        tx, journal, tenant = deciding.tx, deciding.journal, deciding.tenant
        envelope, request, process = deciding.envelope, deciding.request, deciding.process
        key = repo.document_key(tenant, document.header.id)
        master = earlier.master
        version = (master.version + 1) if master else 1
        journal.add(
            document.header.id,
            "decided",
            service="routing",
            process=process.id,
            version=version,
            request_id=request.request_id,
        )
        for copy in earlier.copies:
            if copy.state not in states.LIVE:
                continue
            reason = "replaced" if copy.state in states.NOT_TAKEN else "recalled"
            await repo.withdraw_copy(tx.db, copy.id, state=states.WITHDRAWN, reason=reason)
            await tx.emit(
                DocumentWithdrawn(delivery_id=copy.id, channel=copy.channel, reason=reason),
                tenant,
            )
            journal.add(
                document.header.id,
                "withdrawn",
                service="routing",
                delivery_id=copy.id,
                channel=copy.channel,
                reason=reason,
            )
        deciding.adds.masters.append(
            repo.DocumentRecord(
                id=key,
                tenant=tenant,
                document_id=document.header.id,
                process=process.id,
                process_snapshot=process,
                request_id=request.request_id,
                channel=request.channel,
                target=request.target,
                version=version,
                state=states.QUEUED,
                uploaded_at=envelope.time.isoformat(),
            )
        )
        dumped = deciding.documents_json[document.header.id] = document.as_json()
        deciding.adds.bodies.append((key, dumped, master is None))
        return version

    async def _deliver(
        self,
        deciding: _Deciding,
        document: CarriedDocument,
        version: int,
        recipient: rules.Recipient,
    ) -> tuple[Delivery, RoutedCopy]:
        """Make one copy; what the decision says of it and what its channel is sent of it."""
        journal, tenant = deciding.journal, deciding.tenant
        request, process = deciding.request, deciding.process
        delivery_id = time_ordered_id()
        device = recipient.device
        settings = DeliverySettings(
            terminal_type=process.terminal_type,
            quantity_control=process.quantity_control,
            collective=recipient.copy == "collective",
            mode=device.mode if device else "online",
            ask_for=process.ask_for,
        )
        target = Target(kind="device", value=device.id) if device else recipient.target
        deciding.adds.copies.append(
            repo.CopyRecord(
                id=delivery_id,
                tenant=tenant,
                document_key=repo.document_key(tenant, document.header.id),
                request_id=request.request_id,
                channel=request.channel,
                target=target,
                copy=recipient.copy,
                mode=settings.mode,
                version=version,
                state=states.ROUTED,
                routed_at=now_iso(),
            )
        )
        journal.add(
            document.header.id,
            "routed",
            service="routing",
            delivery_id=delivery_id,
            channel=request.channel,
            target=target.model_dump(mode="json"),
            copy=recipient.copy,
            mode=settings.mode,
            version=version,
            device=device_named(device) if device else None,
        )
        delivery = Delivery(
            delivery_id=delivery_id,
            document_id=document.header.id,
            channel=request.channel,
            target=target,
            device_pin=device.pin if device else None,
            device_name=device.name if device else None,
        )
        copy = RoutedCopy(
            delivery_id=delivery_id,
            document_id=document.header.id,
            version=version,
            target=target,
            settings=settings,
        )
        return delivery, copy


@dataclass(frozen=True)
class _Answer:
    """The decision and its JSON, dumped once for the request's record and every message."""

    decided: UploadDecided
    json: Doc


def _refused(
    request: UploadRequested, envelope: Envelope, code: str, params: dict[str, Any]
) -> UploadDecided:
    # Field by field from the request, alike in shape to other conversions between two types
    # of their own (lan_writer/auth.py's current_user).
    return UploadDecided(
        request_id=request.request_id,
        process=request.process,
        channel=request.channel,
        target=request.target,
        outcome="refused",
        code=code,
        params=params,
        requested_at=envelope.time,
    )


def _routed_json(routed: DocumentRouted, dumped: dict[str, Doc], decided: Doc | None) -> Doc:
    """The routed message's JSON, its documents taken as they were dumped for their bodies
    and the decision it carries (None: none) as it was dumped for the request's record."""
    body = routed.model_dump(mode="json", exclude={"documents", "decided"})
    documents = [dumped[d.header.id] for d in routed.documents]
    return {**body, "documents": documents, "decided": decided}


def _named_once(request: UploadRequested) -> list[CarriedDocument]:
    """The request's documents, each once (a request naming one twice is refused anyway)."""
    return list({d.header.id: d for d in request.documents}.values())


def _repeated_document(request: UploadRequested) -> str | None:
    counts = Counter(d.header.id for d in request.documents)
    return next((doc_id for doc_id, n in counts.items() if n > 1), None)


@dataclass(frozen=True)
class _Earlier:
    """What earlier uploads of one document left: its master record and all its copies."""

    master: repo.DocumentRecord | None
    copies: list[repo.CopyRecord]

    def refusal(self, *, recall: bool) -> str | None:
        """Why the document may not be uploaded again now (see states.reupload_refusal)."""
        if self.master is None:
            return None
        current = [c.state for c in self.copies if c.version == self.master.version]
        return states.reupload_refusal(self.master.state, current, recall=recall)


async def _earlier(tx: Tx, tenant: str, documents: list[CarriedDocument]) -> dict[str, _Earlier]:
    """What earlier uploads left of each document, by document id: two queries for all."""
    keys = {d.header.id: repo.document_key(tenant, d.header.id) for d in documents}
    masters = await repo.documents(tx.db, list(keys.values()))
    copies = await repo.copies_of_documents(tx.db, list(keys.values()))
    return {doc_id: _Earlier(masters.get(key), copies[key]) for doc_id, key in keys.items()}
