"""The inbox poll answered in front of FastAPI, by a plain ASGI route.

Ten thousand terminals may each hold a long poll on one gateway. Behind FastAPI's routing,
request and exception layers a waiting request holds about 13 kB more, and every poll pays
their CPU. This route answers ``GET /api/v1/terminal/inbox`` itself, inside the middleware
every endpoint has (the canonical log line, metrics, correlation id, body limit), with the
same use case as the documented endpoint (:func:`terminal.answer_poll`) and the same error
answers (:func:`shared.http.error_answer`); any other request goes on to FastAPI.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.api import terminal
from services.gateway.api.terminal import INBOX_PATH, answer_poll
from shared.http import error_answer
from shared.i18n import pick_language
from shared.service import Runtime

_JSON = (b"content-type", b"application/json")


class InboxRoute:
    def __init__(self, app: ASGIApp, rt: Runtime, route: BaseRoute) -> None:
        self.app = app
        self.rt = rt
        # FastAPI's route of the same path: the metrics and the log line name it as before.
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != INBOX_PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        authorization, accept_language = _headers(scope)
        language = pick_language(accept_language)
        # As Starlette reads a query: blank values kept, a name's last value wins.
        params = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        try:
            body = await answer_poll(self.rt, authorization, params, language, scope)
            status = 200
            headers: list[tuple[bytes, bytes]] = [
                (b"content-length", str(len(body)).encode()),
                _JSON,
            ]
        except Exception as exc:  # answered as FastAPI's handlers answer it
            answer = error_answer(exc, language)
            status, headers, body = answer.status_code, answer.raw_headers, bytes(answer.body)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _headers(scope: Scope) -> tuple[str | None, str | None]:
    """The ``Authorization`` and ``Accept-Language`` headers, the first of each (as Starlette
    reads them)."""
    authorization = accept_language = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if authorization is None:
                authorization = value.decode("latin-1")
        elif name == b"accept-language" and accept_language is None:
            accept_language = value.decode("latin-1")
    return authorization, accept_language


def install(app: FastAPI, rt: Runtime) -> None:
    """Put the route in front of the app's own routing, inside its middleware (appended to the
    app's middleware list, so innermost)."""
    [route] = [r for r in terminal.router.routes if getattr(r, "path", None) == INBOX_PATH]
    options: dict[str, Any] = {"rt": rt, "route": route}
    app.user_middleware.append(Middleware(InboxRoute, **options))
