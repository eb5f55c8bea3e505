"""What every HTTP app of tsdx shares: errors as JSON with a stable code, the correlation id,
one canonical log line per request, request metrics, health endpoints and ``/metrics``."""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextlib import suppress
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ValidationError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.contracts.quantity import ERROR_TYPE as QUANTITY_ERROR
from shared.contracts.rpc import Params, RpcMethod
from shared.errors import Refusal, describe, field_path
from shared.i18n import pick_language, render
from shared.i18n_validation import validation_reason
from shared.jsonexact import NestedTooDeeply, NotJSON, loads_exact
from shared.logging import correlation, get_logger
from shared.messaging.broker import BrokerUnavailable
from shared.messaging.rpc import RpcClient, RpcTimeout
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.request_summary import is_quiet
from shared.storage import StorageError
from shared.version import VERSION

log = get_logger("tsdx.http")

CORRELATION_HEADER = "X-Correlation-ID"

P = TypeVar("P", bound=Params)
R = TypeVar("R")

_STATUS_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


class HttpCaller:
    """Asks RPC methods for an HTTP handler (``Registry(HttpCaller(rt.rpc), tenant)``): a peer
    or broker that does not answer in time is a 503 ``broker_unavailable`` the client may
    retry; the peer's refusal passes through as it is."""

    def __init__(self, rpc: RpcClient) -> None:
        self._rpc = rpc

    async def call(self, method: RpcMethod[P, R], params: P, tenant: str | None = None) -> R:
        try:
            return await self._rpc.call(method, params, tenant=tenant)
        except (RpcTimeout, BrokerUnavailable):
            raise Refusal("broker_unavailable", 503) from None


def check_admin_token(credentials: HTTPAuthorizationCredentials | None, admin_token: str) -> None:
    """Refuse unless the Bearer credential is the operators' admin token (compared in constant
    time, as bytes, so any text a client sends is simply wrong, never an error)."""
    given = credentials.credentials.strip() if credentials is not None else ""
    if not given or not hmac.compare_digest(given.encode(), admin_token.encode()):
        raise Refusal("unauthorized", 401).worded_as("admin_token_wrong")


def error_body(
    code: str, language: str, params: dict[str, Any] | None = None, said_as: str | None = None
) -> dict[str, Any]:
    if params and "problems" in params:  # a validation error carried from where it happened
        params = {**params, "details": describe(params["problems"], language)}
    body: dict[str, Any] = {"code": code, "message": render(said_as or code, language, params)}
    if params:
        body["params"] = params
    return body


