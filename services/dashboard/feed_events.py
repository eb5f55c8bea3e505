"""The feed's reading of an event: as every consumer reads it (``decode``), except a routed
copy, which the live view only counts by channel.

A routed copy carries its whole document; validating one of 10,000 lines cost the dashboard
about 80 ms of CPU, taken from the services on the same machine while they were busy with
that very document. Its envelope and channel are checked; the document is not read.
"""

from __future__ import annotations

from pydantic import ConfigDict, ValidationError

from shared.contracts import Envelope, MalformedMessage, Payload
from shared.contracts.documents import Channel
from shared.contracts.envelope import decode_envelope, validated
from shared.contracts.uploads import DocumentRouted
from shared.errors import describe


class RoutedCopySeen(Payload):
    """A ``document.routed`` as the feed counts it: its channel, the rest left unread."""

    model_config = ConfigDict(extra="ignore")

    TYPE = DocumentRouted.TYPE
    VERSION = DocumentRouted.VERSION

    channel: Channel


def read_event(body: bytes) -> tuple[Envelope, Payload]:
    """The event's envelope and payload, or :class:`MalformedMessage` saying why."""
    envelope = decode_envelope(body)
    if (envelope.type, envelope.version) != (DocumentRouted.TYPE, DocumentRouted.VERSION):
        return validated(envelope)
    try:
        seen = RoutedCopySeen.model_validate(envelope.payload)
    except ValidationError as exc:
        raise MalformedMessage(f"bad {envelope.type} payload: {describe(exc, limit=5)}") from exc
    envelope.payload = {}
    return envelope, seen
