"""What the LAN base passes on to routing of its users' work, for routing to merge per line
(docs/lan.md): each send recorded for the user who made it and emitted as
``result.submitted``; lines of users who let go of a document dropped by an empty send that
replaces their last one."""

from __future__ import annotations

import uuid

from services.lan_writer import repository as repo
from services.lan_writer.repository import LanCopy, SentResult
from shared.clock import now_iso
from shared.contracts.documents import FactLine
from shared.contracts.results import ResultSubmitted
from shared.outbox import Tx


def sent_result(
    copy: LanCopy, login: str, result_id: str, *, final: bool, completes: bool
) -> SentResult:
    """The record of one send: ``final`` says the user finished, ``completes`` that the whole
    document is done (routing gets it as final)."""
    return SentResult(
        id=repo.result_key(copy.id, login, result_id),
        delivery_id=copy.id,
        tenant=copy.tenant,
        login=login,
        result_id=result_id,
        final=final,
        completes=completes,
        received_at=now_iso(),
    )


async def send(tx: Tx, sent: SentResult, lines: list[FactLine]) -> None:
    await repo.record_result(tx.db, sent)
    await tx.emit(
        ResultSubmitted(
            result_id=sent.id,
            delivery_id=sent.delivery_id,
            channel="lan",
            final=sent.completes,
            lines=lines,
            user=sent.login,
        ),
        sent.tenant,
    )


async def drop_lines(tx: Tx, copy: LanCopy, logins: tuple[str, ...]) -> None:
    """Tell routing these users' lines no longer count: an empty send replaces their last one."""
    senders = await repo.senders_of(tx.db, copy.id)
    for login in logins:
        if login in senders:  # nothing to drop for a user who sent nothing
            result_id = f"dropped-{uuid.uuid4().hex}"
            await send(tx, sent_result(copy, login, result_id, final=False, completes=False), [])
