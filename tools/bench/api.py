"""The gateway calls the bench makes, over the light wire client: the same public API that
1C and the terminals use, with the answers checked."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from tools.bench.wire import Connection, Pool


class BenchError(Exception):
    """The stack did not behave as the measurement needs (a refusal, a timeout, a crash)."""


@dataclass
class Terminal:
    device_id: str
    credential: str
    # How many documents its inbox lists now (all acknowledged): the long poll's ``known``.
    known: int = 0


def expect(status: int, answer: Any, *allowed: int) -> Any:
    if status not in allowed:
        raise BenchError(f"HTTP {status}: {str(answer)[:300]}")
    return answer


async def create_tenant(pool: Pool, admin_token: str, name: str) -> dict[str, Any]:
    async with pool.connection() as conn:
        status, answer = await conn.call(
            "POST", "/api/v1/admin/tenants", admin_token, {"name": name}
        )
    result: dict[str, Any] = expect(status, answer, 200, 201)
    return result


async def pair(conn: Connection, connection_code: str, hardware_id: str) -> Terminal:
    status, answer = await conn.call(
        "POST",
        "/api/v1/terminal/pair",
        payload={"connection_code": connection_code, "hardware_id": hardware_id, "model": "EDA50"},
    )
    expect(status, answer, 200)
    return Terminal(answer["device_id"], answer["credential"])


async def pair_many(
    pool: Pool, connection_code: str, count: int, prefix: str, concurrency: int = 16
) -> list[Terminal]:
    """Pair ``count`` terminals through the public pairing call, several at a time."""
    names = iter(range(count))
    paired: list[Terminal] = []

    async def worker() -> None:
        async with pool.connection() as conn:
            for n in names:
                paired.append(await pair(conn, connection_code, f"@{prefix}-{n:05d}"))

    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    return paired


async def upload(conn: Connection, api_key: str, body: dict[str, Any]) -> dict[str, Any]:
    """Upload; 200 (routed) and 202 (routing still deciding) both go on to the inbox."""
    status, answer = await conn.call("POST", "/api/v1/uploads", api_key, body)
    result: dict[str, Any] = expect(status, answer, 200, 202)
    if result.get("status") == "refused":
        raise BenchError(f"upload refused: {result.get('code')}")
    return result


async def wait_in_inbox(
    conn: Connection, terminal: Terminal, document_id: str, timeout: float, wait: float = 10
) -> dict[str, Any]:
    """Long-poll the terminal's inbox until the document is listed; its summary."""
    [(item, _)] = (await wait_all_in_inbox(conn, terminal, [document_id], timeout, wait)).values()
    return item


async def wait_all_in_inbox(
    conn: Connection,
    terminal: Terminal,
    document_ids: list[str],
    timeout: float,
    wait: float = 10,
) -> dict[str, tuple[dict[str, Any], float]]:
    """Long-poll the terminal's inbox until every document is listed: by document id, its
    summary and when it was first seen (``time.perf_counter``)."""
    deadline = time.monotonic() + timeout
    wanted = set(document_ids)
    found: dict[str, tuple[dict[str, Any], float]] = {}
    while True:
        status, answer = await conn.call(
            "GET",
            f"/api/v1/terminal/inbox?wait={wait:g}&known={terminal.known}",
            terminal.credential,
        )
        seen = time.perf_counter()
        expect(status, answer, 200)
        terminal.known = len(answer["documents"])
        for item in answer["documents"]:
            if item["document_id"] in wanted and item["document_id"] not in found:
                found[item["document_id"]] = (item, seen)
        if len(found) == len(wanted):
            return found
        if time.monotonic() > deadline:
            missing = len(wanted) - len(found)
            raise BenchError(f"{missing} documents not in the inbox after {timeout}s")


async def acknowledge(conn: Connection, terminal: Terminal, delivery_id: str) -> None:
    status, answer = await conn.call(
        "POST", f"/api/v1/terminal/documents/{delivery_id}/ack", terminal.credential
    )
    expect(status, answer, 200)


async def acknowledge_all(conn: Connection, terminal: Terminal, delivery_ids: list[str]) -> None:
    """Acknowledge what a poll found as the terminal app does: one by its own call, several in
    one call (``POST /api/v1/terminal/documents/ack``); every one must be taken."""
    if len(delivery_ids) == 1:
        await acknowledge(conn, terminal, delivery_ids[0])
        return
    status, answer = await conn.call(
        "POST",
        "/api/v1/terminal/documents/ack",
        terminal.credential,
        {"delivery_ids": delivery_ids},
    )
    refused = [a for a in expect(status, answer, 200)["answers"] if "state" not in a]
    if refused:
        raise BenchError(f"{len(refused)} acknowledgements refused: {refused[0].get('code')}")
