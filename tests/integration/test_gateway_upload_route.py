"""The upload's plain ASGI route answers exactly as the FastAPI endpoint behind it would.

One gateway runtime (real SQLite store, real RabbitMQ vhost, no routing: an upload nobody
decides stays pending) serves two apps: the gateway's own, whose uploads in tsdx's JSON are
answered by ``api/upload_route.py`` in front of FastAPI, and the same app without that route,
where FastAPI's endpoint answers. Every request is sent to both and the answers compared byte
for byte: status, body, headers (but the date and the correlation id), and the metric counted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import pytest
from aio_pika.abc import AbstractIncomingMessage
from fastapi import FastAPI
from prometheus_client import REGISTRY

from services.gateway import repository as repo
from services.gateway.api import upload_route
from services.gateway.api.upload_route import UploadRoute
from services.gateway.records import UploadRecord
from services.gateway.service import SPEC
from shared.contracts import decode
from shared.contracts.uploads import UploadDecided, UploadRequested
from shared.messaging.topology import ROUTING_WORK
from shared.security import hash_token
from shared.service import Runtime, start_runtime, stop_runtime
from shared.settings import Settings
from tests.support.plain_routes import asgi_client, compared, with_and_without
from tools.bench.documents import order

UPLOADS = "/api/v1/uploads"
KEY, DISABLED_KEY = "key-trade", "key-closed"


def _tenant(tenant: str, key: str, status: str) -> dict[str, Any]:
    return {
        "id": tenant,
        "name": tenant,
        "api_key_hash": hash_token(key),
        "status": status,
        "revision": 1,
        "barcodes": {},
    }


def _decided(request_id: str, decision: dict[str, Any]) -> UploadRecord:
    return UploadRecord(
        id=repo.upload_key("trade", request_id),
        tenant="trade",
        request_id=request_id,
        status=decision["outcome"],
        requested_at="2026-12-06T10:00:00+00:00",
        decision=decision,
        decided_at="2026-12-06T10:00:01+00:00",
    )


ACCEPTED = {
    "outcome": "accepted",
    "deliveries": [{"document_id": "doc-1", "delivery_id": "dl-1", "device_pin": "1234"}],
}
REFUSED = {"outcome": "refused", "code": "process_not_found", "params": {"process": "nope"}}


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[tuple[Runtime, FastAPI, FastAPI]]:
    rt = await start_runtime(
        SPEC, settings.model_copy(update={"upload_wait_seconds": 0.05, "max_lines_per_document": 5})
    )
    try:
        for doc in (_tenant("trade", KEY, "active"), _tenant("closed", DISABLED_KEY, "disabled")):
            await rt.store.run_transaction(partial(repo.keep_tenant, copy=doc))
        for request_id, decision in (("r-accepted", ACCEPTED), ("r-refused", REFUSED)):
            await repo.keep_decision(rt.store, _decided(request_id, decision))
        lean, plain = with_and_without(rt, UploadRoute)
        yield rt, lean, plain
    finally:
        await stop_runtime(SPEC, rt)


def _counts() -> dict[str, float]:
    counted = {}
    for status in ("200", "202", "400", "401", "413", "422"):
        labels = {"service": "gateway", "route": UPLOADS, "method": "POST", "status": status}
        counted[status] = REGISTRY.get_sample_value("tsdx_http_requests_total", labels) or 0.0
    return counted


def _upload(request_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "process": "purchase-receipt",
        "channel": "internet",
        "target": {"kind": "device", "value": "dev-0001"},
        "documents": [order(2, document_id="doc-1")],
        **changes,
    }


def _numbered_twice() -> dict[str, Any]:
    """A document whose second line repeats the first's number."""
    document = order(2, document_id="doc-twice")
    document["lines"][1]["line_no"] = document["lines"][0]["line_no"]
    return document


