"""Messages of the return path: terminal results → routing → accounting side."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from shared.contracts.documents import Channel, DocumentHeader, FactLine, FactLineV1
from shared.contracts.envelope import Payload, message

_ID = Field(min_length=1, max_length=200)


@message
class DeliveryProgressed(Payload):
    """A copy changed hands on the terminal side: stored (``delivered``: in a device inbox or
    the LAN base), downloaded, taken, released."""

    TYPE = "delivery.progressed"

    delivery_id: str = _ID
    channel: Channel
    state: Literal["downloaded", "in_progress", "released", "delivered"]
    by: str | None = None

    def ordering_key(self) -> str:
        # A copy's progress and results must apply in the order the terminal sent them.
        return self.delivery_id


@message
class ResultSubmitted(Payload):
    """Fact lines from a terminal; ``result_id`` makes a retried send apply once."""

    TYPE = "result.submitted"

    result_id: str = _ID
    delivery_id: str = _ID
    channel: Channel
    final: bool
    lines: list[FactLine] = Field(default_factory=list)
    user: str | None = None

    def ordering_key(self) -> str:
        # A copy's progress and results must apply in the order the terminal sent them.
        return self.delivery_id


@message
class ResultRefused(Payload):
    """Routing refused a result (e.g. quantity control); the terminal side shows why."""

    TYPE = "result.refused"

    result_id: str = _ID
    delivery_id: str = _ID
    channel: Channel
    code: str
    params: dict[str, Any] = Field(default_factory=dict)

    def routing_key(self) -> str:
        return f"{self.TYPE}.{self.channel}"


@message
class DocumentCompleted(Payload):
    """A document is finished; online ones are pushed, offline ones wait to be loaded.

    Version 2: fact lines may carry ``marks``, the marking codes scanned for them."""

    TYPE = "document.completed"
    VERSION = 2

    document_id: str = _ID
    process: str
    result_type: str = ""
    mode: Literal["online", "offline"]
    header: DocumentHeader
    lines: list[FactLine]
    per_user: dict[str, list[FactLine]] = Field(default_factory=dict)


@message
class DocumentCompletedV1(Payload):
    """A document is finished (version 1: fact lines without marks; no longer published).

    Still understood, so a message sent before an upgrade to version 2 is not parked."""

    TYPE = "document.completed"
    VERSION = 1

    document_id: str = _ID
    process: str
    result_type: str = ""
    mode: Literal["online", "offline"]
    header: DocumentHeader
    lines: list[FactLineV1]
    per_user: dict[str, list[FactLineV1]] = Field(default_factory=dict)

    def upgraded(self) -> DocumentCompleted:
        return DocumentCompleted.model_validate(self.model_dump())


@message
class DocumentLoaded(Payload):
    """The accounting side confirmed it loaded a completed document."""

    TYPE = "document.loaded"

    document_id: str = _ID
