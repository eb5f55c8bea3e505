"""``document.routed`` as the gateway reads it: what the inbox stores of each copy, and each
document's body as routing routed it, without its lines validated again.

Routing validated every line when it took the upload, and publishes each document as the JSON
its own body row keeps (every line as :class:`~shared.contracts.documents.DocumentLine` writes
it). The registered model would check all the lines once more, line by line, only for the
gateway to store them as they came: a third of the gateway's CPU for a routed copy. This view
checks what the inbox reads (the channel, the copies, each document's header, the decision) as
the model does, and takes the lines and expected marks of a document as the JSON objects they
are when they have the shape routing writes: every line with exactly the line's fields, every
mark with exactly ``code`` and ``contents``, no more marks than the model allows, and no number
read exactly (a fraction or an exponent: tsdx writes quantities as text, so only a sender other
than routing puts one there). For routing's own messages the body stored is therefore the one
the model would have given. Any other document (an older routing's line lacking a field added
since, a stranger's JSON) goes through :class:`~shared.contracts.carried.CarriedDocument`, the
model itself: it is refused with the model's reasons, at their places, or stored as the model
gives it (defaults filled in, quantities as text). The values of a line of routing's shape are
not checked one by one (that is the cost this view spares): one of the wrong type, which no
routing writes, is stored as it came. Looking for a number read exactly is skipped when orjson
read the message (``READ_PLAINLY``: decode looked through the documents already). The gateway's
consumer reads the message by this view (it is not registered as a message of its own: see
``shared.contracts.envelope.decode``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import (
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationInfo,
    model_validator,
)

from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import (
    EXPECTED_MARKS_MAX,
    Channel,
    DocumentHeader,
    DocumentLine,
    ExpectedMark,
    Strict,
)
from shared.contracts.envelope import READ_PLAINLY, Payload
from shared.contracts.uploads import (
    DocumentRouted,
    RoutedCopy,
    UploadDecided,
    require_named_documents,
)
from shared.jsonexact import has_fraction

_ID = Field(min_length=1, max_length=200)
# The keys routing writes: every field of the model, defaults included.
_LINE_KEYS = frozenset(DocumentLine.model_fields)
_MARK_KEYS = frozenset(ExpectedMark.model_fields)
# The numbers the exact reading gives: a Decimal (a fraction) or a float (an exponent), which
# the model turns into text or refuses, and which the stores cannot write as they are.
_READ_EXACTLY = frozenset({Decimal, float})


def _as_routing_writes(document: Any, *, looked_through: bool) -> bool:
    """Whether a document's lines and marks have the shape routing writes (the module's
    docstring): the keys compared as sets, in C, not each value checked. The values are looked
    through for numbers read exactly unless the message's reading did it (``looked_through``)."""
    if type(document) is not dict:
        return False
    lines = document.get("lines")
    marks = document.get("expected_marks")
    return (
        type(lines) is list
        and type(marks) is list
        and len(marks) <= EXPECTED_MARKS_MAX
        and all(type(line) is dict and line.keys() == _LINE_KEYS for line in lines)
        and all(type(mark) is dict and mark.keys() == _MARK_KEYS for mark in marks)
        and (looked_through or not has_fraction((lines, marks), _READ_EXACTLY))
    )


class RoutedDocument(Strict):
    """One document of the message: its header checked, its lines and expected marks as
    routing wrote them (checked there), to be stored and counted; a document of another shape
    as the model gives it (see the module's docstring)."""

    header: DocumentHeader
    lines: list[Any] = Field(default_factory=list)
    expected_marks: list[Any] = Field(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _by_the_model_unless_as_routing_writes(
        cls, data: Any, handler: ModelWrapValidatorHandler[RoutedDocument], info: ValidationInfo
    ) -> RoutedDocument:
        if isinstance(data, RoutedDocument):
            return handler(data)
        # Read by orjson, the body was looked through for fractions already (decode).
        plainly = bool(info.context and info.context.get(READ_PLAINLY))
        if _as_routing_writes(data, looked_through=plainly):
            return handler(data)
        # The model's errors come out as this document's, at their places.
        return handler(CarriedDocument.model_validate(data).as_json())

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
    channel: Channel
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
