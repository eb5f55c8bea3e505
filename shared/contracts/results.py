"""Messages of the return path: terminal results → routing → accounting side."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from shared.contracts.absent import NullMeansAbsent
from shared.contracts.documents import (
    Channel,
    DeviceMode,
    DocumentHeader,
    FactLine,
    FactLineV1,
    FactLineV2,
    Strict,
)
from shared.contracts.envelope import Payload, message

_ID = Field(min_length=1, max_length=200)

# A copy's step on the terminal side, as a progress message names it.
ProgressState = Literal["downloaded", "in_progress", "released", "delivered"]


@message
class DeliveryProgressed(Payload):
    """A copy changed hands on the terminal side: stored (``delivered``: in the LAN base),
    downloaded, taken, released.

    Version 2: ``delivered_at``, when the copy was stored in a device inbox. The gateway no
    longer reports an internet copy's ``delivered`` by itself: its ``downloaded`` says both,
    the first step at ``delivered_at``."""

    TYPE = "delivery.progressed"
    VERSION = 2

    delivery_id: str = _ID
    channel: Channel
    state: ProgressState
    by: str | None = None
    delivered_at: datetime | None = None

    def ordering_key(self) -> str:
        # A copy's progress and results must apply in the order the terminal sent them.
        return self.delivery_id


@message
class DeliveryProgressedV1(Payload):
    """A copy changed hands on the terminal side (version 1: without ``delivered_at``; no
    longer published). Still understood, so a message sent before an upgrade is not parked."""

    TYPE = "delivery.progressed"

    delivery_id: str = _ID
    channel: Channel
    state: ProgressState
    by: str | None = None

    def ordering_key(self) -> str:
        return self.delivery_id

    def upgraded(self) -> DeliveryProgressed:
        return DeliveryProgressed.model_validate(self.model_dump())


class ProgressedCopy(NullMeansAbsent):
    """One copy's step in :class:`DeliveriesProgressed`, as :class:`DeliveryProgressed` gives
    it for one copy, read alike (a message's rules: unknown fields refused, ids as given)."""

    model_config = ConfigDict(extra="forbid")

    delivery_id: str = _ID
    state: ProgressState
    delivered_at: datetime | None = None


# A batch's bound: the terminal API's batched acknowledgement takes at most this many.
PROGRESSED_COPIES_MAX = 500


@message
class DeliveriesProgressed(Payload):
    """Several copies changed hands on the terminal side at once, on one channel by one sender
    (a terminal acknowledging several documents in one call): each copy's step as
    :class:`DeliveryProgressed` reports it, applied together. A message of its own type, so
    the single form stays as it is for every sender and reader of it."""

    TYPE = "deliveries.progressed"

    channel: Channel
    by: str | None = None
    copies: list[ProgressedCopy] = Field(min_length=1, max_length=PROGRESSED_COPIES_MAX)

    def ordering_keys(self) -> tuple[str, ...]:
        # Applied in turn with each copy's other progress and results.
        return tuple(dict.fromkeys(c.delivery_id for c in self.copies))

    def single(self) -> list[DeliveryProgressed]:
        """Each copy's progress as the single form says it."""
        return [
            DeliveryProgressed(
                delivery_id=c.delivery_id,
                channel=self.channel,
                state=c.state,
                by=self.by,
                delivered_at=c.delivered_at,
            )
            for c in self.copies
        ]


class CreatedOnTerminal(Strict):
    """A document the terminal started (a process with ``create_on_terminal``): routing makes
    its master record and copy when its result arrives. Its id is the terminal's."""

    process: str = _ID
    header: DocumentHeader
    mode: DeviceMode = "online"


@message
class ResultSubmitted(Payload):
    """Fact lines from a terminal; ``result_id`` makes a retried send apply once.
    ``created``: the copy is of a document the terminal started, unknown to routing so far."""

    TYPE = "result.submitted"

    result_id: str = _ID
    delivery_id: str = _ID
    channel: Channel
    final: bool
    lines: list[FactLine] = Field(default_factory=list)
    user: str | None = None
    created: CreatedOnTerminal | None = None

    def ordering_key(self) -> str:
        # A copy's progress and results must apply in the order the terminal sent them.
        return self.delivery_id


# Each message below declares its own fields; alike in shape to those of uploads.py.
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


class MarkChecked(Strict):
    """One marking code of a document that expected codes: ``found`` (expected and scanned),
    ``surplus`` (scanned, not expected) or ``missing`` (expected, not scanned). ``aggregate``:
    the aggregation code it was expected in; ``line_no``: the line it was counted on."""

    code: str = Field(min_length=1, max_length=200)
    status: Literal["found", "surplus", "missing"]
    line_no: int | None = None
    aggregate: str | None = None


@message
class DocumentCompleted(Payload):
    """A document is finished; online ones are pushed, offline ones wait to be loaded.

    Version 2: fact lines may carry ``marks``, the marking codes scanned for them.
    Version 3: fact lines may carry ``characteristic``, ``series``, ``expiry`` and ``cell``;
    ``marks_check`` lists every marking code as found, surplus or missing when the document
    came with expected codes; ``created_on_terminal`` says the terminal made the document."""

    TYPE = "document.completed"
    VERSION = 3

    document_id: str = _ID
    process: str
    result_type: str = ""
    mode: Literal["online", "offline"]
    header: DocumentHeader
    lines: list[FactLine]
    per_user: dict[str, list[FactLine]] = Field(default_factory=dict)
    marks_check: list[MarkChecked] = Field(default_factory=list)
    created_on_terminal: bool = False


# The earlier versions below repeat DocumentCompleted's fields on purpose: each declares a
# message as it was once published, frozen, so an old message is still read and upgraded.
@message
class DocumentCompletedV2(Payload):
    """A document is finished (version 2: marks, no line attributes; no longer published).

    Still understood, so a message sent before an upgrade to version 3 is not parked."""

    TYPE = "document.completed"
    VERSION = 2

    document_id: str = _ID
    process: str
    result_type: str = ""
    mode: Literal["online", "offline"]
    header: DocumentHeader
    lines: list[FactLineV2]
    per_user: dict[str, list[FactLineV2]] = Field(default_factory=dict)

    def upgraded(self) -> DocumentCompleted:
        return DocumentCompleted.model_validate(self.model_dump())


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
