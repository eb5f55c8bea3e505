"""Documents started on the terminal: what the gateway and the LAN writer share.

A business process with ``create_on_terminal`` lets a storekeeper start a document of its
``terminal_type`` on the terminal, offline too. The terminal makes the document's id and
sends the document once, finished, with its lines; the channel passes it to routing as a
``result.submitted`` with ``created`` and the copy id ``new-<document id>``, so the same
document sent again (a lost answer) is the same copy and counts once.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from shared.contracts.absent import NullMeansAbsent
from shared.contracts.documents import Channel, DeviceMode, DocumentHeader, FactLine
from shared.contracts.results import CreatedOnTerminal, ResultSubmitted
from shared.contracts.routing_rpc import Routing
from shared.contracts.rpc import NoParams
from shared.http import HttpCaller
from shared.messaging.rpc import RpcClient


class CreatedDocument(NullMeansAbsent):
    """A finished document the terminal started, as the terminal sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    document_id: str = Field(
        min_length=8,
        max_length=100,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the terminal's id of the document (a UUID): sending it again is safe",
    )
    result_id: str = Field(min_length=1, max_length=200)
    process: str = Field(min_length=1, max_length=100, description="a process that allows it")
    number: str = Field(default="", max_length=100)
    date: str = Field(default="", max_length=40, description="when it was started, ISO 8601")
    lines: list[FactLine] = Field(default_factory=list, max_length=100_000)


def delivery_id_of(document_id: str) -> str:
    """The one copy of a document the terminal started."""
    return f"new-{document_id}"


def submission(
    body: CreatedDocument, channel: Channel, user: str, mode: DeviceMode
) -> ResultSubmitted:
    header = DocumentHeader(
        # Routing writes the process's terminal type here; the terminal's own word is kept
        # only until then.
        accounting_type=body.process,
        id=body.document_id,
        number=body.number,
        date=body.date,
    )
    return ResultSubmitted(
        result_id=body.result_id,
        delivery_id=delivery_id_of(body.document_id),
        channel=channel,
        final=True,
        lines=body.lines,
        user=user,
        created=CreatedOnTerminal(process=body.process, header=header, mode=mode),
    )


async def startable_processes(rpc: RpcClient, tenant: str) -> dict[str, Any]:
    """The processes of the base a terminal may start documents of (enabled, and allowing
    it), with what the terminal needs to work one: its document type and what to ask for."""
    items = await Routing(HttpCaller(rpc), tenant).list_processes(NoParams())
    startable = []
    for item in items:
        process = item.process
        if item.enabled and process.get("create_on_terminal"):
            startable.append(
                {
                    "id": process["id"],
                    "name": process["name"],
                    "terminal_type": process["terminal_type"],
                    "ask_for": process.get("ask_for", []),
                }
            )
    return {"processes": startable}
