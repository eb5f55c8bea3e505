"""Messages of the upload path: accounting side → routing → gateway / LAN writer."""

from __future__ import annotations

from collections.abc import Iterable, Set
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import (
    Channel,
    DeviceMode,
    Document,
    DocumentHeader,
    Strict,
    Target,
    repeated_line_number,
)
from shared.contracts.envelope import Payload, message

_ID = Field(min_length=1, max_length=200)


@message
class UploadRequested(Payload):
    """The accounting side asks to deliver documents. ``request_id`` is its idempotency key."""

    TYPE = "upload.requested"

    request_id: str = _ID
    process: str = _ID
    channel: Channel = "internet"
    target: Target
    # Each line kept as its checked JSON (shared/contracts/carried.py).
    documents: list[CarriedDocument] = Field(min_length=1)
    # Re-uploading a document a terminal is already working on withdraws that copy.
    recall: bool = False
    # The asker learns an accepted internet upload's decision from its routed copies (the
    # gateway does, and routing's own follow-ups): no separate ``upload.decided`` then. An
    # adapter leaves it false and is answered by ``upload.decided`` as always.
    answer_with_copies: bool = Field(
        default=False,
        description=(
            "tsdx's own: the asker reads an accepted internet upload's decision from its "
            "routed copies. Over HTTP the gateway sets it itself, whatever the body says; "
            "an adapter on the broker leaves it out and is answered by upload.decided."
        ),
    )

    @model_validator(mode="after")
    def _lines_numbered_once(self) -> UploadRequested:
        for place, document in enumerate(self.documents, start=1):
            repeated = repeated_line_number(line["line_no"] for line in document.lines)
            if repeated is not None:
                number, first, second = repeated
                raise PydanticCustomError(
                    "line_no_repeated",
                    "document {document}: line_no {line_no} is repeated (lines {first} and "
                    "{second}): each line of a document needs a number of its own",
                    {"document": place, "line_no": number, "first": first, "second": second},
                )
        return self

    def as_json(self) -> dict[str, Any]:
        # The lines without the fields that hold their default: a third smaller, read back
        # into the same lines.
        return {
            **self.model_dump(mode="json", exclude={"documents"}),
            "documents": [document.as_json(compact=True) for document in self.documents],
        }


def over_limits(
    request: UploadRequested, *, max_documents: int, max_lines: int
) -> tuple[str, dict[str, object]] | None:
    """The limit an upload breaks (the code and its parameters), or None: the same limits on
    every edge, HTTP (413) and AMQP (parked with the reason)."""
    if len(request.documents) > max_documents:
        return "too_many_documents", {"limit": max_documents}
    for document in request.documents:
        if len(document.lines) > max_lines:
            return "too_many_lines", {"document": document.header.id, "limit": max_lines}
    return None


class Delivery(Strict):
    """One copy of one document for one resolved target."""

    delivery_id: str = _ID
    document_id: str = _ID
    channel: Channel
    target: Target  # resolved: kind is device, user, group or everyone
    device_pin: str | None = None
    device_name: str | None = None


@message
class UploadDecided(Payload):
    """Routing's answer to an upload request: accepted with deliveries, or refused."""

    TYPE = "upload.decided"

    request_id: str = _ID
    process: str
    channel: Channel
    target: Target
    outcome: Literal["accepted", "refused"]
    code: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    deliveries: list[Delivery] = Field(default_factory=list)
    requested_at: datetime

    def devices_reached(self) -> list[str]:
        """The ids of the devices the accepted upload's copies went to, each once, in delivery
        order (what the registry's known-devices list notes)."""
        if self.outcome != "accepted":
            return []
        reached = (d.target.value for d in self.deliveries if d.target.kind == "device")
        return list(dict.fromkeys(device_id for device_id in reached if device_id))


class DeliverySettings(Strict):
    """What the receiving side needs of the business process to serve the copy."""

    terminal_type: str = ""
    quantity_control: bool = False
    collective: bool = False
    mode: DeviceMode = "online"
    # Line attributes the terminal asks for when a scan does not carry them.
    ask_for: list[Literal["series", "expiry", "characteristic"]] = Field(default_factory=list)


