"""Comparing a plain ASGI route of the gateway with the FastAPI endpoint behind it: the same
runtime serves two apps, one with the route and one without it, and each request's answers
are compared byte for byte (but the date and the correlation id)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.gateway.service import SPEC
from shared.service import Runtime


def with_and_without(rt: Runtime, route: type) -> tuple[FastAPI, FastAPI]:
    """The gateway's app as it runs (the route in front of FastAPI), and the same app without
    the route, where FastAPI's endpoint answers."""
    lean = SPEC.build_app(rt)
    plain = SPEC.build_app(rt)
    plain.user_middleware = [
        m for m in plain.user_middleware if getattr(m, "cls", None) is not route
    ]
    assert len(plain.user_middleware) == len(lean.user_middleware) - 1
    return lean, plain


def asgi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


def compared(answer: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    """What must be the same: status, body and headers, but the date and correlation id."""
    headers = [(k, v) for k, v in answer.headers.items() if k not in ("date", "x-correlation-id")]
    return answer.status_code, answer.content, headers
