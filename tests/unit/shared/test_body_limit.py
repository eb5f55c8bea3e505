"""The request body limit (shared.http.BodySizeLimit), on an app in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from shared.http import install_common

LIMIT = 1000


class Item(BaseModel):
    text: str


async def _ready() -> dict[str, bool]:
    return {"ok": True}


def _app() -> FastAPI:
    app = FastAPI()
    install_common(app, "test", _ready, max_body_bytes=LIMIT)

    @app.post("/items")
    async def create(item: Item) -> dict[str, Any]:
        return {"length": len(item.text)}

    return app


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t")


async def _chunks(total: int, size: int = 100) -> AsyncIterator[bytes]:
    body = b'{"text": "' + b"x" * (total - 12) + b'"}'
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_a_body_within_the_limit_passes() -> None:
    async with _client() as client:
        response = await client.post("/items", json={"text": "x" * 500})
    assert response.status_code == 200
    assert response.json() == {"length": 500}


async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    async with _client() as client:
        response = await client.post(
            "/items", json={"text": "x" * 2000}, headers={"Accept-Language": "en"}
        )
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "body_too_large"
    assert body["message"] == "The request is too large: at most 1000 bytes."
    assert body["params"] == {"limit": LIMIT}
    assert response.headers["X-Correlation-ID"]


async def test_a_chunked_body_over_the_limit_is_refused() -> None:
    async with _client() as client:
        response = await client.post(
            "/items", content=_chunks(5000), headers={"Content-Type": "application/json"}
        )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert response.json()["message"] == "Запрос слишком велик: не более 1000 байт."


async def test_a_chunked_body_within_the_limit_passes() -> None:
    async with _client() as client:
        response = await client.post(
            "/items", content=_chunks(900), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 200
    assert response.json() == {"length": 888}
