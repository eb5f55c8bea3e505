"""What routing's handlers cost per document: the SQL statements they run and their CPU.

``python -m tools.bench.routing_cost [--uploads N] [--batches N]``

Routing's real handlers (upload decisions, the download a terminal reports) on a SQLite
store of routing's own in a temporary directory, the device in routing's copy of the
directory, as ``tsdx bench`` drives them: single-document uploads to a device through the
gateway (``answer_with_copies``) and their downloads (``delivery.progressed``), then
50-document uploads and their downloads in one message (``deliveries.progressed``). No
broker: the events stay in the outbox, so the figures are routing's decisions alone. Its
log goes to stdout as the service's does (JSON lines); the figures go to stderr.

First the statements of one of each, by kind and collection (an ``executemany`` is one
statement of several rows); then the CPU per document over many, best of three.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, cast

from services.routing import directory_client
from services.routing import repository as repo
from services.routing.processes import default_processes
from services.routing.results import ResultKeeper
from services.routing.upload_decisions import UploadDecider
from shared.contracts import wrap
from shared.contracts.results import DeliveriesProgressed, DeliveryProgressed, ProgressedCopy
from shared.contracts.uploads import UploadRequested
from shared.logging import configure_logging
from shared.messaging.rpc import RpcClient
from shared.outbox import COLLECTIONS as OUTBOX_COLLECTIONS
from shared.outbox import UnitOfWork
from shared.settings import Settings
from shared.storage import Store, open_store
from shared.storage import sqlite as sqlite_store
from tools.bench.documents import order, upload_to_device

TENANT = "bench"
DEVICE = repo.ReplicaDevice(
    id="device-1",
    tenant=TENANT,
    pin="1234",
    name="bench",
    model="bench",
    hardware_id="hw-1",
    mode="online",
    status="active",
    revision=1,
)
BATCH = 50
REPEATS = 3


class Routing:
    """Routing's handlers on one store, as its service wires them (no broker)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        uow = UnitOfWork(store, None)
        # The registry is never asked: the device is in routing's copy of the directory.
        fetch = partial(directory_client.fetch, store, cast(RpcClient, None))
        self.uploads = UploadDecider(store, uow, fetch, max_documents=100, max_lines=10_000)
        self.results = ResultKeeper(uow)

    async def upload(self, documents: int) -> UploadRequested:
        """One upload of ``documents`` documents to the device, as the gateway sends it."""
        body = upload_to_device(DEVICE.id, *(order(2) for _ in range(documents)))
        request = UploadRequested.model_validate({**body, "answer_with_copies": True})
        await self.uploads.handle(wrap(request, TENANT), request)
        return request

    async def copies(self, request: UploadRequested) -> list[str]:
        """The ids of the copies the upload made (one read per document)."""
        return [
            copy.id
            for document in request.documents
            for copy in await repo.copies_of(
                self._store, repo.document_key(TENANT, document.header.id)
            )
        ]

    async def downloaded(self, delivery_ids: Sequence[str]) -> None:
        """The terminal's download of the copies, as the gateway reports it."""
        delivered_at = datetime.now(UTC)
        if len(delivery_ids) == 1:
            single = DeliveryProgressed(
                delivery_id=delivery_ids[0],
                channel="internet",
                state="downloaded",
                by=DEVICE.id,
                delivered_at=delivered_at,
            )
            await self.results.progressed(wrap(single, TENANT), single)
            return
        together = DeliveriesProgressed(
            channel="internet",
            by=DEVICE.id,
            copies=[
                ProgressedCopy(delivery_id=d, state="downloaded", delivered_at=delivered_at)
                for d in delivery_ids
            ],
        )
        await self.results.progressed_together(wrap(together, TENANT), together)


@asynccontextmanager
async def routing_store(directory: Path) -> AsyncIterator[Store]:
    store = await open_store(
        Settings(data_dir=directory), "routing", [*OUTBOX_COLLECTIONS, *repo.COLLECTIONS]
    )
    try:
        for process in default_processes():
            await repo.save_process(store, repo.ALL_TENANTS, process, "shipped")
        await repo.keep_device(store, DEVICE)
        await repo.mark_snapshot_applied(store)
        yield store
    finally:
        await store.close()


_TABLE = re.compile(r'"c_(\w+)"')


def _kind(sql: str) -> str:
    words = sql.split(None, 1)
    verb = words[0].upper() if words else "?"
    if verb == "INSERT" and "ON CONFLICT" in sql:
        verb = "PUT"
    table = _TABLE.search(sql)
    return f"{verb} {table.group(1)}" if table else verb


@asynccontextmanager
async def counted() -> AsyncIterator[Counter[str]]:
    """Every statement the store runs meanwhile, by kind (``executemany``: ``+rows``)."""
    seen: Counter[str] = Counter()
    connection = sqlite_store._Connection
    execute, executemany = connection.execute, connection.executemany

    async def counting_execute(self: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        seen[_kind(sql)] += 1
        return await execute(self, sql, params)

    async def counting_executemany(self: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        seen[f"{_kind(sql)} ({len(rows)} rows)"] += 1
        await executemany(self, sql, rows)

    connection.execute = counting_execute  # type: ignore[method-assign]
    connection.executemany = counting_executemany  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        connection.execute = execute  # type: ignore[method-assign]
        connection.executemany = executemany  # type: ignore[method-assign]


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def _print_counts(title: str, seen: Counter[str]) -> None:
    _say(f"{title}: {sum(seen.values())} statements")
    for kind, n in sorted(seen.items()):
        _say(f"  {n:4d}  {kind}")


async def statements(directory: Path) -> None:
    async with routing_store(directory) as store:
        routing = Routing(store)
        # Warm: the process parsed once.
        await routing.downloaded(await routing.copies(await routing.upload(1)))
        for documents in (1, BATCH):
            async with counted() as seen:
                request = await routing.upload(documents)
            _print_counts(f"upload of {documents} document(s)", seen)
            copies = await routing.copies(request)
            async with counted() as seen:
                await routing.downloaded(copies)
            _print_counts(f"download of {documents} copies", seen)


async def cpu(directory: Path, uploads: int, batches: int) -> None:
    async with routing_store(directory) as store:
        routing = Routing(store)
        await routing.downloaded(await routing.copies(await routing.upload(1)))
        for documents, count in ((1, uploads), (BATCH, batches)):
            best = float("inf")
            for _ in range(REPEATS):
                started = time.process_time()
                for _ in range(count):
                    request = await routing.upload(documents)
                    await routing.downloaded(await routing.copies(request))
                best = min(best, time.process_time() - started)
            per_document = 1000 * best / (documents * count)
            _say(
                f"CPU per document, {documents}-document uploads and their downloads "
                f"(best of {REPEATS} x {count}): {per_document:.3f} ms"
            )


async def main(uploads: int, batches: int) -> None:
    configure_logging("routing", fmt="json")
    with tempfile.TemporaryDirectory(prefix="routing-cost-") as directory:
        await statements(Path(directory) / uuid.uuid4().hex)
        await cpu(Path(directory) / uuid.uuid4().hex, uploads, batches)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--batches", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.uploads, args.batches))
