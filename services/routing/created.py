"""Documents started on the terminal (processes with ``create_on_terminal``).

The terminal makes the document's id and works offline, so routing first hears of such a
document when its result arrives (``result.submitted`` with ``created``). It then makes the
master record and the one copy, as an upload would, and the result goes on as any other:
merged, completed, announced with the process's ``result_type`` and ``created_on_terminal``,
so the accounting side makes a new document of it (``on_load.action: create_new``).

- The process must exist, be enabled and allow creation (``process_cannot_create``).
- The document's id must be new: an uploaded document of the same id is not touched
  (``document_id_taken``). The same result sent again finds its copy and is applied once.
- There is no plan: quantity control does not apply to such a document.
"""

from __future__ import annotations

from services.routing import repository as repo
from services.routing import states
from services.routing.journey import CHANNEL_SERVICE, Journal
from shared.clock import now_iso
from shared.contracts import Envelope
from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import Target
from shared.contracts.results import ResultSubmitted
from shared.outbox import Tx


async def open_created(
    tx: Tx, envelope: Envelope, result: ResultSubmitted, journal: Journal
) -> repo.CopyRecord | str:
    """The copy of a document the terminal started, made now; or the refusal's code."""
    assert result.created is not None
    tenant = envelope.tenant or ""
    created = result.created
    process = await repo.find_process(tx.db, tenant, created.process)
    if process is None:
        return "process_not_found"
    if not process.enabled:
        return "process_disabled"
    if not process.create_on_terminal:
        return "process_cannot_create"
    header = created.header.model_copy(update={"accounting_type": process.terminal_type})
    key = repo.document_key(tenant, header.id)
    if await repo.document(tx.db, key) is not None:
        return "document_id_taken"
    target = (
        Target(kind="user", value=result.user)
        if result.channel == "lan"
        else Target(kind="device", value=result.user)
    )
    # Field by field, alike in shape to the records an upload's decision writes
    # (upload_decisions.py): each fills them from what it has, a request or a result.
    await repo.put_document(
        tx.db,
        repo.DocumentRecord(
            id=key,
            tenant=tenant,
            document_id=header.id,
            process=process.id,
            process_snapshot=process,
            request_id=result.delivery_id,
            channel=result.channel,
            target=target,
            version=1,
            state=states.IN_PROGRESS,
            uploaded_at=envelope.time.isoformat(),
            created_on_terminal=True,
        ),
    )
    await repo.start_body(tx.db, tenant, key, CarriedDocument(header=header).as_json())
    copy = repo.CopyRecord(
        id=result.delivery_id,
        tenant=tenant,
        document_key=key,
        request_id=result.delivery_id,
        channel=result.channel,
        target=target,
        copy="shared",
        mode=created.mode if result.channel == "internet" else "online",
        version=1,
        state=states.DOWNLOADED,
        routed_at=now_iso(),
    )
    await repo.add_copy(tx.db, copy)
    journal.add(
        header.id,
        "created",
        service=CHANNEL_SERVICE[result.channel],
        delivery_id=result.delivery_id,
        process=process.id,
        user=result.user if result.channel == "lan" else None,
        device_id=result.user if result.channel == "internet" else None,
    )
    return copy
