"""The inbox poll and the acknowledgement answered in front of FastAPI, by a plain ASGI route.

Ten thousand terminals may each hold a long poll on one gateway. Behind FastAPI's routing,
request and exception layers a waiting request holds about 13 kB more, and every poll pays
their CPU. This route answers ``GET /api/v1/terminal/inbox`` itself, and the acknowledgement
every delivered document gets (``POST /api/v1/terminal/documents/{delivery_id}/ack``), inside
the middleware every endpoint has (the canonical log line, metrics, correlation id, body
limit), with the same use cases as the documented endpoints (:func:`terminal.answer_poll`,
:func:`terminal.answer_ack`) and the same error answers (:func:`shared.http.error_answer`);
any other request goes on to FastAPI. The batched acknowledgement of several documents
(``POST /api/v1/terminal/documents/ack``, :class:`AcksRoute`) is answered here too.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.api import terminal
from services.gateway.api.plain_requests import replaying, send_json, whole_body
from services.gateway.api.terminal import (
    ACK_BATCH_PATH,
    ACK_PATH,
    INBOX_PATH,
    AckBatchRequest,
    answer_ack,
    answer_acks,
    answer_poll,
)
from shared.http import authorization_and_language, query_params
from shared.i18n import pick_language
from shared.jsonexact import NestedTooDeeply, NotJSON, loads_exact
from shared.service import Runtime

_ACK_BEFORE, _ACK_AFTER = ACK_PATH.split("{delivery_id}")


def _acked(path: str) -> str | None:
    """The delivery id of an acknowledgement's path, as FastAPI's path parameter reads it
    (one segment, not empty); None for any other path."""
    if not (path.startswith(_ACK_BEFORE) and path.endswith(_ACK_AFTER)):
        return None
    delivery_id = path[len(_ACK_BEFORE) : len(path) - len(_ACK_AFTER)]
    return delivery_id if delivery_id and "/" not in delivery_id else None


class InboxRoute:
    def __init__(
        self,
        app: ASGIApp,
        rt: Runtime,
        route: BaseRoute,
        ack_route: BaseRoute,
        acks_route: BaseRoute,
    ) -> None:
        self.app = app
        self.rt = rt
        # FastAPI's routes of the same paths: the metrics and the log line name them as before.
        self.route = route
        self.ack_route = ack_route
        self.acks_route = AcksRoute(app, rt, acks_route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if path == ACK_BATCH_PATH and method == "POST":
            await self.acks_route(scope, receive, send)
            return
        delivery_id = _acked(path) if method == "POST" else None
        if delivery_id is None and (path != INBOX_PATH or method != "GET"):
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route if delivery_id is None else self.ack_route
        authorization, accept_language = authorization_and_language(scope)
        language = pick_language(accept_language)
        if delivery_id is None:
            answer = self._poll(scope, authorization, language)
        else:
            answer = answer_ack(self.rt, authorization, delivery_id)
        await send_json(send, answer, language)

    async def _poll(self, scope: Scope, authorization: str | None, language: str) -> bytes:
        params = query_params(scope["query_string"])  # within the answer: its errors answered
        return await answer_poll(self.rt, authorization, params, language, scope)


class AcksRoute:
    """The batched acknowledgement (``POST /api/v1/terminal/documents/ack``) of a JSON body the
    model takes; any other body is handed on, as it came, to FastAPI, whose endpoint answers
    what is wrong with it (the same answer either way, and a rare one)."""

    def __init__(self, app: ASGIApp, rt: Runtime, route: BaseRoute) -> None:
        self.app = app
        self.rt = rt
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = await whole_body(receive)
        if received[-1]["type"] != "http.request":  # the client went away
            return
        body = _batch(scope, b"".join(message.get("body", b"") for message in received))
        if body is None:
            await self.app(scope, replaying(received, receive), send)
            return
        scope["route"] = self.route
        authorization, accept_language = authorization_and_language(scope)
        language = pick_language(accept_language)
        await send_json(send, answer_acks(self.rt, authorization, body, language), language)


def _batch(scope: Scope, raw: bytes) -> AckBatchRequest | None:
    """The body as the endpoint's model, when it is JSON (declared so) the model takes."""
    content_type = Headers(scope=scope).get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        return None
    try:
        return AckBatchRequest.model_validate(loads_exact(raw))
    except (NotJSON, NestedTooDeeply, ValidationError):
        return None


def install(app: FastAPI, rt: Runtime) -> None:
    """Put the route in front of the app's own routing, inside its middleware (appended to the
    app's middleware list, so innermost)."""
    paths = {getattr(r, "path", None): r for r in terminal.router.routes}
    options: dict[str, Any] = {
        "rt": rt,
        "route": paths[INBOX_PATH],
        "ack_route": paths[ACK_PATH],
        "acks_route": paths[ACK_BATCH_PATH],
    }
    app.user_middleware.append(Middleware(InboxRoute, **options))
