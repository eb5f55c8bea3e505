"""Uploads in 1C's own JSON: a document as ``ЗаписатьJSON`` of a structure or the XDTO
serialisation writes it (the shapes ``tsdx upload --format 1c-json`` reads), sent as it is.

Such a body is chosen by ``Content-Type: application/vnd.1c+json`` or ``?format=1c-json``; the
request id, process and target then come as query parameters. The body is read by the same
importer as the CLI's (``shared.onec``), so the checks and the Russian messages are the same.

FastAPI would read any ``…+json`` body as tsdx's own upload and refuse it, so the route sets a
1C body aside before FastAPI sees it, and the endpoint reads it after authentication.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from email.message import Message
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from shared.contracts.absent import NullMeansAbsent
from shared.contracts.documents import Channel, Target
from shared.contracts.uploads import UploadRequested
from shared.http import ExactJSONRoute, WordedValidationError, documented_query, query_of
from shared.onec import looks_like_1c_export, read_1c_json

CONTENT_TYPE = "application/vnd.1c+json"
FORMAT = "1c-json"
_SET_ASIDE = "tsdx.onec_body"  # the scope key the 1C body waits under

_TARGETS = ("pin", "device", "any_device", "group", "user", "everyone")


class OneCUploadQuery(NullMeansAbsent):
    """What goes with a 1C body: everything of an upload but its documents."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    format: str | None = Field(
        default=None, description="`1c-json`: the body is 1C's JSON (or send that content type)"
    )
    request_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="1C body: the idempotency key"
    )
    process: str | None = Field(
        default=None, min_length=1, max_length=200, description="1C body: process id or name"
    )
    channel: Channel = Field(default="internet", description="1C body: internet or lan")
    pin: str | None = Field(default=None, min_length=1, max_length=200, description="1C body")
    device: str | None = Field(
        default=None, min_length=1, max_length=200, description="1C body: a device id"
    )
    any_device: bool = Field(
        default=False, description="1C body: the base's only available device (assign to device)"
    )
    group: str | None = Field(default=None, min_length=1, max_length=200, description="1C body")
    user: str | None = Field(default=None, min_length=1, max_length=200, description="1C body")
    everyone: bool = Field(default=False, description="1C body: every user (local network)")
    recall: bool = Field(default=False, description="1C body: replace a copy being worked on")
    accounting_type: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="1C body: the document type, when the export does not name it",
    )

    @model_validator(mode="after")
    def _one_target(self) -> OneCUploadQuery:
        given = [name for name in _TARGETS if getattr(self, name) not in (None, False)]
        if len(given) != 1:
            # A kind of its own, said in Russian too (shared/i18n_validation.py).
            raise PydanticCustomError(
                "one_target",
                "give exactly one target of: {targets}",
                {"targets": ", ".join(_TARGETS)},
            )
        return self

    def target(self) -> Target:
        if self.everyone:
            return Target(kind="everyone")
        if self.any_device:
            return Target(kind="device")
        for kind in ("pin", "device", "group", "user"):
            value = getattr(self, kind)
            if value is not None:
                return Target(kind=kind, value=value)
        raise AssertionError("checked by _one_target")


def is_onec_body(request: Request) -> bool:
    if request.query_params.get("format") == FORMAT:
        return True
    content_type = request.headers.get("content-type")
    if not content_type:
        return False
    header = Message()
    header["content-type"] = content_type
    return header.get_content_type() == CONTENT_TYPE


def said_for_a_1c_export(exc: RequestValidationError) -> RequestValidationError:
    """A tsdx upload refused whole: when its body is a 1C export, the answer says how to send
    one (its content type, its fields in the query) rather than every tsdx field it lacks."""
    if looks_like_1c_export(exc.body):
        return WordedValidationError(exc, "onec_json_sent_as_tsdx")
    return exc


class OneCBodyRoute(ExactJSONRoute):
    """A route whose 1C body is set aside, so FastAPI does not read it as its own model; a
    body in tsdx's own format is read with numbers exact, as on every accounting route."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            if is_onec_body(request):
                request = await _set_aside(request)
            try:
                return await handle(request)
            except RequestValidationError as exc:
                raise said_for_a_1c_export(exc) from None

        return route


async def _set_aside(request: Request) -> Request:
    body = await request.body()
    scope = dict(request.scope)
    scope["headers"] = [
        (name, value)
        for name, value in request.scope["headers"]
        if name not in (b"content-type", b"content-length")
    ]
    scope[_SET_ASIDE] = body

    async def nothing_more() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    return Request(scope, nothing_more)


def upload_of(request: Request) -> UploadRequested:
    """The upload a 1C body and its query make; refused as the CLI import refuses the file."""
    body = request.scope.get(_SET_ASIDE)
    if body is None:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    query = query_of(OneCUploadQuery, request)
    missing = [name for name in ("request_id", "process") if getattr(query, name) is None]
    if missing:
        raise RequestValidationError(
            [
                {"type": "missing", "loc": ("query", name), "msg": "Field required", "input": None}
                for name in missing
            ]
        )
    documents = read_1c_json(body, accounting_type=query.accounting_type)
    try:
        return UploadRequested(
            request_id=query.request_id,
            process=query.process,
            channel=query.channel,
            target=query.target(),
            documents=documents,
            recall=query.recall,
        )
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None


def documented() -> dict[str, Any]:
    """The 1C body's place in the upload's OpenAPI operation, for ``openapi_extra``."""
    return {
        "parameters": documented_query(OneCUploadQuery)["parameters"],
        "requestBody": {
            "required": True,
            "content": {
                CONTENT_TYPE: {
                    "schema": {
                        "type": "object",
                        "description": "1C's JSON: ЗаписатьJSON of a Структура, or the XDTO "
                        "serialisation of a document object, or a batch of either",
                    }
                }
            },
        },
    }
