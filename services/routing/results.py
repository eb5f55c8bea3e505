"""Results coming back from terminals: quantity control, merging, completion, follow-ups.

A document is completed when every live copy of it has sent its final result. Its merged
fact lines then go to the accounting side: pushed at once for online copies, kept to be
loaded for offline ones (the gateway serves both from the ``document.completed`` event).
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.routing import quantity
from services.routing import repository as repo
from services.routing.processes import BusinessProcess
from shared.contracts import Envelope
from shared.contracts.documents import Document, DocumentLine, FactLine, Target
from shared.contracts.results import (
    DeliveryProgressed,
    DocumentCompleted,
    DocumentLoaded,
    ResultRefused,
    ResultSubmitted,
)
from shared.contracts.uploads import UploadRequested
from shared.logging import get_logger
from shared.messaging.consumer import PermanentFailure
from shared.metrics import RESULTS
from shared.outbox import Tx, UnitOfWork
from shared.storage import Doc

log = get_logger("tsdx.routing.results")


def _now() -> str:
    return datetime.now(UTC).isoformat()


class ResultKeeper:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def progressed(self, envelope: Envelope, event: DeliveryProgressed) -> None:
        state = {"downloaded": "downloaded", "in_progress": "in_progress", "released": "routed"}
        async with self._uow(applying=envelope) as tx:
            copy = await tx.db.get(repo.DELIVERIES.name, event.delivery_id)
            if copy is None or copy["tenant"] != envelope.tenant:
                raise PermanentFailure(f"unknown delivery {event.delivery_id}")
            if copy["state"] in repo.LIVE:
                await tx.db.update(
                    repo.DELIVERIES.name, event.delivery_id, {"state": state[event.state]}
                )

    async def submitted(self, envelope: Envelope, result: ResultSubmitted) -> None:
        async with self._uow(applying=envelope) as tx:
            copy = await tx.db.get(repo.DELIVERIES.name, result.delivery_id)
            if copy is None or copy["tenant"] != envelope.tenant:
                raise PermanentFailure(f"unknown delivery {result.delivery_id}")
            master = await tx.db.get(repo.DOCUMENTS.name, copy["document_key"])
            if master is None:
                raise PermanentFailure(f"no document for delivery {result.delivery_id}")
            if copy["state"] not in repo.LIVE:
                await self._refuse(tx, envelope, result, "document_withdrawn", {})
                return
            process = await repo.find_process(tx.db, copy["tenant"], master["process"])
            document = Document.model_validate(master["document"])
            facts = _facts_with(master, copy, result)
            refusal = quantity.check_facts(
                document.lines,
                [line for lines in facts.values() for line in lines],
                quantity_control=bool(process and process.quantity_control),
            )
            if refusal is not None:
                await self._refuse(tx, envelope, result, refusal.code, dict(refusal.params))
                return
            await tx.db.update(
                repo.DOCUMENTS.name,
                master["id"],
                {
                    "facts": {k: [f.model_dump(mode="json") for f in v] for k, v in facts.items()},
                    "state": "in_progress",
                },
            )
            await tx.db.update(
                repo.DELIVERIES.name,
                copy["id"],
                {"state": "done" if result.final else "in_progress"},
            )
            RESULTS.labels("final" if result.final else "partial").inc()
            if result.final and await _all_done(tx, master["id"], copy["id"]):
                await self._complete(tx, envelope, master, copy, document, facts, process)

    async def loaded(self, envelope: Envelope, event: DocumentLoaded) -> None:
        key = repo.document_key(envelope.tenant or "", event.document_id)
        async with self._uow(applying=envelope) as tx:
            await tx.db.update(
                repo.DOCUMENTS.name, key, {"state": "loaded"}, expect={"state": "completed"}
            )

    async def _refuse(
        self,
        tx: Tx,
        envelope: Envelope,
        result: ResultSubmitted,
        code: str,
        params: dict[str, object],
    ) -> None:
        RESULTS.labels("refused").inc()
        log.info("result.refused", delivery_id=result.delivery_id, code=code)
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
        master: Doc,
        copy: Doc,
        document: Document,
        facts: dict[str, list[FactLine]],
        process: BusinessProcess | None,
    ) -> None:
        merged = quantity.merge_results(
            [line for lines in facts.values() for line in lines],
            keep_merged=process.keep_merged if process else True,
        )
        await tx.db.update(
            repo.DOCUMENTS.name, master["id"], {"state": "completed", "completed_at": _now()}
        )
        await tx.emit(
            DocumentCompleted(
                document_id=document.header.id,
                process=master["process"],
                result_type=process.result_type if process else "",
                mode=copy["mode"],
                header=document.header,
                lines=merged.lines,
                per_user=merged.per_user,
            ),
            envelope.tenant,
        )
        if process is not None and process.next_process:
            await tx.emit(_follow_up(process, document, merged.lines, copy), envelope.tenant)


def _facts_with(master: Doc, copy: Doc, result: ResultSubmitted) -> dict[str, list[FactLine]]:
    """All facts of the document, with this copy's latest submission replacing its earlier one."""
    facts = {k: [FactLine.model_validate(f) for f in v] for k, v in master.get("facts", {}).items()}
    who = f"{copy['id']}:{result.user or ''}"
    facts[who] = [
        line if line.user else line.model_copy(update={"user": result.user})
        for line in result.lines
    ]
    return facts


async def _all_done(tx: Tx, document_key: str, just_done: str) -> bool:
    live = await tx.db.find(
        repo.DELIVERIES.name, {"document_key": document_key, "state": list(repo.LIVE)}
    )
    return all(c["id"] == just_done for c in live)


def _follow_up(
    process: BusinessProcess, document: Document, facts: list[FactLine], copy: Doc
) -> UploadRequested:
    """«Run next business process»: the counted quantities become the next document's plan."""
    planned = {line.line_no: line for line in document.lines}
    lines = []
    for number, fact in enumerate(facts, start=1):
        base = planned.get(fact.line_no) if fact.line_no else None
        lines.append(
            DocumentLine(
                line_no=number,
                product_id=fact.product_id,
                name=base.name if base else "",
                article=base.article if base else "",
                barcodes=base.barcodes if base else ([fact.barcode] if fact.barcode else []),
                unit=base.unit if base else "",
                planned_qty=fact.quantity,
            )
        )
    assert process.next_process is not None
    return UploadRequested(
        request_id=f"{document.header.id}:{process.next_process}",
        process=process.next_process,
        channel=copy["channel"],
        target=Target.model_validate(copy["target"]),
        # The follow-up starts from what this process produced.
        documents=[
            Document(
                header=document.header.model_copy(update={"accounting_type": process.result_type}),
                lines=lines,
            )
        ],
    )
