"""A document as the upload's messages carry it (``upload.requested``, ``document.routed``):
its header and expected marks as models, its lines as their checked JSON.

Each hop validates a document it receives, and a 10,000-line document is 10,000 line models
built and dumped again at every hop. Here a plain line (shared/contracts/plain_lines.py) is
checked without a model and kept as the JSON the model would have written; any other line is
validated by :class:`DocumentLine` itself, so its errors, their places and words are the
model's, and kept as its JSON too. The schema a client or an adapter reads is the model's.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from shared.contracts.documents import (
    EXPECTED_MARKS_MAX,
    Document,
    DocumentHeader,
    DocumentLine,
    ExpectedMark,
    Strict,
)
from shared.contracts.plain_lines import compact_line, plain_line


def _checked_lines(raw: Any, model: ValidatorFunctionWrapHandler) -> list[dict[str, Any]]:
    if type(raw) is list:
        lines = [plain_line(line) for line in raw]
        if None not in lines:
            return lines  # type: ignore[return-value]  # None is not in it
    # A line the quick check is unsure of: all of them by the model, so that its errors are
    # the model's, at each line's place.
    checked: list[DocumentLine] = model(raw)
    return [line.model_dump(mode="json") for line in checked]


class _LineChecks:
    """Lines validated by the quick check, else by :class:`DocumentLine`; kept as JSON."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_wrap_validator_function(
            _checked_lines,
            handler.generate_schema(list[DocumentLine]),
            serialization=core_schema.simple_ser_schema("any"),
        )


# Document lines as their JSON, checked as :class:`DocumentLine` (whose JSON schema they have).
CheckedLines = Annotated[list[dict[str, Any]], _LineChecks()]


class CarriedDocument(Strict):
    """A :class:`Document` whose lines are their checked JSON (see the module's docstring)."""

    header: DocumentHeader
    lines: CheckedLines = Field(default_factory=list)
    expected_marks: list[ExpectedMark] = Field(default_factory=list, max_length=EXPECTED_MARKS_MAX)

    @model_validator(mode="before")
    @classmethod
    def _from_model(cls, data: Any) -> Any:
        # A document built as the model (a 1C import, a follow-up) is carried as its JSON.
        return data.model_dump(mode="json") if isinstance(data, Document) else data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The same document on the wire as :class:`Document`: its schema is Document's.
        return handler(Document.__pydantic_core_schema__)

    def as_json(self, *, compact: bool = False) -> dict[str, Any]:
        """The document's JSON, its lines as they are kept (not copied), or without the
        fields that hold their default with ``compact``."""
        return {
            "header": self.header.model_dump(mode="json"),
            "lines": [compact_line(line) for line in self.lines] if compact else self.lines,
            "expected_marks": [mark.model_dump(mode="json") for mark in self.expected_marks],
        }

    def model(self) -> Document:
        """The document as the model (its lines built one by one: for the few that need it)."""
        return Document.model_validate(self.as_json())