def language_of(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"))


def refusal_response(request: Request, refusal: Refusal) -> JSONResponse:
    return error_answer(refusal, language_of(request))


class WordedValidationError(RequestValidationError):
    """A request's validation errors, answered as any (code, ``errors``, details) but said as
    ``said_as``: what the body as a whole is, rather than each field it lacks."""

    def __init__(self, refused: RequestValidationError, said_as: str) -> None:
        super().__init__(refused.errors(), body=refused.body)
        self.said_as = said_as


def error_answer(exc: Exception, language: str) -> JSONResponse:
    """The answer to what an endpoint raised: a refusal, bad parameters (422), the store away
    (503), anything else (500, logged). The FastAPI handlers of :func:`install_common` and
    the plain ASGI routes in front of FastAPI answer alike through it."""
    if isinstance(exc, Refusal):
        headers = {}
        if "retry_after" in exc.params:
            headers["Retry-After"] = str(exc.params["retry_after"])
        return JSONResponse(
            error_body(exc.code, language, exc.params, exc.said_as),
            status_code=exc.status,
            headers=headers,
        )
    if isinstance(exc, RequestValidationError):
        errors = [
            {
                "field": field_path(err),
                "reason": validation_reason(err, language),
                "type": err["type"],
            }
            for err in exc.errors()[:20]
        ]
        details = describe(exc.errors(), language)
        # A quantity outside the rule gets its own code: the caller fixes how it writes numbers.
        quantity = all(err["type"] == QUANTITY_ERROR for err in exc.errors())
        code = "quantity_invalid" if quantity else "validation_error"
        # A body refused whole may be said for what it is (a 1C export sent as tsdx's JSON).
        said_as = exc.said_as if isinstance(exc, WordedValidationError) else None
        body = error_body(code, language, {"details": details}, said_as)
        body["errors"] = errors
        return JSONResponse(body, status_code=422)
    if isinstance(exc, StorageError):
        # Retryable: the caller repeats the same request (ids make repeats safe).
        log.warning("http.storage_unavailable", error=str(exc))
        return JSONResponse(
            error_body("storage_unavailable", language),
            status_code=503,
            headers={"Retry-After": "1"},
        )
    log.exception("http.unhandled_error")
    return JSONResponse(error_body("internal_error", language), status_code=500)


QueryModel = TypeVar("QueryModel", bound=BaseModel)


def query_of(model: type[QueryModel], request: Request) -> QueryModel:
    """The request's query parameters as ``model``, read inside an endpoint rather than declared
    as FastAPI parameters (each of which costs a hot endpoint more than its own work). Bad
    values are refused with the same 422 as a declared parameter's."""
    return query_from(model, dict(request.query_params))


def query_params(query_string: bytes) -> dict[str, str]:
    """A raw query string's parameters as Starlette reads them (blank values kept, a name's last
    value wins), for the plain ASGI routes. A query with nothing to decode (no ``%``, no ``+``:
    a terminal's ``wait=30&known=3``) is split directly: ``parse_qsl`` would give the same."""
    query = query_string.decode("latin-1")
    if "%" in query or "+" in query:
        return dict(parse_qsl(query, keep_blank_values=True))
    params = {}
    for pair in query.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            params[name] = value
    return params


def query_from(model: type[QueryModel], params: dict[str, str]) -> QueryModel:
    """Query parameters (each name's last value) as ``model``, refused as :func:`query_of`
    refuses them."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("query", *error["loc"])} for error in exc.errors()]
        ) from None


def documented_query(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI ``parameters`` of a query read by :func:`query_of`, for ``openapi_extra``."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        field = dict(field)
        description = field.pop("description", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": field}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    invalid = {"description": "A query parameter is invalid: `validation_error`, with the fields"}
    return {"parameters": parameters, "responses": {"422": invalid}}


def authorization_and_language(scope: Scope) -> tuple[str | None, str | None]:
    """The ``Authorization`` and ``Accept-Language`` headers of a request's scope, the first of
    each, as Starlette reads them: for the gateway's plain ASGI routes, which answer without a
    :class:`Request`."""
    authorization = accept_language = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if authorization is None:
                authorization = value.decode("latin-1")
        elif name == b"accept-language" and accept_language is None:
            accept_language = value.decode("latin-1")
    return authorization, accept_language


class ExactJSONRequest(Request):
    """A request whose JSON body is read with numbers exact (:func:`loads_exact`)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = loads_exact(await self.body())
            except NestedTooDeeply:
                raise  # FastAPI answers 400, like any body it cannot read
            except NotJSON as exc:  # FastAPI answers 422 json_invalid, as for any bad JSON
                raise json.JSONDecodeError(str(exc), "", 0) from None
        return self._json


def forget_json(request: Request) -> None:
    """Let a request's parsed JSON body go once it has been validated into its model. FastAPI
    holds the same object until the endpoint returns, so it is emptied in place: an endpoint
    that waits (an upload waiting for its decision) then does not hold a large body twice."""
    parsed = getattr(request, "_json", None)
    if isinstance(parsed, dict | list):
        parsed.clear()


class ExactJSONRoute(APIRoute):
    """Route class of routers whose bodies carry quantities: ``APIRouter(route_class=...)``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:  # nothing to read (the inbox poll): no wrapper, no cost
            return handler

        async def exact(request: Request) -> Response:
            return await handler(ExactJSONRequest(request.scope, request.receive))

        return exact


class _BodyTooLarge(Exception):
    pass


_CORRELATION_NAME = CORRELATION_HEADER.lower().encode("latin-1")


def _correlation_of(scope: Scope) -> str | None:
    """The request's first ``X-Correlation-ID``, as ``Headers(scope=scope).get`` reads it
    (ASGI servers give header names in lower case), without building the headers."""
    for name, value in scope["headers"]:
        if name == _CORRELATION_NAME:
            decoded: str = value.decode("latin-1")
            return decoded
    return None


class CanonicalLine:
    """One log line and the metrics per request, under the request's correlation id.

    Plain ASGI rather than ``@app.middleware("http")``, which costs a task and a response
    copy on every request; its start (keep the app, pass on what is not HTTP) is ASGI's, and
    BodySizeLimit's looks the same."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        # Each (route, method, status)'s counter and latency histogram, once looked up: the
        # labels lookup costs more than the count.
        self._metrics: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        incoming = _correlation_of(scope)
        if incoming is not None and not (0 < len(incoming) <= 64 and incoming.isprintable()):
            incoming = None
        status = 500  # unless the app answers: an unhandled error is answered outside
        with correlation(incoming) as cid:
            id_header = (_CORRELATION_NAME, cid.encode("latin-1"))

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    # Appended as MutableHeaders.append does, without building one.
                    message["headers"] = [*message.get("headers", ()), id_header]
                await send(message)

            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._record(scope, status, time.perf_counter() - start)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        path = getattr(scope.get("route"), "path", "unmatched")
        method = scope["method"]
        key = (path, method, status)
        metrics = self._metrics.get(key)
        if metrics is None:
            metrics = self._metrics[key] = (
                HTTP_REQUESTS.labels(self.service, path, method, str(status)),
                HTTP_LATENCY.labels(self.service, path),
            )
        requests, latency = metrics
        requests.inc()
        latency.observe(elapsed)
        if status < 400 and is_quiet(scope):
            return  # counted in a periodic summary (shared.request_summary)
        if path not in ("/healthz", "/readyz", "/metrics"):
            log.info(
                "http.request",
                method=method,
                route=path,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )


def _body_declared(scope: Scope) -> tuple[str | None, bool]:
    """The request's first ``Content-Length`` and whether it has a ``Transfer-Encoding``, as
    :class:`Headers` reads them, in one pass over the raw headers (every request asks)."""
    declared: str | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            if declared is None:
                declared = value.decode("latin-1")
        elif name == b"transfer-encoding":
            chunked = True
    return declared, chunked


class BodySizeLimit:
    """Refuses request bodies above ``limit`` bytes with 413 ``body_too_large``.

    A declared Content-Length is checked before anything is read; a chunked body is counted
    as it arrives, and the app's own answer (whatever it made of the cut-off body) is
    replaced by the 413. What the client is still sending is read and dropped, up to
    ``_DRAIN_BYTES``, so the answer reaches it before the connection closes; a body far
    beyond that is cut off.
    """

    _DRAIN_BYTES = 1 << 20

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, chunked = _body_declared(scope)
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            if int(declared) <= self.limit + self._DRAIN_BYTES:
                await self._drain(receive)
            await self._refuse(Headers(scope=scope), send)
            return
        if not chunked:
            # No body, or one the server reads to its declared length (within the limit):
            # nothing to count (and a waiting long poll holds no wrappers).
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        received = 0
        too_large = False
        more_body = False
        answered = False

        async def counting_receive() -> Message:
            nonlocal received, too_large, more_body
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                more_body = bool(message.get("more_body", False))
                if received > self.limit:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def refuse_once() -> None:
            nonlocal answered
            if not answered:
                answered = True
                if more_body:
                    await self._drain(receive)
                await self._refuse(headers, send)

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if too_large:
                await refuse_once()
                return
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        with suppress(_BodyTooLarge):  # FastAPI may also turn it into a 400: replaced above
            await self.app(scope, counting_receive, guarded_send)
        if too_large:
            await refuse_once()

    async def _drain(self, receive: Receive) -> None:
        left = self._DRAIN_BYTES
        while left > 0:
            message = await receive()
            if message["type"] != "http.request":
                return
            left -= len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def _refuse(self, headers: Headers, send: Send) -> None:
        language = pick_language(headers.get("accept-language"))
        response = JSONResponse(
            error_body("body_too_large", language, {"limit": self.limit}),
            status_code=413,
            headers={"Connection": "close"},
        )
        await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


def install_common(
    app: FastAPI,
    service: str,
    ready: Callable[[], Awaitable[dict[str, bool]]],
    *,
    max_body_bytes: int | None = None,
    routers: Sequence[APIRouter] = (),
) -> None:
    """What every service's HTTP app has (error answers, the canonical log line, health,
    readiness, metrics), then the service's own routers (its ``api/``) in their order."""
    if max_body_bytes is not None:
        # Added first, so it runs inside the canonical-line middleware and 413s are logged.
        app.add_middleware(BodySizeLimit, limit=max_body_bytes)

    @app.exception_handler(Refusal)
    async def _refusal(request: Request, exc: Refusal) -> JSONResponse:
        return refusal_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_answer(exc, language_of(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not parse the body (e.g. nested too deeply)
            return JSONResponse(
                error_body("body_unreadable", language_of(request)),
                status_code=400,
                headers=getattr(exc, "headers", None),
            )
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            {
                "code": code,
                "message": render(code, language_of(request))
                if code != "http_error"
                else str(exc.detail),
            },
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(StorageError)
    async def _storage(request: Request, exc: StorageError) -> JSONResponse:
        return error_answer(exc, language_of(request))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return error_answer(exc, language_of(request))

    # Added last, so it is the outermost: it sees every answer, 413s included.
    app.add_middleware(CanonicalLine, service=service)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service, "version": VERSION}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = await ready()
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": checks},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
