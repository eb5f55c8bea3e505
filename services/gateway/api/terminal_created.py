"""Documents the terminal starts itself (processes with ``create_on_terminal``), internet side:
a paired device sends, checked and answered like terminal.py's results endpoints
(result_answer). The endpoints are declared once for both channels
(shared/created_endpoints.py)."""

from __future__ import annotations

from services.gateway.api.terminal import result_answer
from services.gateway.auth import current_device
from services.gateway.inbox import created_result, record_created
from services.gateway.records import DeviceCopy
from services.gateway.wire import ensure_portable
from shared.created_documents import CreatedDocument
from shared.created_endpoints import Answer, created_endpoints
from shared.marks import refuse_repeated
from shared.service import Runtime


# This channel's use cases for the declared endpoints; lan_writer/api/created.py holds the
# LAN side's, alike in shape, with its own caller and use cases.
async def _record(rt: Runtime, device: DeviceCopy, body: CreatedDocument, language: str) -> Answer:
    ensure_portable(body)
    refuse_repeated(body.lines)
    record, duplicate = await record_created(rt, device, body)
    return result_answer(record, language, duplicate=duplicate)


async def _status(
    rt: Runtime, device: DeviceCopy, document_id: str, result_id: str, language: str
) -> Answer:
    record = await created_result(rt, device, document_id, result_id)
    return result_answer(record, language, duplicate=False)


router = created_endpoints(
    prefix="/api/v1/terminal",
    tag="terminal",
    caller=current_device,
    who="terminal",
    kept="received",
    record=_record,
    status=_status,
)