class RoutedCopy(Strict):
    """One copy of an accepted upload: which of the message's documents, for whom, and how."""

    delivery_id: str = _ID
    document_id: str = _ID
    version: int = Field(ge=1)
    target: Target  # resolved: kind is device, user, group or everyone
    settings: DeliverySettings = Field(default_factory=DeliverySettings)


@message
class DocumentRouted(Payload):
    """An accepted upload's copies for one channel, all in one message: each document once,
    a copy per document and recipient (a group's copies share their document).

    ``decided``: routing's decision of the request, when this message is how the asker learns
    it (an accepted internet upload asked with ``answer_with_copies``); otherwise None and the
    decision travels as ``upload.decided``.

    Version 2: one message per request and channel (version 1 was one per copy)."""

    TYPE = "document.routed"
    VERSION = 2

    request_id: str = _ID
    process: str
    channel: Channel
    documents: list[CarriedDocument] = Field(min_length=1)
    copies: list[RoutedCopy] = Field(min_length=1)
    requested_at: datetime
    decided: UploadDecided | None = None

    @model_validator(mode="after")
    def _copies_name_documents(self) -> DocumentRouted:
        require_named_documents(self.copies, {d.header.id for d in self.documents})
        return self

    def routing_key(self) -> str:
        return f"{self.TYPE}.{self.channel}"

    def as_json(self) -> dict[str, Any]:
        return {
            **self.model_dump(mode="json", exclude={"documents"}),
            "documents": [document.as_json() for document in self.documents],
        }

    def document_of(self, copy: RoutedCopy) -> CarriedDocument:
        return next(d for d in self.documents if d.header.id == copy.document_id)


def require_named_documents(copies: Iterable[RoutedCopy], named: Set[str]) -> None:
    """Each copy of a routed message names one of its documents (the rule of the message and
    of the views consumers read it by)."""
    for copy in copies:
        if copy.document_id not in named:
            raise ValueError(f"copy {copy.delivery_id} names no document of the message")


# The earlier version repeats the fields on purpose: it declares the message as it was once
# published, frozen, so a copy still in a queue at the upgrade is read and upgraded.
@message
class DocumentRoutedV1(Payload):
    """One copy to place in a device inbox or the LAN base (version 1; no longer published)."""

    TYPE = "document.routed"
    VERSION = 1

    delivery_id: str = _ID
    request_id: str = _ID
    process: str
    version: int = Field(ge=1)
    channel: Channel
    target: Target
    settings: DeliverySettings = Field(default_factory=DeliverySettings)
    document: Document
    requested_at: datetime

    def routing_key(self) -> str:
        return f"{self.TYPE}.{self.channel}"

    def upgraded(self) -> DocumentRouted:
        """The copy as version 2: a message of one copy, whose decision came by itself."""
        return DocumentRouted(
            request_id=self.request_id,
            process=self.process,
            channel=self.channel,
            documents=[CarriedDocument.model_validate(self.document)],
            copies=[
                RoutedCopy(
                    delivery_id=self.delivery_id,
                    document_id=self.document.header.id,
                    version=self.version,
                    target=self.target,
                    settings=self.settings,
                )
            ],
            requested_at=self.requested_at,
        )


@message
class DocumentWithdrawn(Payload):
    """A copy is recalled or replaced; the terminal learns it at its next contact."""

    TYPE = "document.withdrawn"

    delivery_id: str = _ID
    channel: Channel
    reason: Literal["recalled", "replaced"]

    def routing_key(self) -> str:
        return f"{self.TYPE}.{self.channel}"


@message
class DocumentReturned(Payload):
    """A copy accepted earlier is taken back: its device had been blocked or retired before
    routing learned it. The upload's answer stays what it was; the accounting side learns of
    the return where it learns results (its list of results and the webhook)."""

    TYPE = "document.returned"

    delivery_id: str = _ID
    document_id: str = _ID
    request_id: str = _ID
    process: str
    version: int = Field(ge=1)
    channel: Channel
    mode: DeviceMode = "online"  # the copy's: an online base learns it by webhook too
    device_id: str = _ID
    header: DocumentHeader | None = None  # the document's, as uploaded (None: not kept)
    code: str  # returned_device_blocked, returned_device_retired (shared/i18n.py)
    params: dict[str, Any] = Field(default_factory=dict)
