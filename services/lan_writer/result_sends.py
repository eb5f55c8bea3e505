"""What the LAN desk passes on to routing of its users' work: each send recorded for the user
who made it and emitted as ``result.submitted``; lines of users who let go of a document
dropped by an empty send that replaces their last one. Routing merges them (docs/lan.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.lan_writer import repository as repo
from shared.clock import now_iso
from shared.contracts.documents import FactLine
from shared.contracts.results import ResultSubmitted
from shared.outbox import Tx
from shared.storage import Doc


@dataclass(frozen=True)
class Sent:
    """One result passed on to routing, as recorded for the user who sent it."""

    row: Doc
    login: str
    result_id: str  # the terminal's id of the send
    final: bool  # the user finished
    completes: bool  # the document is done: routing gets it as final

    @property
    def key(self) -> str:
        return repo.result_key(self.row["id"], self.login, self.result_id)


async def send(tx: Tx, sent: Sent, lines: list[FactLine]) -> None:
    await tx.db.insert(
        repo.RESULTS.name,
        {
            "id": sent.key,
            "delivery_id": sent.row["id"],
            "tenant": sent.row["tenant"],
            "login": sent.login,
            "result_id": sent.result_id,
            "final": sent.final,
            "completes": sent.completes,
            "status": "sent",
            "received_at": now_iso(),
        },
    )
    await tx.emit(
        ResultSubmitted(
            result_id=sent.key,
            delivery_id=sent.row["id"],
            channel="lan",
            final=sent.completes,
            lines=lines,
            user=sent.login,
        ),
        sent.row["tenant"],
    )


async def drop_lines(tx: Tx, row: Doc, logins: tuple[str, ...]) -> None:
    """Tell routing these users' lines no longer count: an empty send replaces their last one."""
    sent = {r["login"] for r in await tx.db.find(repo.RESULTS.name, {"delivery_id": row["id"]})}
    for login in logins:
        if login in sent:  # nothing to drop for a user who sent nothing
            result_id = f"dropped-{uuid.uuid4().hex}"
            await send(tx, Sent(row, login, result_id, final=False, completes=False), [])
