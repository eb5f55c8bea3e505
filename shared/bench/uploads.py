"""End-to-end uploads: from ``POST /api/v1/uploads`` until the document is listed in the
device's inbox, as the terminal sees it through its long poll.

Each delivery takes a terminal of its own from a pool for the time it is in flight: the
terminal long-polls with ``known`` set to what it already holds, so the poll returns the moment
the new document lands (the gateway wakes it), then acknowledges it as a real terminal does,
so that its next long poll can wait again. The latency is upload sent → inbox answer received.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from shared.bench.api import BenchError, Terminal, acknowledge, upload, wait_in_inbox
from shared.bench.documents import order, upload_to_device
from shared.bench.stats import Latency, per_second
from shared.bench.wire import Pool, WireError

# A delivery not seen in the inbox by then counts as an error.
DELIVERY_TIMEOUT = 30.0


@dataclass
class Outcome:
    """What one phase measured: deliveries seen in the window, their latencies, failures."""

    seconds: float
    started_at: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    late_starts: int = 0
    # Every delivery seen, warm-up included: what the CPU spent was spent on.
    delivered: int = 0

    @property
    def rate(self) -> float:
        return per_second(len(self.latencies), self.seconds)

    @property
    def latency(self) -> Latency:
        if not self.latencies:
            raise BenchError("no delivery completed in the measured window")
        return Latency.of(self.latencies)


class UploadDriver:
    def __init__(self, pool: Pool, api_key: str, terminals: list[Terminal], lines: int) -> None:
        self._pool = pool
        self._api_key = api_key
        self._lines = lines
        self._free: asyncio.Queue[Terminal] = asyncio.Queue()
        for terminal in terminals:
            self._free.put_nowait(terminal)

    async def deliver(self, started: float | None = None) -> tuple[float, float]:
        """One upload to a free terminal until it is in its inbox: (start, seen) times.

        ``started`` is when the upload was due; the wait for a free terminal counts.
        """
        try:
            terminal = await asyncio.wait_for(self._free.get(), DELIVERY_TIMEOUT)
        except TimeoutError:
            raise BenchError("no free terminal: too many deliveries failed") from None
        start = started if started is not None else time.perf_counter()
        document = order(self._lines)
        async with self._pool.connection() as conn:
            await upload(conn, self._api_key, upload_to_device(terminal.device_id, document))
            item = await wait_in_inbox(
                conn, terminal, document["header"]["id"], timeout=DELIVERY_TIMEOUT
            )
            seen = time.perf_counter()
            await acknowledge(conn, terminal, item["delivery_id"])
        # Only now: a terminal whose delivery failed is not used again (its ``known`` is off).
        self._free.put_nowait(terminal)
        return start, seen

    async def _measured(
        self, outcome: Outcome, window: tuple[float, float], due: float | None
    ) -> None:
        try:
            start, seen = await self.deliver(due)
        except (BenchError, WireError) as exc:
            outcome.errors[type(exc).__name__ + ": " + str(exc)[:120]] += 1
            return
        outcome.delivered += 1
        if window[0] <= start and seen <= window[1]:
            outcome.started_at.append(start)
            outcome.latencies.append(seen - start)

    async def closed_loop(self, lanes: int, warmup: float, duration: float) -> Outcome:
        """``lanes`` uploaders, each starting its next upload when the last one is seen."""
        now = time.perf_counter()
        window = (now + warmup, now + warmup + duration)
        outcome = Outcome(duration)

        async def lane() -> None:
            while time.perf_counter() < window[1]:
                await self._measured(outcome, window, None)

        await asyncio.gather(*(lane() for _ in range(lanes)))
        # Closed loop: what counts is how many were seen within the window.
        return outcome

    async def open_loop(self, rate: float, warmup: float, duration: float) -> Outcome:
        """Uploads due at a steady ``rate`` whatever the answers; latency from the due time."""
        begin = time.perf_counter()
        window = (begin + warmup, begin + warmup + duration + DELIVERY_TIMEOUT)
        outcome = Outcome(duration)
        tasks: list[asyncio.Task[None]] = []
        n = 0
        while True:
            due = begin + n / rate
            if due >= begin + warmup + duration:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.01:
                outcome.late_starts += 1
            tasks.append(asyncio.create_task(self._measured(outcome, window, due)))
            n += 1
        await asyncio.gather(*tasks)
        return outcome
