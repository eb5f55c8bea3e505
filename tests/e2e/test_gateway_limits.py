"""The gateway's limits end to end: body size (declared and chunked), documents per upload,
lines per document, request rate per credential; an upload routing has not answered in time
(202 and its status URL); devices online.

The stack of this module has small limits and does not wait for routing's answer at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tests.support.documents import by_pin, order, upload
from tests.support.metrics import metric
from tests.support.stack import ADMIN_TOKEN, running_stack
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, TerminalClient

MAX_BODY = 64 * 1024
BURST = 30


@pytest.fixture(scope="module")
def small_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("limits"),
        services=("registry", "routing", "gateway"),
        extra_env={
            "TSDX_MAX_BODY_BYTES": str(MAX_BODY),
            "TSDX_MAX_DOCUMENTS_PER_UPLOAD": "3",
            "TSDX_MAX_LINES_PER_DOCUMENT": "50",
            "TSDX_RATE_LIMIT_BURST": str(BURST),
            "TSDX_RATE_LIMIT_PER_SECOND": "1",
            "TSDX_UPLOAD_WAIT_SECONDS": "0",
        },
    ) as s:
        yield s


@pytest.fixture
async def tenant(small_stack: Stack) -> dict[str, str]:
    async with AdminClient(small_stack.url("gateway"), ADMIN_TOKEN) as admin:
        return await admin.create_tenant(f"Склад {uuid.uuid4().hex[:6]}")


@asynccontextmanager
async def raw(stack: Stack, token: str, language: str = "ru") -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=stack.url("gateway"),
        headers={"Authorization": f"Bearer {token}", "Accept-Language": language},
        timeout=30,
    ) as http:
        yield http


@asynccontextmanager
async def paired(stack: Stack, tenant: dict[str, str]) -> AsyncIterator[TerminalClient]:
    terminal = TerminalClient(stack.url("gateway"))
    try:
        await terminal.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
        yield terminal
    finally:
        await terminal.close()


def big_upload(lines: int) -> dict[str, Any]:
    document = order(lines=lines)
    for line in document["lines"]:
        line["name"] = "Ж" * 1000  # the longest name a line may have
    return upload(by_pin("0000"), document)


async def test_a_body_over_the_limit_is_refused_and_nothing_is_stored(
    small_stack: Stack, tenant: dict[str, str]
) -> None:
    body = big_upload(lines=50)
    async with raw(small_stack, tenant["api_key"], "en") as http:
        response = await http.post("/api/v1/uploads", json=body)
        assert int(response.request.headers["content-length"]) > MAX_BODY
        assert response.status_code == 413
        refused = response.json()
        assert refused["code"] == "body_too_large"
        assert refused["message"] == f"The request is too large: at most {MAX_BODY} bytes."
        status = await http.get(f"/api/v1/uploads/{body['request_id']}")
        assert status.status_code == 404


async def test_a_chunked_body_over_the_limit_is_refused(
    small_stack: Stack, tenant: dict[str, str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"request_id": "chunked", "process": "purchase-receipt", "documents": ['
        for _ in range(MAX_BODY // 1000 + 2):
            yield b" " * 1000  # JSON whitespace: valid, but too much of it

    async with raw(small_stack, tenant["api_key"]) as http:
        response = await http.post(
            "/api/v1/uploads", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


async def test_too_many_documents_or_lines_are_refused_by_name(
    small_stack: Stack, tenant: dict[str, str]
) -> None:
    async with raw(small_stack, tenant["api_key"], "en") as http:
        many = upload(by_pin("0000"), *(order(lines=1) for _ in range(4)))
        response = await http.post("/api/v1/uploads", json=many)
        assert response.status_code == 413
        assert response.json()["code"] == "too_many_documents"
        assert response.json()["message"] == "Too many documents in one upload: at most 3."

        long = order(lines=51)
        response = await http.post("/api/v1/uploads", json=upload(by_pin("0000"), long))
        assert response.status_code == 413
        assert response.json()["code"] == "too_many_lines"
        assert long["header"]["id"] in response.json()["message"]


async def test_an_upload_not_answered_in_time_gets_a_status_url(
    small_stack: Stack, tenant: dict[str, str]
) -> None:
    async with (
        paired(small_stack, tenant) as terminal,
        raw(small_stack, tenant["api_key"]) as http,
    ):
        body = upload(by_pin(terminal.device["pin"]))
        response = await http.post("/api/v1/uploads", json=body)
        assert response.status_code == 202
        pending = response.json()
        assert pending["status"] == "pending"
        assert pending["status_url"].endswith(f"/api/v1/uploads/{body['request_id']}")

        decided = await eventually(
            lambda: http.get(pending["status_url"]),
            until=lambda r: r.status_code != 202,
            interval=0.3,
            what="routing's answer",
        )
        assert decided.status_code == 200
        assert decided.json()["status"] == "accepted"
        [delivery] = decided.json()["deliveries"]
        assert delivery["device_pin"] == terminal.device["pin"]
        # Sent again with the same id, the answer is the one given.
        again = await http.post("/api/v1/uploads", json=body)
        assert (again.status_code, again.json()) == (200, {**decided.json(), "repeated": True})


async def test_each_credential_has_its_own_request_rate(
    small_stack: Stack, tenant: dict[str, str]
) -> None:
    async with (
        paired(small_stack, tenant) as terminal,
        raw(small_stack, tenant["api_key"], "en") as http,
    ):
        statuses = [(await http.get("/api/v1/results")).status_code for _ in range(BURST + 5)]
        assert statuses.count(200) >= BURST - 5  # a few tokens come back meanwhile
        assert statuses[-1] == 429
        limited = await http.get("/api/v1/results")
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["message"].startswith("Too many requests.")
        # The device of the same base has a bucket of its own.
        assert (await terminal.me())["pin"] == terminal.device["pin"]


async def test_devices_in_contact_are_counted_online(
    small_stack: Stack, tenant: dict[str, str]
) -> None:
    before = await metric(small_stack.url("gateway"), "tsdx_devices_online")
    async with paired(small_stack, tenant) as first, paired(small_stack, tenant) as second:
        await first.me()
        await second.inbox()
        assert await metric(small_stack.url("gateway"), "tsdx_devices_online") == before + 2
    async with AccountingClient(small_stack.url("gateway"), tenant["api_key"]) as accounting:
        assert await accounting.devices() == []  # seen, but never addressed by this base


async def test_a_1c_body_keeps_to_the_same_limits(
    small_stack: Stack, tenant: dict[str, str]
) -> None:
    onec = {"Content-Type": "application/vnd.1c+json"}
    query = {"request_id": uuid.uuid4().hex, "process": "purchase-receipt", "pin": "0000"}

    async def chunks() -> AsyncIterator[bytes]:
        yield '[{"Ссылка": "a", "Товары": ['.encode()
        for _ in range(MAX_BODY // 1000 + 2):
            yield b" " * 1000

    async with raw(small_stack, tenant["api_key"], "en") as http:
        response = await http.post("/api/v1/uploads", params=query, content=chunks(), headers=onec)
        assert response.status_code == 413
        assert response.json()["code"] == "body_too_large"

        batch = [
            {"ВидДокумента": "ЗаказПоставщику", "Ссылка": str(uuid.uuid4()),
             "Товары": [{"Номенклатура": "prod-1", "Количество": 1}]}
            for _ in range(4)
        ]  # fmt: skip
        response = await http.post(
            "/api/v1/uploads", params=query, content=json.dumps(batch).encode(), headers=onec
        )
        assert response.status_code == 413
        assert response.json()["code"] == "too_many_documents"
