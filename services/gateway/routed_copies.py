"""``document.routed`` as the gateway reads it: what the inbox stores of each copy, and each
document's body as routing routed it, without its lines validated again.

Routing validated every line when it took the upload, and publishes each document as the JSON
its own body row keeps (every line as :class:`~shared.contracts.documents.DocumentLine` writes
it). The registered model would check all the lines once more, line by line, only for the
gateway to store them as they came: a third of the gateway's CPU for a routed copy. This view
checks what the inbox reads (the copies, each document's header, the decision) as the model
does, and takes the lines and expected marks as the JSON objects they are; the body stored is
the one the model would have given. The gateway's consumer reads the message by this view (it
is not registered as a message of its own: see ``shared.contracts.envelope.decode``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from shared.contracts.documents import DocumentHeader, Strict
from shared.contracts.envelope import Payload
from shared.contracts.uploads import (
    DocumentRouted,
    RoutedCopy,
    UploadDecided,
    require_named_documents,
)

_ID = Field(min_length=1, max_length=200)


def _objects(items: list[Any]) -> list[Any]:
    if not all(type(item) is dict for item in items):
        raise ValueError("each item must be a JSON object")
    return items


# JSON objects taken as they are (the list checked, not each object's keys: validating a
# ``dict[str, Any]`` copies it, and that cost as much as the rest of the message).
Objects = Annotated[list[Any], AfterValidator(_objects)]


class RoutedDocument(Strict):
    """One document of the message: its header checked, its lines and expected marks as
    routing wrote them (checked there), to be stored and counted."""

    header: DocumentHeader
    lines: Objects = Field(default_factory=list)
    expected_marks: Objects = Field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The document's body as the inbox keeps it: the lines and marks as they came."""
        return {
            "header": self.header.model_dump(mode="json"),
            "lines": self.lines,
            "expected_marks": self.expected_marks,
        }


class RoutedCopies(Payload):
    """A ``document.routed`` as the gateway's inbox reads it (see the module's docstring)."""

    model_config = ConfigDict(extra="ignore")

    TYPE = DocumentRouted.TYPE
    VERSION = DocumentRouted.VERSION

    request_id: str = _ID
    process: str
    documents: list[RoutedDocument] = Field(min_length=1)
    copies: list[RoutedCopy] = Field(min_length=1)
    requested_at: datetime
    decided: UploadDecided | None = None

    @model_validator(mode="after")
    def _copies_name_documents(self) -> RoutedCopies:
        require_named_documents(self.copies, {d.header.id for d in self.documents})
        return self

    @classmethod
    def of(cls, routed: DocumentRouted) -> RoutedCopies:
        """The view of a message read by the registered model (an older version upgraded)."""
        return cls.model_validate(routed.as_json())
