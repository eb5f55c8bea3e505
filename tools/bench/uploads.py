"""End-to-end uploads: from ``POST /api/v1/uploads`` until the document is listed in the
device's inbox, as the terminal sees it through its long poll.

Each delivery takes a terminal of its own from a pool for the time it is in flight: the
terminal long-polls with ``known`` set to what it already holds, so the poll returns the moment
the new document lands (the gateway wakes it), then acknowledges it as a real terminal does
(what one poll found in one call: ``acknowledge_all``), so that its next long poll can wait
again. The latency is upload sent → inbox answer received.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from tools.bench.api import BenchError, Terminal, acknowledge_all, upload, wait_all_in_inbox
from tools.bench.documents import order, upload_to_device
from tools.bench.stats import Latency, per_second
from tools.bench.wire import Pool, WireError

# A delivery not seen in the inbox by then counts as an error.
DELIVERY_TIMEOUT = 30.0


@dataclass
class Outcome:
    """What one phase measured: every delivery's (start, seen) times, and the failures.

    A closed loop counts the deliveries *seen* within the window (its throughput); an open
    loop counts those *due* within it (each one's latency, however late it was seen).
    """

    window: tuple[float, float]
    count_by: Literal["seen", "due"]
    samples: list[tuple[float, float]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    late_starts: int = 0

    @property
    def seconds(self) -> float:
        return self.window[1] - self.window[0]

    @property
    def counted(self) -> list[tuple[float, float]]:
        index = 1 if self.count_by == "seen" else 0
        low, high = self.window
        return [s for s in self.samples if low <= s[index] < high]

    @property
    def rate(self) -> float:
        return per_second(len(self.counted), self.seconds)

    @property
    def latency(self) -> Latency:
        latencies = [seen - start for start, seen in self.counted]
        if not latencies:
            raise BenchError("no delivery completed in the measured window")
        return Latency.of(latencies)


class UploadDriver:
    """Uploads of ``documents`` documents each (all to one terminal), every one counted."""

    def __init__(
        self,
        pool: Pool,
        api_key: str,
        terminals: list[Terminal],
        lines: int,
        documents: int = 1,
    ) -> None:
        self._pool = pool
        self._api_key = api_key
        self._lines = lines
        self._documents = documents
        self._free: asyncio.Queue[Terminal] = asyncio.Queue()
        for terminal in terminals:
            self._free.put_nowait(terminal)

    async def deliver(self, started: float | None = None) -> list[tuple[float, float]]:
        """One upload to a free terminal until each document is in its inbox: the (start,
        seen) times of each.

        ``started`` is when the upload was due; the wait for a free terminal counts.
        """
        try:
            terminal = await asyncio.wait_for(self._free.get(), DELIVERY_TIMEOUT)
        except TimeoutError:
            raise BenchError("no free terminal: too many deliveries failed") from None
        start = started if started is not None else time.perf_counter()
        documents = [order(self._lines) for _ in range(self._documents)]
        ids = [document["header"]["id"] for document in documents]
        async with self._pool.connection() as conn:
            await upload(conn, self._api_key, upload_to_device(terminal.device_id, *documents))
            found = await wait_all_in_inbox(conn, terminal, ids, timeout=DELIVERY_TIMEOUT)
            await acknowledge_all(
                conn, terminal, [item["delivery_id"] for item, _ in found.values()]
            )
        # Only now: a terminal whose delivery failed is not used again (its ``known`` is off).
        self._free.put_nowait(terminal)
        return [(start, seen) for _, seen in found.values()]

    async def _measured(self, outcome: Outcome, due: float | None) -> None:
        try:
            outcome.samples.extend(await self.deliver(due))
        except (BenchError, WireError) as exc:
            outcome.errors[type(exc).__name__ + ": " + str(exc)[:120]] += 1

    async def closed_loop(self, lanes: int, warmup: float, duration: float) -> Outcome:
        """``lanes`` uploaders, each starting its next upload when the last one is seen."""
        now = time.perf_counter()
        outcome = Outcome((now + warmup, now + warmup + duration), "seen")

        async def lane() -> None:
            while time.perf_counter() < outcome.window[1]:
                await self._measured(outcome, None)

        await asyncio.gather(*(lane() for _ in range(lanes)))
        return outcome

    async def open_loop(self, rate: float, warmup: float, duration: float) -> Outcome:
        """Uploads due at a steady ``rate`` whatever the answers; latency from the due time."""
        begin = time.perf_counter()
        outcome = Outcome((begin + warmup, begin + warmup + duration), "due")
        tasks: list[asyncio.Task[None]] = []
        n = 0
        while (due := begin + n / rate) < outcome.window[1]:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.01:
                outcome.late_starts += 1
            tasks.append(asyncio.create_task(self._measured(outcome, due)))
            n += 1
        await asyncio.gather(*tasks)
        return outcome