JSON = {"Content-Type": "application/json"}
AUTH = {**JSON, "Authorization": f"Bearer {KEY}"}
EN = {**AUTH, "Accept-Language": "en"}

# (query, headers, body, answered by the plain route)
CASES: list[tuple[str, dict[str, str], bytes, bool]] = [
    ("", AUTH, json.dumps(_upload("r-accepted")).encode(), True),
    ("", EN, json.dumps(_upload("r-refused")).encode(), True),
    ("", AUTH, json.dumps(_upload("r-refused")).encode(), True),
    ("", EN, json.dumps(_upload("r-pending")).encode(), True),  # nobody decides: 202
    ("", JSON, json.dumps(_upload("r-accepted")).encode(), True),  # no credential
    ("", {**JSON, "Authorization": "Basic abc"}, json.dumps(_upload("r-1")).encode(), True),
    (
        "",
        {**JSON, "Authorization": f"Bearer {DISABLED_KEY}"},
        json.dumps(_upload("r-1")).encode(),
        True,
    ),
    ("", EN, json.dumps(_upload("r-big", documents=[order(6)])).encode(), True),  # 413
    ("", EN, json.dumps(_upload("r-nul", process="a\u0000b")).encode(), True),
    ("", EN, b"{not json", False),
    ("", EN, b"", False),
    ("", EN, b"null", False),
    ("", EN, b"[1, 2]", False),
    ("", EN, b"[" * 5000 + b"]" * 5000, False),  # nested too deeply: 400
    ("", JSON, json.dumps(_upload("r-1", target={"kind": "x"})).encode(), True),  # 401 first
    ("", EN, json.dumps(_upload("r-1", target={"kind": "x"})).encode(), True),
    ("", EN, json.dumps(_upload("r-1", documents=[])).encode(), True),
    ("", AUTH, json.dumps(_upload("r-twice", documents=[_numbered_twice()])).encode(), True),
    ("", JSON, json.dumps({"documents": [{"lines": "x" * 100}]}).encode(), True),  # no key: 401
    ("?format=json", EN, json.dumps(_upload("r-accepted")).encode(), False),
    (
        "",
        {**EN, "Content-Type": "application/json; charset=utf-8"},
        json.dumps(_upload("r-accepted")).encode(),
        False,
    ),
    ("", {**EN, "Content-Type": "text/plain"}, json.dumps(_upload("r-accepted")).encode(), False),
]


