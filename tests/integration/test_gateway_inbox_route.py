"""The inbox poll's plain ASGI route answers exactly as the FastAPI endpoint behind it would.

One gateway runtime (real SQLite store, real RabbitMQ vhost) serves two apps: the gateway's
own, whose inbox poll is answered by ``api/inbox_route.py`` in front of FastAPI, and the same
app without that route, where FastAPI's endpoint answers. Every request is sent to both and
the answers compared byte for byte: status, body, headers (but the date and the correlation
id), then what each did to the metrics.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from services.gateway import repository as repo
from services.gateway.api import inbox_route
from services.gateway.api.inbox_route import InboxRoute
from services.gateway.api.terminal import answer_ack, answer_acks, answer_poll
from services.gateway.parts import gateway_parts
from services.gateway.service import SPEC
from shared.security import hash_token
from shared.service import Runtime, start_runtime, stop_runtime
from shared.settings import Settings
from tests.support.plain_routes import asgi_client, compared, with_and_without
from tests.support.waiting import eventually

INBOX = "/api/v1/terminal/inbox"
ACTIVE, BLOCKED, RETIRED, EMPTY = "cred-active", "cred-blocked", "cred-retired", "cred-empty"


def _device(device_id: str, credential: str, status: str) -> dict[str, Any]:
    return {
        "id": device_id,
        "tenant": "trade",
        "pin": device_id[-4:],
        "name": "EDA50",
        "model": "EDA50",
        "hardware_id": f"@HW-{device_id}",
        "mode": "online",
        "status": status,
        "credential_hash": hash_token(credential),
        "revision": 1,
    }


def _row(n: int, device_id: str, state: str, **more: Any) -> dict[str, Any]:
    return {
        "id": f"dl-{n}",
        "tenant": "trade",
        "device_id": device_id,
        "document_id": f"doc-{n}",
        "version": 1,
        "settings": {"terminal_type": "receipt"},
        "header": {
            "accounting_type": "ПоступлениеТоваров",
            "number": f"№{n}",
            "date": "2026-12-06",
        },
        "lines_count": n,
        "state": state,
        "routed_at": f"2026-12-06T10:00:0{n}+00:00",
        **more,
    }


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[tuple[Runtime, FastAPI, FastAPI]]:
    rt = await start_runtime(SPEC, settings)
    try:
        for device_id, credential, status in [
            ("dev-0001", ACTIVE, "active"),
            ("dev-0002", BLOCKED, "blocked"),
            ("dev-0003", RETIRED, "retired"),
            ("dev-0004", EMPTY, "active"),
        ]:
            await repo.keep_device_now(rt.store, _device(device_id, credential, status))
        refusal = {
            "result_id": "r-1",
            "code": "quantity_over_plan",
            "params": {"line_no": 1, "planned": "2", "fact": "3"},
        }
        async with rt.store.transaction() as db:
            await repo.insert_copies(
                db,
                [
                    _row(1, "dev-0001", "waiting"),
                    _row(2, "dev-0001", "in_progress", last_refusal=refusal),
                    _row(3, "dev-0001", "withdrawn", withdrawn_reason="recalled"),
                    _row(4, "dev-0001", "done"),
                ],
            )
        lean, plain = with_and_without(rt, InboxRoute)
        yield rt, lean, plain
    finally:
        await stop_runtime(SPEC, rt)


async def _waiting(rt: Runtime) -> None:
    async def waiting() -> int:
        return gateway_parts(rt).polls.waiting_devices

    await eventually(waiting, until=lambda n: n == 1, timeout=10)


def _http_count(status: str) -> float:
    value = REGISTRY.get_sample_value(
        "tsdx_http_requests_total",
        {"service": "gateway", "route": INBOX, "method": "GET", "status": status},
    )
    return value or 0.0


def _auth(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


CASES: list[tuple[str, dict[str, str]]] = [
    ("", {}),  # no credential
    ("", {"Authorization": "Basic abc"}),
    ("", {"Authorization": "Bearer "}),
    ("", {"Authorization": f"bearer  {ACTIVE} ", "Accept-Language": "en"}),
    ("", _auth(ACTIVE)),
    ("?wait=0&known=3", {**_auth(ACTIVE), "Accept-Language": "en-US,en;q=0.9"}),
    ("?wait=0&known=2", {**_auth(ACTIVE), "Accept-Language": "ru"}),
    ("?wait=0", _auth(EMPTY)),
    ("?wait=-1", _auth(ACTIVE)),
    ("?wait=61&known=-2", {**_auth(ACTIVE), "Accept-Language": "en"}),
    ("?wait=soon", _auth(ACTIVE)),
    ("?known=1.5&wait=", _auth(ACTIVE)),
    ("?wait=0&wait=abc", _auth(ACTIVE)),  # the last value counts
    ("?wait=-1", {}),  # the credential is checked before the query
    ("", _auth(BLOCKED)),
    ("", {**_auth(RETIRED), "Accept-Language": "en"}),
    ("?extra=1", _auth(EMPTY)),
    ("?wait=%30&known=+2", _auth(ACTIVE)),  # decoded as Starlette decodes it
    ("?known&&wait=0=1&=3&known=2", _auth(ACTIVE)),  # odd pairs, read as Starlette reads them
]


@pytest.mark.parametrize(("query", "headers"), CASES)
async def test_each_answer_is_the_fastapi_endpoint_s_own(
    gateway: tuple[Runtime, FastAPI, FastAPI],
    query: str,
    headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, lean, plain = gateway
    # Which of the two ways in answered: the plain route's calls are counted.
    served: list[int] = []

    async def spy(*args: Any) -> bytes:
        served.append(1)
        return await answer_poll(*args)

    monkeypatch.setattr(inbox_route, "answer_poll", spy)
    async with asgi_client(lean) as fast, asgi_client(plain) as slow:
        answers = []
        for client in (fast, slow):
            before = {s: _http_count(s) for s in ("200", "401", "422")}
            answer = await client.get(INBOX + query, headers=headers)
            counted = {s: _http_count(s) - before[s] for s in before}
            answers.append((compared(answer), counted))
    (lean_answer, lean_counted), (plain_answer, plain_counted) = answers
    assert lean_answer == plain_answer
    assert lean_counted == plain_counted
    assert sum(lean_counted.values()) == 1  # counted under the route's own path, as before
    assert served == [1]  # the gateway's own app answered through the plain route


def _ack(delivery_id: str) -> str:
    return f"/api/v1/terminal/documents/{delivery_id}/ack"


ACK_CASES: list[tuple[str, dict[str, str]]] = [
    ("dl-1", {}),  # no credential
    ("dl-1", {"Authorization": "Basic abc"}),
    ("dl-1", {**_auth(BLOCKED), "Accept-Language": "en"}),
    ("dl-1", _auth(EMPTY)),  # another device's copy answers as one that does not exist
    ("dl-404", {**_auth(ACTIVE), "Accept-Language": "en"}),
    ("dl-2", _auth(ACTIVE)),  # in progress: stays so
]
# Each case changes nothing, so both apps meet the same stored state; an acknowledgement that
# changes a copy is compared below, once applied.


@pytest.mark.parametrize(("delivery_id", "headers"), ACK_CASES)
async def test_each_acknowledgement_is_the_fastapi_endpoint_s_own(
    gateway: tuple[Runtime, FastAPI, FastAPI],
    delivery_id: str,
    headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, lean, plain = gateway
    served: list[int] = []

    async def spy(*args: Any) -> bytes:
        served.append(1)
        return await answer_ack(*args)

    monkeypatch.setattr(inbox_route, "answer_ack", spy)
    async with asgi_client(lean) as fast, asgi_client(plain) as slow:
        ours = await fast.post(_ack(delivery_id), headers=headers)
        theirs = await slow.post(_ack(delivery_id), headers=headers)
    assert compared(ours) == compared(theirs)
    assert served == [1]


async def test_an_acknowledged_document_is_downloaded_and_answers_so_again(
    gateway: tuple[Runtime, FastAPI, FastAPI],
) -> None:
    rt, lean, plain = gateway
    async with asgi_client(lean) as fast, asgi_client(plain) as slow:
        first = await fast.post(_ack("dl-1"), headers=_auth(ACTIVE))
        again = [await c.post(_ack("dl-1"), headers=_auth(ACTIVE)) for c in (fast, slow)]
    assert (first.status_code, first.json()) == (
        200,
        {"delivery_id": "dl-1", "state": "downloaded"},
    )
    assert compared(again[0]) == compared(again[1]) == compared(first)
    copy = await repo.copy(rt.store, "dl-1")
    assert copy is not None and copy.state.value == "downloaded"


async def test_other_methods_and_paths_go_on_to_fastapi(
    gateway: tuple[Runtime, FastAPI, FastAPI],
) -> None:
    _, lean, plain = gateway
    async with asgi_client(lean) as fast, asgi_client(plain) as slow:
        for method, path in [
            ("POST", INBOX),
            ("HEAD", INBOX),
            ("GET", INBOX + "/"),
            ("GET", _ack("dl-1")),
            ("POST", _ack("dl-1") + "/"),
            ("POST", "/api/v1/terminal/documents//ack"),
        ]:
            ours = await fast.request(method, path, headers=_auth(ACTIVE))
            theirs = await slow.request(method, path, headers=_auth(ACTIVE))
            assert compared(ours) == compared(theirs)
            assert ours.status_code in (307, 404, 405)


async def test_a_waiting_poll_is_woken_by_news_of_its_inbox(
    gateway: tuple[Runtime, FastAPI, FastAPI],
) -> None:
    rt, lean, _ = gateway
    async with asgi_client(lean) as client:
        waiting = asyncio.create_task(client.get(f"{INBOX}?wait=60", headers=_auth(EMPTY)))
        await _waiting(rt)
        async with rt.store.transaction() as db:
            await repo.insert_copies(db, [_row(5, "dev-0004", "waiting")])
        gateway_parts(rt).polls.changed("dev-0004")
        answer = await asyncio.wait_for(waiting, 20)
    assert answer.status_code == 200
    assert [d["document_id"] for d in answer.json()["documents"]] == ["doc-5"]


async def test_a_poll_waits_no_longer_than_the_gateway_allows(
    settings: Settings,
) -> None:
    rt = await start_runtime(SPEC, settings.model_copy(update={"long_poll_max_seconds": 0.2}))
    try:
        await repo.keep_device_now(rt.store, _device("dev-0004", EMPTY, "active"))
        async with asgi_client(SPEC.build_app(rt)) as client:
            answer = await asyncio.wait_for(
                client.get(f"{INBOX}?wait=60", headers=_auth(EMPTY)), 20
            )
        assert (answer.status_code, answer.json()) == (200, {"documents": [], "withdrawn": []})
    finally:
        await stop_runtime(SPEC, rt)


async def test_a_waiting_poll_ends_with_the_reason_when_its_device_is_blocked(
    gateway: tuple[Runtime, FastAPI, FastAPI],
) -> None:
    rt, lean, _ = gateway
    async with asgi_client(lean) as client:
        waiting = asyncio.create_task(
            client.get(f"{INBOX}?wait=60", headers={**_auth(EMPTY), "Accept-Language": "en"})
        )
        await _waiting(rt)
        blocked = {**_device("dev-0004", EMPTY, "blocked"), "revision": 2}
        await repo.keep_device_now(rt.store, blocked)
        await gateway_parts(rt).access.device_changed(
            "dev-0004"
        )  # as a block through the API announces
        answer = await asyncio.wait_for(waiting, 20)
    assert answer.status_code == 401
    assert answer.json()["code"] == "device_blocked"
    assert answer.json()["message"] == "Device 0004 is blocked."


ACKS = "/api/v1/terminal/documents/ack"
JSON = {"Content-Type": "application/json"}
# Bodies the batched acknowledgement refuses whole, changing nothing: each answered by the
# plain route exactly as by FastAPI's endpoint (to which the route hands them on).
BAD_BATCHES: list[tuple[bytes, dict[str, str]]] = [
    (b"", {**_auth(ACTIVE), **JSON}),
    (b"{", {**_auth(ACTIVE), **JSON, "Accept-Language": "en"}),
    (b"[]", {**_auth(ACTIVE), **JSON}),
    (b"{}", {**_auth(ACTIVE), **JSON}),
    (b'{"delivery_ids": []}', {**_auth(ACTIVE), **JSON, "Accept-Language": "en"}),
    (b'{"delivery_ids": "dl-1"}', {**_auth(ACTIVE), **JSON}),
    (b'{"delivery_ids": [""]}', {**_auth(ACTIVE), **JSON}),
    (b'{"delivery_ids": [1]}', {**_auth(ACTIVE), **JSON}),
    (b'{"delivery_ids": ["dl-1"], "extra": 1}', {**_auth(ACTIVE), **JSON}),
    (orjson.dumps({"delivery_ids": [f"dl-{n}" for n in range(501)]}), {**_auth(ACTIVE), **JSON}),
    (b'{"delivery_ids": ["dl-1"]}', {**_auth(ACTIVE), "Content-Type": "text/plain"}),
    (b'{"delivery_ids": ["dl-1"]}', _auth(ACTIVE)),  # no content type: FastAPI reads it
    (b'{"delivery_ids": []}', JSON),  # no credential and a bad body
]
# Valid bodies that change nothing (no credential, another device, copies acknowledged).
GOOD_BATCHES: list[tuple[bytes, dict[str, str]]] = [
    (b'{"delivery_ids": ["dl-1"]}', JSON),
    (b'{"delivery_ids": ["dl-1"]}', {**_auth(BLOCKED), **JSON, "Accept-Language": "en"}),
    (b'{"delivery_ids": ["dl-1", "dl-2"]}', {**_auth(EMPTY), **JSON}),
    (
        b'{"delivery_ids": ["dl-2", "dl-404", "dl-4", "dl-2"]}',
        {**_auth(ACTIVE), "Content-Type": "application/json; charset=utf-8"},
    ),
    (b'{"delivery_ids": ["dl-404"]}', {**_auth(ACTIVE), **JSON, "Accept-Language": "en"}),
]


@pytest.mark.parametrize(("body", "headers"), BAD_BATCHES + GOOD_BATCHES)
async def test_each_batched_acknowledgement_is_the_fastapi_endpoint_s_own(
    gateway: tuple[Runtime, FastAPI, FastAPI],
    body: bytes,
    headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rt, lean, plain = gateway
    served: list[int] = []

    async def spy(*args: Any) -> bytes:
        served.append(1)
        return await answer_acks(*args)

    monkeypatch.setattr(inbox_route, "answer_acks", spy)
    async with asgi_client(lean) as fast, asgi_client(plain) as slow:
        ours = await fast.post(ACKS, content=body, headers=headers)
        theirs = await slow.post(ACKS, content=body, headers=headers)
    assert compared(ours) == compared(theirs)
    assert served == ([] if (body, headers) in BAD_BATCHES else [1])
    if (body, headers) in BAD_BATCHES:
        assert ours.status_code in (401, 422), ours.text
    copy = await repo.copy(rt.store, "dl-1")
    assert copy is not None and copy.state.terminal_word == "waiting"  # nothing changed


async def test_a_batch_acknowledges_the_device_s_copies_and_answers_each(
    gateway: tuple[Runtime, FastAPI, FastAPI],
) -> None:
    rt, lean, plain = gateway
    async with rt.store.transaction() as db:
        await repo.insert_copies(
            db, [_row(6, "dev-0001", "waiting"), _row(7, "dev-0004", "waiting")]
        )
    body = {"delivery_ids": ["dl-1", "dl-7", "dl-3", "dl-6", "dl-1", "dl-2"]}
    headers = {**_auth(ACTIVE), "Accept-Language": "en"}
    async with asgi_client(lean) as fast, asgi_client(plain) as slow:
        first = await fast.post(ACKS, json=body, headers=headers)
        again = [await c.post(ACKS, json=body, headers=headers) for c in (fast, slow)]
    assert first.status_code == 200
    assert first.json() == {
        "answers": [
            {"delivery_id": "dl-1", "state": "downloaded"},
            {  # another device's copy: as one that does not exist, the others still taken
                "delivery_id": "dl-7",
                "code": "not_found",
                "message": "Not found.",
            },
            {"delivery_id": "dl-3", "state": "withdrawal_seen"},
            {"delivery_id": "dl-6", "state": "downloaded"},
            {"delivery_id": "dl-2", "state": "in_progress"},
        ]
    }
    assert compared(again[0]) == compared(again[1]) == compared(first)
    async with asgi_client(lean) as fast:  # a refusal's message in the caller's language
        russian = await fast.post(ACKS, json={"delivery_ids": ["dl-7"]}, headers=_auth(ACTIVE))
    assert russian.json()["answers"] == [
        {"delivery_id": "dl-7", "code": "not_found", "message": "Не найдено."}
    ]
    states = [await repo.copy(rt.store, i) for i in ("dl-1", "dl-3", "dl-6", "dl-7")]
    assert [c.state.terminal_word for c in states if c is not None] == [
        "downloaded",
        "withdrawal_seen",
        "downloaded",
        "waiting",
    ]


async def test_seeing_a_withdrawal_forgets_the_device_s_held_answer(
    gateway: tuple[Runtime, FastAPI, FastAPI],
) -> None:
    rt, lean, _ = gateway
    summaries = gateway_parts(rt).polls.summaries
    async with asgi_client(lean) as client:
        first = await client.get(f"{INBOX}?wait=0", headers=_auth(ACTIVE))
        assert summaries.get("dev-0001") is not None  # held, with the withdrawal in it
        seen = await client.post(_ack("dl-3"), headers=_auth(ACTIVE))
        assert summaries.get("dev-0001") is None
        again = await client.get(f"{INBOX}?wait=0", headers=_auth(ACTIVE))
    assert seen.json() == {"delivery_id": "dl-3", "state": "withdrawal_seen"}
    assert [w["delivery_id"] for w in first.json()["withdrawn"]] == ["dl-3"]
    assert again.json()["withdrawn"] == []
