"""The catalog's figures: a shop's catalog uploaded as 1C would (calls of 5,000 items), a full
sync to one terminal, a delta sync after 100 changes; each beside the same bytes through the
bare endpoint (``shared.bench.bare_app``: it takes a body and answers, or serves stored
bytes, and does nothing else).

One HTTP/1.1 keep-alive connection per measurement, from httpx, for tsdx and the ceiling
alike; the terminal asks for gzip as a browser does.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from shared.bench.api import BenchError

UPLOAD_CALL_ITEMS = 5000
PAGE_ITEMS = 5000
DELTA_REPEATS = 21
GZIP = {"Accept-Encoding": "gzip"}


def products(count: int, *, renamed: int = 0) -> list[dict[str, Any]]:
    """``count`` products, 1.5 barcodes each on average: every other one has a box of 12."""
    out = []
    for n in range(1, count + 1):
        barcodes: list[dict[str, Any]] = [{"barcode": f"46{n:011d}"}]
        if n % 2 == 0:
            barcodes.append({"barcode": f"146{n:011d}", "factor": 12})
        name = f"Товар {n}, упаковка {n % 50 + 1} шт" + (" (новое)" if n <= renamed else "")
        out.append(
            {
                "id": f"p-{n:06d}",
                "name": name,
                "article": f"A-{n}",
                "unit": "шт",
                "barcodes": barcodes,
            }
        )
    return out


def bodies(items: list[dict[str, Any]]) -> list[bytes]:
    """The upload calls' bodies, as ``tsdx catalog upload`` cuts them."""
    return [
        orjson.dumps({"products": items[i : i + UPLOAD_CALL_ITEMS]})
        for i in range(0, len(items), UPLOAD_CALL_ITEMS)
    ]


@dataclass
class SyncRun:
    seconds: float = 0.0
    wire_bytes: int = 0  # as sent: compressed
    pages: list[bytes] = field(default_factory=list)
    version: int = 0
    items: int = 0


async def upload(client: httpx.AsyncClient, api_key: str, calls: list[bytes]) -> float:
    """Seconds from the first call to the last answer."""
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    started = time.perf_counter()
    for body in calls:
        response = await client.post("/api/v1/catalog", content=body, headers=headers)
        if response.status_code != 200:
            raise BenchError(f"catalog upload: HTTP {response.status_code} {response.text[:300]}")
    return time.perf_counter() - started


async def sink(client: httpx.AsyncClient, calls: list[bytes]) -> float:
    """The same bodies to the bare endpoint."""
    started = time.perf_counter()
    for body in calls:
        (await client.post("/sink", content=body)).raise_for_status()
    return time.perf_counter() - started


async def wait_head(
    client: httpx.AsyncClient, credential: str, version: int, timeout: float = 120
) -> float:
    """Seconds until the gateway's copy serves ``version``."""
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {credential}"}
    while True:
        response = await client.get("/api/v1/terminal/catalog?since=0&limit=1", headers=headers)
        if response.status_code == 200 and response.json()["head"] >= version:
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            raise BenchError(f"the gateway's catalog did not reach version {version}")
        await asyncio.sleep(0.05)


async def sync(client: httpx.AsyncClient, credential: str, since: int = 0) -> SyncRun:
    """Every page from ``since``, as a terminal takes them; raw bytes kept for the ceiling."""
    run = SyncRun()
    headers = {"Authorization": f"Bearer {credential}", **GZIP}
    started = time.perf_counter()
    while True:
        path = f"/api/v1/terminal/catalog?since={since}&limit={PAGE_ITEMS}"
        async with client.stream("GET", path, headers=headers) as response:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
            if response.status_code != 200:
                raise BenchError(f"catalog sync: HTTP {response.status_code}")
            encoding = response.headers.get("content-encoding")
        body = orjson.loads(_decoded(raw, encoding))
        run.pages.append(raw)
        run.wire_bytes += len(raw)
        run.items += len(body["products"]) + len(body["deleted"])
        since = body["version"]
        if not body["more"]:
            break
    run.seconds = time.perf_counter() - started
    run.version = since
    return run


async def replay(client: httpx.AsyncClient, count: int) -> float:
    """The bare endpoint serving ``count`` stored pages, as the sync took them."""
    started = time.perf_counter()
    for n in range(count):
        async with client.stream("GET", f"/pages/{n}", headers=GZIP) as response:
            b"".join([chunk async for chunk in response.aiter_raw()])
            response.raise_for_status()
    return time.perf_counter() - started


async def median_of(repeats: int, one: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await one()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def write_pages(directory: Path, pages: list[bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for n, page in enumerate(pages):
        (directory / f"{n}.json.gz").write_bytes(page)


def _decoded(raw: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        import gzip

        return gzip.decompress(raw)
    return raw
