"""Steady load through the gateway, as real clients behave: 1C retries an upload with the
same request id until it gets an answer; terminals poll, download, acknowledge and finish.

Every call is retried on a network error, a 5xx or a "still deciding" 202, because that is what
a client of tsdx is told to do; the request and result ids make the repeats safe.

Given several gateway replicas, the load spreads over them as a load balancer would: each call,
and each repeat of a call, goes to the next replica in turn.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

import httpx

from tests.support.documents import by_pin, order, upload
from tests.support.stack import ADMIN_TOKEN
from tools.client import AccountingClient, AdminClient, ApiError, TerminalClient

T = TypeVar("T")
C = TypeVar("C")
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


class Spread(Generic[C]):
    """One client per gateway replica, taken in turn."""

    def __init__(self, clients: Sequence[C]) -> None:
        self.clients = list(clients)
        self._turn = 0

    def next(self) -> C:
        client = self.clients[self._turn % len(self.clients)]
        self._turn += 1
        return client

    def on_next(self, call: Callable[[C], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
        """``call`` made on the next client at each attempt: a retry goes to another replica."""
        return lambda: call(self.next())


@dataclass
class Ledger:
    accepted: dict[str, str] = field(default_factory=dict)  # request id -> document id
    refused: dict[str, str] = field(default_factory=dict)  # request id -> code
    downloads: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    finished: set[str] = field(default_factory=set)  # delivery ids whose final result was taken
    http_retries: Counter[str] = field(default_factory=Counter)
    # When each upload was first sent and when it was answered "accepted" (monotonic clock).
    sent_at: dict[str, float] = field(default_factory=dict)
    accepted_at: dict[str, float] = field(default_factory=dict)

    def first_accepted_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` until the first upload sent after it was accepted."""
        times = [
            self.accepted_at[r] - moment
            for r, sent in self.sent_at.items()
            if sent > moment and r in self.accepted_at
        ]
        return min(times) if times else None


class Load:
    def __init__(self, gateway: str | Sequence[str], devices: int = 4) -> None:
        self.gateways = [gateway] if isinstance(gateway, str) else list(gateway)
        self.gateway = self.gateways[0]
        self.device_count = devices
        self.ledger = Ledger()
        self.terminals: list[TerminalClient] = []
        # Per terminal, its clients of every gateway (the same credential).
        self._terminal_spreads: list[Spread[TerminalClient]] = []
        self.accounting: AccountingClient | None = None
        self._accountings: Spread[AccountingClient] = Spread([])
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._uploaders: list[asyncio.Task[None]] = []
        self._uploads_left: int | None = None

    async def prepare(self) -> None:
        async with AdminClient(self.gateway, ADMIN_TOKEN) as admin:
            tenant = await persist(lambda: admin.create_tenant(f"Нагрузка {uuid.uuid4().hex[:6]}"))
        self._accountings = Spread(
            [AccountingClient(g, tenant["api_key"], timeout=10) for g in self.gateways]
        )
        self.accounting = self._accountings.clients[0]
        for n in range(self.device_count):
            # Devices pair through the gateways in turn; each then calls every one in turn.
            turn = n % len(self.gateways)
            home, *others = self.gateways[turn:] + self.gateways[:turn]
            terminal = TerminalClient(home, timeout=10)
            hardware_id = f"@LOAD-{n}-{uuid.uuid4().hex[:6]}"
            await persist(partial(terminal.pair, tenant["connection_code"], hardware_id))
            self.terminals.append(terminal)
            self._terminal_spreads.append(Spread([terminal, *self._same_device(terminal, others)]))

    @staticmethod
    def _same_device(terminal: TerminalClient, gateways: list[str]) -> list[TerminalClient]:
        """Clients of other gateways with the credential of a paired terminal."""
        clients = [TerminalClient(g, terminal.device["credential"], timeout=10) for g in gateways]
        for client in clients:
            client.device = terminal.device
        return clients

    def start(self, uploaders: int = 2, total: int | None = None) -> None:
        """``uploaders`` uploads in flight at a time; ``total`` uploads at most (None: until
        ``stop_uploads``)."""
        self._uploads_left = total
        self._uploaders = [asyncio.create_task(self._upload_loop()) for _ in range(uploaders)]
        self._tasks.extend(self._uploaders)
        for terminal in self._terminal_spreads:
            self._tasks.append(asyncio.create_task(self._terminal_loop(terminal)))

    async def stop_uploads(self) -> None:
        """Stop uploading; returns once the uploads in hand are answered and in the ledger."""
        self._stop.set()
        await asyncio.gather(*self._uploaders)

    async def uploads_done(self) -> None:
        """Wait until a ``total`` given to ``start`` has been uploaded and answered."""
        await asyncio.gather(*self._uploaders)

    async def close(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for spread in self._terminal_spreads:
            for terminal in spread.clients:
                await terminal.close()
        for accounting in self._accountings.clients:
            await accounting.close()

    async def _persist(self, call: Callable[[], Awaitable[T]]) -> T:
        return await persist(call, retries=self.ledger.http_retries)

    async def _upload_loop(self) -> None:
        assert self.accounting is not None
        n = 0
        while not self._stop.is_set():
            if self._uploads_left is not None:
                if self._uploads_left <= 0:
                    return
                self._uploads_left -= 1
            terminal = self.terminals[n % len(self.terminals)]
            n += 1
            document = order(lines=3)
            body = upload(by_pin(terminal.device["pin"]), document)
            self.ledger.sent_at[body["request_id"]] = time.monotonic()
            answer = await self._decided(body)
            if answer["status"] == "accepted":
                self.ledger.accepted_at[body["request_id"]] = time.monotonic()
                self.ledger.accepted[body["request_id"]] = document["header"]["id"]
            else:
                self.ledger.refused[body["request_id"]] = answer.get("code", "?")
            await asyncio.sleep(0.02)

    async def _decided(self, body: dict[str, Any]) -> dict[str, Any]:
        while True:
            answer = await self._persist(lambda: self._accountings.next().upload(body))
            if answer["status"] != "pending":
                return answer
            self.ledger.http_retries["pending"] += 1
            await asyncio.sleep(0.2)

    async def _terminal_loop(self, terminal: Spread[TerminalClient]) -> None:
        while True:
            try:
                inbox = await terminal.next().inbox(wait=1)
            except (ApiError, *RETRYABLE):
                self.ledger.http_retries["inbox"] += 1
                await asyncio.sleep(0.2)
                continue
            for item in inbox["documents"]:
                delivery = item["delivery_id"]
                if delivery in self.ledger.finished:
                    continue
                self.ledger.downloads[item["document_id"]].add(delivery)
                on_next = terminal.on_next
                document = await self._persist(
                    on_next(partial(TerminalClient.download, delivery_id=delivery))
                )
                await self._persist(
                    on_next(partial(TerminalClient.acknowledge, delivery_id=delivery))
                )
                lines = [
                    {
                        "line_no": line["line_no"],
                        "product_id": line["product_id"],
                        "quantity": line["planned_qty"],
                    }
                    for line in document["document"]["lines"]
                ]
                final = partial(
                    TerminalClient.send_result,
                    delivery_id=delivery,
                    result_id=f"{delivery}:final",
                    lines=lines,
                    final=True,
                )
                await self._persist(on_next(final))
                self.ledger.finished.add(delivery)
