"""One large document through the whole exchange: uploaded, listed in the inbox, downloaded;
then its final result sent back until the accounting side sees it completed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from tools.bench.api import BenchError, Terminal, acknowledge, expect, upload, wait_in_inbox
from tools.bench.documents import facts_as_planned, order, upload_to_device
from tools.bench.wire import Pool

TIMEOUT = 60.0
# How often the accounting side asks for completed documents while it waits.
RESULTS_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class BigDocumentTimes:
    upload_to_download: float
    result_to_completed: float


async def big_document(
    pool: Pool,
    api_key: str,
    terminal: Terminal,
    lines: int,
    *,
    downloaded_then: Callable[[], None] | None = None,
) -> BigDocumentTimes:
    """``downloaded_then`` is called between the two halves (to measure each apart)."""
    document = order(lines, number="БЕН-БОЛЬШОЙ")
    document_id = document["header"]["id"]
    body = upload_to_device(terminal.device_id, document)
    async with pool.connection() as conn:
        started = time.perf_counter()
        await upload(conn, api_key, body)
        item = await wait_in_inbox(conn, terminal, document_id, timeout=TIMEOUT)
        status, copy = await conn.call(
            "GET", f"/api/v1/terminal/documents/{item['delivery_id']}", terminal.credential
        )
        expect(status, copy, 200)
        downloaded = time.perf_counter()
        if len(copy["document"]["lines"]) != lines:
            raise BenchError(f"downloaded {len(copy['document']['lines'])} lines of {lines}")
        await acknowledge(conn, terminal, item["delivery_id"])
        if downloaded_then is not None:
            downloaded_then()

        facts = facts_as_planned(document)
        sent = time.perf_counter()
        status, answer = await conn.call(
            "POST",
            f"/api/v1/terminal/documents/{item['delivery_id']}/results",
            terminal.credential,
            {"result_id": "bench-final", "final": True, "lines": facts},
        )
        expect(status, answer, 200)
        deadline = sent + TIMEOUT
        while True:
            status, listed = await conn.call("GET", "/api/v1/results", api_key)
            expect(status, listed, 200)
            if any(r["document_id"] == document_id for r in listed["results"]):
                break
            if time.perf_counter() > deadline:
                raise BenchError(f"the result was not completed in {TIMEOUT}s")
            await asyncio.sleep(RESULTS_POLL_SECONDS)
        completed = time.perf_counter()
    return BigDocumentTimes(downloaded - started, completed - sent)
