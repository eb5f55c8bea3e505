"""Steady load through the gateway, as real clients behave: 1C retries an upload with the
same request id until it gets an answer; terminals poll, download, acknowledge and finish.

Every call is retried on a network error, a 5xx or a "still deciding" 202, because that is what
a client of tsdx is told to do; the request and result ids make the repeats safe.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from shared.client import AccountingClient, AdminClient, ApiError, TerminalClient
from tests.support.documents import by_pin, order, upload
from tests.support.stack import ADMIN_TOKEN

T = TypeVar("T")
RETRYABLE = (httpx.HTTPError, OSError)


async def persist(
    call: Callable[[], Awaitable[T]],
    *,
    deadline: float = 120.0,
    retries: Counter[str] | None = None,
) -> T:
    """Call until it gives an answer that is not a temporary failure (counted in ``retries``)."""
    end = time.monotonic() + deadline
    delay = 0.05
    while True:
        try:
            return await call()
        except ApiError as exc:
            if exc.status < 500 and exc.status != 429:
                raise
        except RETRYABLE:
            pass
        if retries is not None:
            retries["http"] += 1
        if time.monotonic() > end:
            raise TimeoutError("no answer before the deadline")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


@dataclass
class Ledger:
    accepted: dict[str, str] = field(default_factory=dict)  # request id -> document id
    refused: dict[str, str] = field(default_factory=dict)  # request id -> code
    downloads: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    finished: set[str] = field(default_factory=set)  # delivery ids whose final result was taken
    http_retries: Counter[str] = field(default_factory=Counter)


class Load:
    def __init__(self, gateway: str, devices: int = 4) -> None:
        self.gateway = gateway
        self.device_count = devices
        self.ledger = Ledger()
        self.terminals: list[TerminalClient] = []
        self.accounting: AccountingClient | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def prepare(self) -> None:
        async with AdminClient(self.gateway, ADMIN_TOKEN) as admin:
            tenant = await persist(lambda: admin.create_tenant(f"Нагрузка {uuid.uuid4().hex[:6]}"))
        self.accounting = AccountingClient(self.gateway, tenant["api_key"], timeout=10)
        for n in range(self.device_count):
            terminal = TerminalClient(self.gateway, timeout=10)
            hardware_id = f"@LOAD-{n}-{uuid.uuid4().hex[:6]}"
            await persist(lambda t=terminal, h=hardware_id: t.pair(tenant["connection_code"], h))
            self.terminals.append(terminal)

    def start(self, uploaders: int = 2) -> None:
        for _ in range(uploaders):
            self._tasks.append(asyncio.create_task(self._upload_loop()))
        for terminal in self.terminals:
            self._tasks.append(asyncio.create_task(self._terminal_loop(terminal)))

    async def stop_uploads(self) -> None:
        self._stop.set()

    async def close(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for terminal in self.terminals:
            await terminal.close()
        if self.accounting is not None:
            await self.accounting.close()

    async def _persist(self, call: Callable[[], Awaitable[T]]) -> T:
        return await persist(call, retries=self.ledger.http_retries)

    async def _upload_loop(self) -> None:
        assert self.accounting is not None
        n = 0
        while not self._stop.is_set():
            terminal = self.terminals[n % len(self.terminals)]
            n += 1
            document = order(lines=3)
            body = upload(by_pin(terminal.device["pin"]), document)
            answer = await self._decided(body)
            if answer["status"] == "accepted":
                self.ledger.accepted[body["request_id"]] = document["header"]["id"]
            else:
                self.ledger.refused[body["request_id"]] = answer.get("code", "?")
            await asyncio.sleep(0.02)

    async def _decided(self, body: dict[str, Any]) -> dict[str, Any]:
        assert self.accounting is not None
        while True:
            answer = await self._persist(lambda: self.accounting.upload(body))  # type: ignore[union-attr]
            if answer["status"] != "pending":
                return answer
            self.ledger.http_retries["pending"] += 1
            await asyncio.sleep(0.2)

    async def _terminal_loop(self, terminal: TerminalClient) -> None:
        while True:
            try:
                inbox = await terminal.inbox(wait=1)
            except (ApiError, *RETRYABLE):
                self.ledger.http_retries["inbox"] += 1
                await asyncio.sleep(0.2)
                continue
            for item in inbox["documents"]:
                delivery = item["delivery_id"]
                if delivery in self.ledger.finished:
                    continue
                self.ledger.downloads[item["document_id"]].add(delivery)
                document = await self._persist(lambda d=delivery: terminal.download(d))
                await self._persist(lambda d=delivery: terminal.acknowledge(d))
                lines = [
                    {
                        "line_no": line["line_no"],
                        "product_id": line["product_id"],
                        "quantity": line["planned_qty"],
                    }
                    for line in document["document"]["lines"]
                ]
                await self._persist(
                    lambda d=delivery, ls=lines: terminal.send_result(
                        d, f"{d}:final", ls, final=True
                    )
                )
                self.ledger.finished.add(delivery)
