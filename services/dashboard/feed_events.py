"""The feed's reading of an event: as every consumer reads it (``decode``), except a routed
message, which the live view only counts by channel and copy and takes its decision from.

A routed message carries its whole documents; validating one of 10,000 lines cost the
dashboard about 80 ms of CPU, taken from the services on the same machine while they were busy
with that very document. Its envelope, channel, copies and decision are checked; the documents
are not read.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from shared.contracts import Envelope, Payload, decode
from shared.contracts.documents import Channel
from shared.contracts.uploads import DocumentRouted, UploadDecided


class RoutedCopiesSeen(Payload):
    """A ``document.routed`` as the feed counts it: its channel, its copies (counted, not
    read) and the decision it may carry; the documents left unread."""

    model_config = ConfigDict(extra="ignore")

    TYPE = DocumentRouted.TYPE
    VERSION = DocumentRouted.VERSION

    channel: Channel
    copies: list[dict[str, Any]] = Field(min_length=1)
    decided: UploadDecided | None = None


_VIEWS: dict[tuple[str, int], type[Payload]] = {
    (RoutedCopiesSeen.TYPE, RoutedCopiesSeen.VERSION): RoutedCopiesSeen
}


def read_event(body: bytes) -> tuple[Envelope, Payload]:
    """The event's envelope and payload, or :class:`MalformedMessage` saying why."""
    return decode(body, _VIEWS)