@pytest.mark.parametrize(("query", "headers", "body", "plain_route"), CASES)
async def test_each_answer_is_the_fastapi_endpoint_s_own(
    gateway: tuple[Runtime, FastAPI, FastAPI],
    query: str,
    headers: dict[str, str],
    body: bytes,
    plain_route: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, lean, plain = gateway
    # Which of the two ways in answered: the plain route answers the bodies it read as JSON
    # objects (the key checked first, then the fields).
    served: list[bool] = []
    read = upload_route._json_object_of

    def spy(messages: Any) -> Any:
        parsed = read(messages)
        served.append(parsed is not None)
        return parsed

    monkeypatch.setattr(upload_route, "_json_object_of", spy)
    async with asgi_client(lean) as fast, asgi_client(plain) as slow:
        answers = []
        for client in (fast, slow):
            before = _counts()
            answer = await client.post(UPLOADS + query, headers=headers, content=body)
            after = _counts()
            answers.append((compared(answer), {s: after[s] - before[s] for s in after}))
    (lean_answer, lean_counted), (plain_answer, plain_counted) = answers
    assert lean_answer == plain_answer
    assert lean_counted == plain_counted
    assert sum(lean_counted.values()) == 1  # counted under the route's own path, as before
    assert (True in served) == plain_route


async def test_an_upload_nobody_decides_is_stored_pending(
    gateway: tuple[Runtime, FastAPI, FastAPI],
) -> None:
    rt, lean, _ = gateway
    async with asgi_client(lean) as client:
        answer = await client.post(UPLOADS, headers=AUTH, content=json.dumps(_upload("r-new")))
    assert answer.status_code == 202
    assert answer.json()["status_url"] == "http://gw/api/v1/uploads/r-new"
    record = await repo.upload(rt.store, "trade", "r-new")
    assert record is not None and record.pending


async def test_an_upload_is_not_stored_while_it_waits_for_its_decision(
    settings: Settings,
) -> None:
    # Written once: by the transaction that keeps its decision, or as pending when the wait
    # ran out (the test above); never pending first and decided after. The test is routing
    # here: it takes the upload from routing's queue and answers it.
    rt = await start_runtime(SPEC, settings.model_copy(update={"upload_wait_seconds": 30}))
    try:
        await rt.store.run_transaction(
            lambda db: repo.keep_tenant(db, _tenant("trade", KEY, "active"))
        )
        asked: asyncio.Queue[bytes] = asyncio.Queue()

        async def take(message: AbstractIncomingMessage) -> None:
            await message.ack()
            asked.put_nowait(message.body)

        queue = await rt.broker.consume_channel.declare_queue(ROUTING_WORK.name, passive=True)
        await queue.consume(take)
        lean, _ = with_and_without(rt, UploadRoute)
        async with asgi_client(lean) as client:
            body = json.dumps(_upload("r-wait"))
            waiting = asyncio.create_task(client.post(UPLOADS, headers=AUTH, content=body))
            envelope, upload = decode(await asyncio.wait_for(asked.get(), 15))
            assert isinstance(upload, UploadRequested) and upload.request_id == "r-wait"
            assert await repo.upload(rt.store, "trade", "r-wait") is None
            await rt.broker.publish(
                UploadDecided(
                    request_id="r-wait",
                    process=upload.process,
                    channel="internet",
                    target=upload.target,
                    outcome="refused",
                    code="process_not_found",
                    params={"process": upload.process},
                    requested_at=envelope.time,
                ),
                "trade",
            )
            answer = await asyncio.wait_for(waiting, 15)
        assert answer.status_code == 422 and answer.json()["code"] == "process_not_found"
        record = await repo.upload(rt.store, "trade", "r-wait")
        assert record is not None and record.status == "refused"
    finally:
        await stop_runtime(SPEC, rt)


async def test_two_lines_of_one_number_are_refused_at_their_place_and_nothing_is_kept(
    gateway: tuple[Runtime, FastAPI, FastAPI],
) -> None:
    rt, lean, _ = gateway
    body = json.dumps(_upload("r-twice", documents=[_numbered_twice()]))
    async with asgi_client(lean) as client:
        answer = await client.post(UPLOADS, headers=AUTH, content=body)
    assert answer.status_code == 422
    refusal = answer.json()
    assert refusal["code"] == "validation_error"
    assert "body: документ 1: номер строки 1 повторяется (строки 1 и 2)" in (refusal["message"]), (
        refusal
    )
    assert await repo.upload(rt.store, "trade", "r-twice") is None


async def test_a_request_id_decided_before_gets_that_answer_again_said_as_such(
    gateway: tuple[Runtime, FastAPI, FastAPI],
) -> None:
    _, lean, _ = gateway
    async with asgi_client(lean) as client:
        refused = await client.post(UPLOADS, headers=AUTH, content=json.dumps(_upload("r-refused")))
        accepted = await client.post(
            UPLOADS, headers=AUTH, content=json.dumps(_upload("r-accepted"))
        )
    assert refused.status_code == 422
    assert (refused.json()["code"], refused.json()["repeated"]) == ("process_not_found", True)
    # Corrected but sent with the same id: told why the answer did not change.
    assert refused.json()["message"].endswith(
        "Это прежний ответ: выгрузка с этим request_id уже была отклонена. Исправленную "
        "выгрузку отправьте с новым request_id."
    )
    assert (accepted.status_code, accepted.json()["repeated"]) == (200, True)
