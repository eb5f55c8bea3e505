"""Messages of the upload path: accounting side → routing → gateway / LAN writer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shared.contracts.documents import (
    Channel,
    DeviceMode,
    Document,
    DocumentHeader,
    Strict,
    Target,
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
    documents: list[Document] = Field(min_length=1)
    # Re-uploading a document a terminal is already working on withdraws that copy.
    recall: bool = False


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


class DeliverySettings(Strict):
    """What the receiving side needs of the business process to serve the copy."""

    terminal_type: str = ""
    quantity_control: bool = False
    collective: bool = False
    mode: DeviceMode = "online"
    # Line attributes the terminal asks for when a scan does not carry them.
    ask_for: list[Literal["series", "expiry", "characteristic"]] = Field(default_factory=list)


@message
class DocumentRouted(Payload):
    """A copy to place in a device inbox (internet) or the LAN base (lan)."""

    TYPE = "document.routed"

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
