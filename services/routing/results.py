"""Results coming back from terminals: quantity control, merging, completion, follow-ups.

Results arrive the same way from both channels (``result.submitted``): from the gateway with
the device as ``user``, from the LAN writer with the user's login. Each copy's latest
submission per user replaces that user's earlier one; the document's facts are all of them.

- Quantity control (when the process says so) checks the total of all facts of the document
  against the plan; a result that would exceed it is refused (``result.refused.<channel>``)
  and changes nothing.
- A document is completed when every live copy of it has sent its final result. Its facts are
  merged per line (and kept per user when the process does not keep the merged document
  whole) and announced as ``document.completed``: the gateway pushes those of online copies
  and keeps those of offline ones until the accounting side loads them.
- «Run next business process»: on completion the next process is started with an upload
  request of its own (see :func:`follow_up`).

The process that governs a document's results is the one it was uploaded with (a snapshot in
its master record), so editing a process does not change documents already in work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import replace
from functools import partial
from typing import Any

from services.routing import quantity, states
from services.routing import repository as repo
from services.routing.created import open_created
from services.routing.journey import CHANNEL_SERVICE, ONCE_PER_COPY, PROGRESS_STEP, Journal
from services.routing.processes import BusinessProcess
from shared.contracts import Envelope
from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import Document, DocumentHeader, DocumentLine, FactLine, Target
from shared.contracts.results import (
    DeliveriesProgressed,
    DeliveryProgressed,
    DeliveryProgressedV1,
    DocumentCompleted,
    DocumentLoaded,
    ResultRefused,
    ResultSubmitted,
)
from shared.contracts.uploads import UploadRequested
from shared.logging import get_logger
from shared.marks import check_marks
from shared.messaging.consumer import PermanentFailure
from shared.metrics import DOCUMENTS_COMPLETED, FOLLOW_UPS_STARTED, PROGRESS_REFUSED, RESULTS
from shared.outbox import Tx, UnitOfWork

log = get_logger("tsdx.routing.results")

_ID_MAX = 200  # the contracts' limit on ids


class ResultKeeper:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def progressed(self, envelope: Envelope, event: DeliveryProgressed) -> None:
        async with self._uow(applying=envelope) as tx, Journal(tx.db, envelope) as journal:
            copy = await _copy(tx, envelope, event.delivery_id)
            if await _apply_progress(tx, journal, event, copy) is not None:
                await _refresh_states(tx, [copy.document_key])

    async def progressed_together(self, envelope: Envelope, event: DeliveriesProgressed) -> None:
        """Several copies' progress in one message (a batched acknowledgement): each applied
        as its single form would be, all in one transaction, so a redelivered message applies
        none of them twice.

        A copy routing does not know, or another tenant's, is refused alone (logged with the
        message's and the copy's ids, and counted): the others still apply. Its single form
        would be parked, but parking this message would hold back every other copy's news, and
        replaying could not help it: routing made every copy before a terminal could name it.

        The copies are read in one query, and each document's state is set once, from all its
        copies as the message leaves them (what setting it after each copy would end with).
        """
        progresses = event.single()
        # One journal: its steps' ids stay apart.
        async with self._uow(applying=envelope) as tx, Journal(tx.db, envelope) as journal:
            copies = await repo.copies(tx.db, [p.delivery_id for p in progresses])
            moved: set[str] = set()  # the documents whose copies moved
            for progress in progresses:
                try:
                    copy = _own(envelope, progress.delivery_id, copies.get(progress.delivery_id))
                except PermanentFailure:  # as its single form is refused, but alone
                    tx.once_committed(partial(_refuse_copy, envelope, progress))
                    continue
                after = await _apply_progress(tx, journal, progress, copy)
                if after is not None:  # the same copy named again moves on from here
                    copies[copy.id] = replace(copy, state=after)
                    moved.add(copy.document_key)
            await _refresh_states(tx, moved)

    async def progressed_v1(self, envelope: Envelope, event: DeliveryProgressedV1) -> None:
        """Progress reported before an upgrade (an older version of the message)."""
        await self.progressed(envelope, event.upgraded())

    async def submitted(self, envelope: Envelope, result: ResultSubmitted) -> None:
        async with self._uow(applying=envelope) as tx, Journal(tx.db, envelope) as journal:
            known = await repo.copy_of(tx.db, result.delivery_id)
            if known is None and result.created is not None:
                opened = await open_created(tx, envelope, result, journal)
                if isinstance(opened, str):
                    params: dict[str, object] = {"process": result.created.process}
                    await self._refuse(tx, envelope, result, opened, params)
                    return
                known = opened
            copy = await _copy(tx, envelope, result.delivery_id, known)
            master = await repo.document(tx.db, copy.document_key)
            if master is None:
                raise PermanentFailure(f"no document for delivery {result.delivery_id}")
            document_id = copy.document_id
            # What every step of this result names: the channel's service, the copy, the sender.
            about: dict[str, Any] = {
                "service": CHANNEL_SERVICE[result.channel],
                "delivery_id": copy.id,
                **_sender(result.channel, result.user),
            }
            refused = None
            if copy.state == states.DONE:
                refused = "document_already_finished"
            elif copy.state not in states.LIVE:
                refused = "document_withdrawn"
            if refused is not None:
                await self._refuse(tx, envelope, result, refused, {})
                journal.add(document_id, "result_refused", code=refused, **about)
                return
            process = await _process_of(tx, master)
            document = await repo.body_of(tx.db, master.id)
            if document is None:
                raise PermanentFailure(f"no document body for delivery {result.delivery_id}")
            facts = await repo.facts_of(tx.db, master.id)
            _add_result(facts, copy, result)
            refusal = quantity.check_facts(
                document.lines,
                [line for lines in facts.values() for line in lines],
                # A document started on the terminal has no plan to hold it to.
                quantity_control=bool(
                    process and process.quantity_control and not master.created_on_terminal
                ),
            )
            if refusal is not None:
                await self._refuse(tx, envelope, result, refusal.code, dict(refusal.params))
                details = dict(refusal.params) or None
                journal.add(
                    document_id, "result_refused", code=refusal.code, params=details, **about
                )
                return
            await repo.save_facts(tx.db, master, facts)
            if copy.channel == "internet" and copy.state in states.NOT_TAKEN:
                _implied_download(journal, copy, about)
            await repo.set_copy_state(tx.db, copy.id, states.copy_after_result(result.final))
            tx.once_committed(RESULTS.labels("final" if result.final else "partial").inc)
            journal.add(document_id, "result", final=result.final, lines=len(result.lines), **about)
            if result.final and await _all_done(tx, master):
                await self._complete(tx, envelope, master, copy, document, facts, process)
                journal.add(document_id, "completed", service="routing", mode=copy.mode)
                if process is not None and process.next_process:
                    journal.add(
                        document_id,
                        "follow_up",
                        service="routing",
                        process=process.next_process,
                        request_id=follow_up_id(document_id, process.next_process),
                    )
            else:
                await _refresh_states(tx, [master.id])

    async def loaded(self, envelope: Envelope, event: DocumentLoaded) -> None:
        key = repo.document_key(envelope.tenant or "", event.document_id)
        async with self._uow(applying=envelope) as tx:
            if await repo.mark_loaded(tx.db, key, state=states.LOADED, from_state=states.COMPLETED):
                async with Journal(tx.db, envelope) as journal:
                    journal.add(event.document_id, "loaded", service="gateway")

    async def _refuse(
        self,
        tx: Tx,
        envelope: Envelope,
        result: ResultSubmitted,
        code: str,
        params: dict[str, object],
    ) -> None:
        def told() -> None:
            RESULTS.labels("refused").inc()
            log.info("result.refused", delivery_id=result.delivery_id, code=code)

        tx.once_committed(told)
        await tx.emit(
            ResultRefused(
                result_id=result.result_id,
                delivery_id=result.delivery_id,
                channel=result.channel,
                code=code,
                params=params,
            ),
            envelope.tenant,
        )

    async def _complete(
        self,
        tx: Tx,
        envelope: Envelope,
        master: repo.DocumentRecord,
        copy: repo.CopyRecord,
        document: CarriedDocument,
        facts: dict[str, list[FactLine]],
        process: BusinessProcess | None,
    ) -> None:
        merged = quantity.merge_results(
            [line for lines in facts.values() for line in lines],
            keep_merged=process.keep_merged if process else True,
            consume=True,  # the facts were stored already and are not read again
            planned=document.lines,
        )
        await repo.complete_document(tx.db, master.id, states.COMPLETED)
        await tx.emit(
            DocumentCompleted(
                document_id=document.header.id,
                process=master.process,
                result_type=process.result_type if process else "",
                mode=copy.mode,
                header=document.header,
                lines=merged.lines,
                per_user=merged.per_user,
                marks_check=check_marks(document.expected_marks, merged.lines),
                created_on_terminal=master.created_on_terminal,
            ),
            envelope.tenant,
        )

        def completed() -> None:
            DOCUMENTS_COMPLETED.labels(master.process, copy.mode).inc()
            log.info("document.completed", document_id=document.header.id, mode=copy.mode)

        tx.once_committed(completed)
        if process is not None and process.next_process:
            request = follow_up(process, document, merged.lines, master.target, copy)
            await tx.emit(request, envelope.tenant)
            next_process = process.next_process

            def followed_up() -> None:
                FOLLOW_UPS_STARTED.labels(next_process).inc()
                log.info(
                    "document.follow_up",
                    document_id=document.header.id,
                    request_id=request.request_id,
                )

            tx.once_committed(followed_up)


async def _apply_progress(
    tx: Tx, journal: Journal, event: DeliveryProgressed, copy: repo.CopyRecord
) -> str | None:
    """One copy's step: its journey and, when it moves the copy on, the copy's state; that
    state when it moved (its document's state is the caller's to set then), else None."""
    after = states.copy_after_step(copy.state, event.state)
    step = PROGRESS_STEP[event.state]
    if event.delivered_at is not None:
        # A download that also says when the copy was stored: both steps, each at
        # its own time (recorded once, however often reported).
        journal.add(
            copy.document_id,
            PROGRESS_STEP["delivered"],
            service=CHANNEL_SERVICE[event.channel],
            at=event.delivered_at.isoformat(),
            delivery_id=copy.id,
            channel=event.channel,
            device_id=event.by if event.channel == "internet" else None,
        )
    if after is not None or step in ONCE_PER_COPY:  # late news is still news
        journal.add(
            copy.document_id,
            step,
            service=CHANNEL_SERVICE[event.channel],
            delivery_id=copy.id,
            channel=event.channel,
            **_sender(event.channel, event.by),
        )
    if after is None:
        return None
    await repo.record_copy_step(tx.db, copy.id, after, event.by)
    return after


async def _copy(
    tx: Tx, envelope: Envelope, delivery_id: str, known: repo.CopyRecord | None = None
) -> repo.CopyRecord:
    return _own(envelope, delivery_id, known or await repo.copy_of(tx.db, delivery_id))


def _own(envelope: Envelope, delivery_id: str, copy: repo.CopyRecord | None) -> repo.CopyRecord:
    """The copy, if it exists and is the envelope's tenant's; otherwise refused."""
    if copy is None or copy.tenant != envelope.tenant:
        raise PermanentFailure(f"unknown delivery {delivery_id}")
    return copy


def _refuse_copy(envelope: Envelope, progress: DeliveryProgressed) -> None:
    """A copy of a message of several that routing cannot apply: said and counted, not raised."""
    PROGRESS_REFUSED.labels("unknown_delivery").inc()
    log.error(
        "progress.copy_refused",
        reason="unknown_delivery",
        message_id=envelope.id,
        delivery_id=progress.delivery_id,
        state=progress.state,
    )


def _implied_download(journal: Journal, copy: repo.CopyRecord, about: dict[str, Any]) -> None:
    """A device inbox's copy a terminal sends a result for without having confirmed its
    download: the terminal had it, so it was delivered and downloaded. Both steps are recorded
    at the result's time, just before it (no earlier time is known), and once per copy: a
    download reported later, or again, adds nothing."""
    for step in ("delivered", "downloaded"):  # both kept once per copy (ONCE_PER_COPY)
        journal.add(copy.document_id, step, channel=copy.channel, implied=True, **about)


async def _process_of(tx: Tx, master: repo.DocumentRecord) -> BusinessProcess | None:
    if master.process_snapshot is not None:
        return master.process_snapshot
    return await repo.find_process(tx.db, master.tenant, master.process)


async def _refresh_states(tx: Tx, document_keys: Collection[str]) -> None:
    """Set each document's state from its current copies (see :mod:`states`): two queries
    however many documents."""
    if not document_keys:
        return
    # Their states and versions only: no process snapshot is validated for a step.
    found = await repo.document_states(tx.db, document_keys)
    if not found:
        return
    current = await repo.copy_states_of(
        tx.db, {key: version for key, (_, version) in found.items()}
    )
    for key, (state, _) in found.items():
        after = states.document_state(state, current[key])
        if after != state:
            await repo.set_document_state(tx.db, key, after)


def _add_result(
    facts: dict[str, list[FactLine]], copy: repo.CopyRecord, result: ResultSubmitted
) -> None:
    """This copy's latest submission replaces its earlier one among the document's facts."""
    who = f"{copy.id}:{result.user or ''}"
    # The submitted lines themselves, filled in where they do not name who counted: a copy
    # of every line would double what a result of 10,000 lines holds in memory.
    for line in result.lines:
        if not line.user:
            line.user = result.user
    facts[who] = result.lines


async def _all_done(tx: Tx, master: repo.DocumentRecord) -> bool:
    copy_states = await repo.copy_states(tx.db, master.id, master.version)
    return not any(state in states.LIVE for state in copy_states)


def follow_up_id(document_id: str, next_process: str) -> str:
    """``<document id>:<next process>``: the follow-up's request id and its document's id.

    An id too long for the contracts has its document part replaced by a digest of it.
    """
    plain = f"{document_id}:{next_process}"
    if len(plain) <= _ID_MAX:
        return plain
    digest = hashlib.sha256(document_id.encode("utf-8")).hexdigest()
    return f"{digest}:{next_process}"


def follow_up(
    process: BusinessProcess,
    document: CarriedDocument,
    facts: list[FactLine],
    uploaded_for: Target | None,
    copy: repo.CopyRecord,
) -> UploadRequested:
    """«Run next business process»: the counted quantities become the next document's plan.

    - Request id and document id are ``<document id>:<next process>``: the follow-up is a
      document of its own (its own state, result and loading), and asking twice starts it once.
      ``header.extra`` names where it came from: ``based_on`` (the finished document's id)
      and ``based_on_process``.
    - Its accounting type is what the finished process produces (``result_type``), which the
      next process starts from (checked whenever processes change).
    - It goes the way the finished document came: on the same channel, to the device that
      finished it when it was on a device, otherwise to the user, group or everyone the
      finished document was uploaded for.
    """
    assert process.next_process is not None
    planned = {line["line_no"]: line for line in document.lines}
    lines = []
    for number, fact in enumerate(facts, start=1):
        base = planned.get(fact.line_no) if fact.line_no else None
        lines.append(
            DocumentLine(
                line_no=number,
                product_id=fact.product_id,
                name=base["name"] if base else "",
                article=base["article"] if base else "",
                barcodes=base["barcodes"] if base else ([fact.barcode] if fact.barcode else []),
                unit=base["unit"] if base else "",
                planned_qty=fact.quantity,
                extra=fact.extra,  # the plan line's, as the result carries it
                # The batch counted goes on; its cell not: where goods were counted is not
                # where the next process works (a placement chooses its own).
                characteristic=fact.characteristic,
                series=fact.series,
                expiry=fact.expiry,
            )
        )
    new_id = follow_up_id(document.header.id, process.next_process)
    header = DocumentHeader.model_validate(
        {
            **document.header.model_dump(),
            "id": new_id,
            "accounting_type": process.result_type,
            "extra": {
                **document.header.extra,
                "based_on": document.header.id,
                "based_on_process": process.id,
            },
        }
    )
    finished_on = copy.target
    target = finished_on if finished_on.kind == "device" else (uploaded_for or finished_on)
    return UploadRequested(
        request_id=new_id,
        process=process.next_process,
        channel=copy.channel,
        target=target,
        documents=[CarriedDocument.model_validate(Document(header=header, lines=lines))],
        # Whoever keeps the follow-up's answer (the gateway) reads it from its copies.
        answer_with_copies=True,
    )


def _sender(channel: str, by: str | None) -> dict[str, str | None]:
    """Who sent, as a journey step names it: the LAN names the user; the internet names the
    device (as the user)."""
    return {
        "user": by if channel == "lan" else None,
        "device_id": by if channel == "internet" else None,
    }
