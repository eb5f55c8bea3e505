"""Documents a LAN user starts on the terminal (processes with ``create_on_terminal``): a
logged-in user sends, to the LAN desk, answered as the LAN's results are (views.result).
Nothing of it is kept in the LAN base but the send itself: the document is the user's until it
is sent, and routing's from then on. The endpoints are declared once for both channels
(shared/created_endpoints.py)."""

from __future__ import annotations

from services.lan_writer import views
from services.lan_writer.auth import LanUser, current_user
from services.lan_writer.parts import lan_parts
from shared.created_documents import CreatedDocument
from shared.created_endpoints import Answer, created_endpoints
from shared.marks import refuse_repeated
from shared.service import Runtime


# This channel's use cases for the declared endpoints; gateway/api/terminal_created.py holds the
# internet side's, alike in shape, with its own caller and use cases.
async def _record(rt: Runtime, user: LanUser, body: CreatedDocument, language: str) -> Answer:
    refuse_repeated(body.lines)
    stored = await lan_parts(rt).users.record_created(user, body)
    return views.result(stored, language)


async def _status(
    rt: Runtime, user: LanUser, document_id: str, result_id: str, language: str
) -> Answer:
    record = await lan_parts(rt).users.created_result(user, document_id, result_id)
    return views.result(record, language)


router = created_endpoints(
    prefix="/api/v1/lan",
    tag="lan terminal",
    caller=current_user,
    who="user",
    kept="sent",
    record=_record,
    status=_status,
)
