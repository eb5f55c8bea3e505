"""What the broker holds: queue depths from RabbitMQ's management API, parked messages over AMQP.

The management API's figures are sampled by RabbitMQ (every few seconds), which is fine for
depths. Parked messages are read over AMQP instead, so a message parked a moment ago shows at
once and a replay acts on exactly what the operator saw.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx

from shared.logging import get_logger
from shared.messaging.addresses import without_password
from shared.messaging.broker import Broker
from shared.messaging.parking import ParkedMessage, discard, list_parked, replay
from shared.messaging.topology import WORK_QUEUES, WorkQueue

log = get_logger("tsdx.dashboard")

_COLUMNS = "name,type,messages,messages_ready,messages_unacknowledged,consumers"
_TYPE_IN_BODY = re.compile(rb'"type"\s*:\s*"([^"]{1,100})"')


class ManagementUnavailable(Exception):
    """The management API did not answer, or answered with an error; the text says which."""


def vhost_of(amqp_url: str) -> str:
    """The virtual host an AMQP URL names (its path, percent-decoded); ``/`` when none."""
    path = urlsplit(amqp_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``http://user:pass@host/api`` → (``http://host/api``, (user, pass))."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    bare = urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
    if parts.username is None:
        return bare, None
    return bare, (unquote(parts.username), unquote(parts.password or ""))


@dataclass(frozen=True)
class QueueDepth:
    """One work queue with its retry and parking queues folded in."""

    name: str
    type: str
    ready: int
    unacked: int
    consumers: int
    retrying: int
    parked: int


def work_queue_depths(
    rows: list[dict[str, Any]], queues: tuple[WorkQueue, ...]
) -> list[QueueDepth]:
    by_name = {str(row.get("name")): row for row in rows}

    def count(row: dict[str, Any] | None, key: str) -> int:
        value = (row or {}).get(key)
        return value if isinstance(value, int) else 0

    result = []
    for queue in queues:
        main = by_name.get(queue.name)
        retry_prefix = f"{queue.name}.retry."
        result.append(
            QueueDepth(
                name=queue.name,
                type=str((main or {}).get("type", "")),
                ready=count(main, "messages_ready"),
                unacked=count(main, "messages_unacknowledged"),
                consumers=count(main, "consumers"),
                retrying=sum(
                    count(row, "messages")
                    for n, row in by_name.items()
                    if n.startswith(retry_prefix)
                ),
                parked=count(by_name.get(queue.parked), "messages"),
            )
        )
    return result


# A node whose API did not answer at all is passed over for this long (unless every node is):
# the page asks every 2 s, and a node that drops connections silently costs a timeout each.
SKIP_SILENT_NODE_SECONDS = 30.0
# Connecting is quick on a live node; a whole answer may take longer on a busy one.
_TIMEOUT = httpx.Timeout(3.0, connect=1.0)


class ManagementApi:
    """RabbitMQ's management API, on every node given: the one that answered last is asked
    first, the others in turn when it does not answer (a node of a cluster lost)."""

    def __init__(
        self,
        api_urls: tuple[str, ...],
        vhost: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not api_urls:
            raise ValueError("no management API address")
        self._nodes = [split_credentials(url) for url in api_urls]
        self._shown = [without_password(url) for url in api_urls]
        self._first = 0  # the one that answered last
        self._silent_until = [0.0] * len(api_urls)
        self._clock = clock
        self._vhost = vhost
        self._http = httpx.AsyncClient(timeout=_TIMEOUT, transport=transport)

    async def queue_depths(self) -> list[QueueDepth]:
        rows = await self._get(f"/queues/{quote(self._vhost, safe='')}")
        return work_queue_depths(rows, WORK_QUEUES)

    def _order(self) -> list[int]:
        """The nodes to ask: from the last that answered, those lately silent at the end."""
        turn = [(self._first + n) % len(self._nodes) for n in range(len(self._nodes))]
        now = self._clock()
        return [at for at in turn if self._silent_until[at] <= now] + [
            at for at in turn if self._silent_until[at] > now
        ]

    async def _get(self, path: str) -> list[dict[str, Any]]:
        failures: list[str] = []
        for at in self._order():
            base, auth = self._nodes[at]
            try:
                response = await self._http.get(
                    base + path, params={"columns": _COLUMNS}, auth=auth
                )
            except httpx.HTTPError as exc:
                self._silent_until[at] = self._clock() + SKIP_SILENT_NODE_SECONDS
                failures.append(
                    f"{self._shown[at]}: {type(exc).__name__}: {str(exc) or 'no answer'}"
                )
                continue
            rows = _rows(response)
            if isinstance(rows, str):
                failures.append(f"{self._shown[at]}: {rows} for {path}")
                continue
            self._silent_until[at] = 0.0
            if failures:
                log.warning("management.node_skipped", answered=self._shown[at], failed=failures)
            self._first = at
            return rows
        raise ManagementUnavailable("; ".join(failures))

    async def close(self) -> None:
        await self._http.aclose()


def _rows(response: httpx.Response) -> list[dict[str, Any]] | str:
    """The answer's rows, or what is wrong with it."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    try:
        rows = response.json()
    except ValueError:
        return "an answer that is not JSON"
    return rows if isinstance(rows, list) else "an unexpected answer"


@dataclass(frozen=True)
class Parked:
    message: ParkedMessage
    type: str  # the message type, when its envelope could be read


def _message_type(message: ParkedMessage) -> str:
    found = _TYPE_IN_BODY.search(message.body_preview.encode())
    return found.group(1).decode() if found else ""


class ParkedMessages:
    """Parked messages of every work queue. Listing takes messages out for a moment and puts
    them back, so listing and replaying run one at a time."""

    def __init__(self, broker: Broker, per_queue: int = 50) -> None:
        self._broker = broker
        self._per_queue = per_queue
        self._lock = asyncio.Lock()

    async def _counts(self) -> dict[str, int]:
        async with self._broker.own_channel() as channel:
            counts = {}
            for queue in WORK_QUEUES:
                declared = await channel.declare_queue(queue.parked, passive=True)
                result = declared.declaration_result
                counts[queue.name] = int(result.message_count or 0)
            return counts

    async def list(self) -> list[Parked]:
        async with self._lock:
            counts = await self._counts()
            found: list[Parked] = []
            for queue in WORK_QUEUES:
                if counts[queue.name]:
                    for message in await list_parked(self._broker, queue, self._per_queue):
                        found.append(Parked(message, _message_type(message)))
            return found

    async def replay(self, queue: WorkQueue, message_id: str | None) -> int:
        async with self._lock:
            return await replay(self._broker, queue, message_id)

    async def discard(self, queue: WorkQueue, message_id: str) -> int:
        async with self._lock:
            return await discard(self._broker, queue, message_id)
