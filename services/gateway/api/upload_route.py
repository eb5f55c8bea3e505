"""Uploads in tsdx's JSON answered in front of FastAPI, by a plain ASGI route.

Every document the accounting side sends is one ``POST /api/v1/uploads``. Behind FastAPI's
routing, dependency and exception layers it paid about as much CPU again as the endpoint's
own work. This route answers the common case itself, inside the middleware every endpoint has
(the canonical log line, metrics, correlation id, body limit): a JSON body (``Content-Type:
application/json``, no query) that reads as a JSON object. In FastAPI's order it authenticates
the key, validates the upload, runs the endpoint's use case (:func:`accounting.accept_upload`)
and answers (:func:`accounting.upload_response`); what they raise is answered by
:func:`shared.http.error_answer`, as FastAPI's handlers answer it.

Anything else, a body that is not a JSON object included, goes on to FastAPI's endpoint with
the body as it was received and nothing done yet, so its answers stay FastAPI's own. FastAPI's
endpoint also stays the documented one.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.api import accounting
from services.gateway.api.plain_requests import replaying, whole_body
from services.gateway.auth import authenticate_tenant, bearer_token, worded_as_the_api_key
from services.gateway.onec_upload import said_for_a_1c_export
from shared.contracts.uploads import UploadRequested
from shared.http import authorization_and_language, error_answer, language_of
from shared.jsonexact import loads_exact
from shared.service import Runtime

UPLOADS_PATH = "/api/v1/uploads"


class UploadRoute:
    def __init__(self, app: ASGIApp, rt: Runtime, route: BaseRoute) -> None:
        self.app = app
        self.rt = rt
        self.route = route  # FastAPI's route: the metrics and the log line name it as before

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _plain_json_upload(scope):
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        received = await whole_body(receive)
        parsed = _json_object_of(received)
        if parsed is None:  # FastAPI answers it, from the body as received
            await self.app(scope, replaying(received, receive), send)
            return
        del received  # the parsed body holds all that is read from here on
        request = Request(scope)
        try:
            # The key before the fields, as FastAPI's dependencies come before the body's
            # validation: a caller without a key costs the parse, never the validation.
            authorization, _ = authorization_and_language(scope)
            with worded_as_the_api_key():
                tenant = await authenticate_tenant(self.rt, bearer_token(authorization))
            upload = _validated(parsed)
            del parsed
            record, repeated = await accounting.accept_upload(self.rt, tenant, upload)
            del upload  # routing's now: a large document is not held while the answer is sent
            answer = accounting.upload_response(request, record, repeated=repeated)
        except Exception as exc:  # answered as FastAPI's handlers answer it
            answer = error_answer(exc, language_of(request))
        await answer(scope, receive, send)


def _plain_json_upload(scope: Scope) -> bool:
    """A POST to the uploads with no query and exactly ``Content-Type: application/json``
    (a 1C body comes with its own type or ``?format=1c-json``, and its fields in the query)."""
    if scope["type"] != "http" or scope["path"] != UPLOADS_PATH or scope["method"] != "POST":
        return False
    if scope["query_string"]:
        return False
    types = [value for name, value in scope["headers"] if name == b"content-type"]
    return types == [b"application/json"]


def _json_object_of(messages: list[Message]) -> dict[str, Any] | None:
    """The body read as a JSON object; None when it is not one (FastAPI then refuses it in its
    own words: not JSON, nested too deeply, not an object)."""
    if messages[-1]["type"] != "http.request":
        return None
    body = b"".join(message.get("body", b"") for message in messages)
    try:
        parsed = loads_exact(body)
    except Exception:
        return None
    return parsed if isinstance(parsed, dict) else None


def _validated(parsed: dict[str, Any]) -> UploadRequested:
    """The upload, validated as FastAPI validates the endpoint's body: its errors placed
    under ``body`` as FastAPI places them."""
    try:
        return UploadRequested.model_validate(parsed)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise said_for_a_1c_export(RequestValidationError(errors, body=parsed)) from None


def install(app: FastAPI, rt: Runtime) -> None:
    """Put the route in front of the app's own routing, inside its middleware (appended to
    the app's middleware list, so innermost)."""
    route = next(
        r
        for r in accounting.router.routes
        if getattr(r, "path", None) == UPLOADS_PATH and "POST" in getattr(r, "methods", ())
    )
    options: dict[str, Any] = {"rt": rt, "route": route}
    app.user_middleware.append(Middleware(UploadRoute, **options))
