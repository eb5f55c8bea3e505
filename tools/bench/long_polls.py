"""The long-poll load: many terminals each holding a long poll on one gateway at once.

A process of its own (its file-descriptor limit raised to what it needs), so that holding ten
thousand connections never bends the gateway's figure or the bench's clock. Each terminal
polls ``GET /api/v1/terminal/inbox?wait=W&known=n`` on a keep-alive connection of its own; a
document that arrives is noted with the wall-clock time it was first seen and acknowledged,
as a real terminal does, and the terminal polls again at once. It prints ``ready N`` once
every connection is open (N of them; one that could not be opened counts as an error), and
on ``stop`` (a line on its standard input) the arrivals and the errors as JSON.

Run as ``python -m tools.bench.long_polls SPEC.json``.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from tools.bench.wire import Connection, WireError, build_request

INBOX = "/api/v1/terminal/inbox"
CONNECTING_AT_ONCE = 200


@dataclass
class LongPollSpec:
    host: str
    port: int
    tokens: list[str]
    wait: float


@dataclass
class LongPollResult:
    connected: int
    # Document id → wall-clock time (``time.time()``) it was first listed in a poll's answer.
    arrivals: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise RuntimeError(f"{needed} connections need {needed} files; the limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


class Holder:
    def __init__(self, spec: LongPollSpec) -> None:
        self.spec = spec
        self.result = LongPollResult(connected=0)
        self._statuses: Counter[str] = Counter()
        self._host = f"{spec.host}:{spec.port}"
        self._gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
        self.ready = asyncio.Event()
        self._tried = 0

    async def hold(self, token: str) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        conn = Connection(self.spec.host, self.spec.port)
        try:
            async with self._connecting():
                await conn.open()
        except OSError:
            self.result.errors += 1
            self._settled()
            return
        self.result.connected += 1
        self._settled()
        known = 0
        try:
            while True:
                request = build_request(
                    "GET", f"{INBOX}?wait={self.spec.wait:g}&known={known}", self._host, auth
                )
                try:
                    status, body = await conn.send(request)
                except WireError:
                    self.result.errors += 1
                    await asyncio.sleep(1)
                    continue
                seen = time.time()
                self._statuses[str(status)] += 1
                if status != 200:
                    self.result.errors += 1
                    await asyncio.sleep(1)
                    continue
                documents = orjson.loads(body)["documents"]
                known = len(documents)
                for item in documents:
                    if item["state"] == "waiting":
                        self.result.arrivals.setdefault(item["document_id"], seen)
                        ack = f"/api/v1/terminal/documents/{item['delivery_id']}/ack"
                        await conn.send(build_request("POST", ack, self._host, auth))
        finally:
            await conn.close()

    @asynccontextmanager
    async def _connecting(self) -> AsyncIterator[None]:
        async with self._gate:
            yield

    def _settled(self) -> None:
        """One more connection opened, or given up on (counted as an error)."""
        self._tried += 1
        if self._tried == len(self.spec.tokens):
            self.ready.set()

    def finish(self) -> LongPollResult:
        self.result.statuses = dict(self._statuses)
        return self.result


async def _stdin_line() -> str:
    return await asyncio.to_thread(sys.stdin.readline)


async def hold_all(spec: LongPollSpec) -> LongPollResult:
    holder = Holder(spec)
    tasks = [asyncio.create_task(holder.hold(token)) for token in spec.tokens]
    stop = asyncio.create_task(_stdin_line())
    ready = asyncio.create_task(holder.ready.wait())
    await asyncio.wait([stop, ready], return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    print(f"ready {holder.result.connected}", flush=True)
    await stop
    for task in tasks:
        task.cancel()
    for task in tasks:
        with suppress(asyncio.CancelledError, OSError, WireError):
            await task
    return holder.finish()


def main() -> None:
    spec = LongPollSpec(**json.loads(Path(sys.argv[1]).read_text()))
    # One connection each, and the interpreter's own files besides.
    raise_fd_limit(len(spec.tokens) + 256)
    result = asyncio.run(hold_all(spec))
    print(json.dumps(asdict(result)), flush=True)


if __name__ == "__main__":
    main()


class LongPollProcess:
    """The generator as a child process: started, told to stop, its result read."""

    def __init__(self, spec: LongPollSpec, scratch: Path) -> None:
        self._spec = spec
        self._file = scratch / f"long-polls-{time.monotonic_ns()}.json"
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float) -> int:
        """Start it; how many connections it holds once each has sent its first poll."""
        self._file.write_text(json.dumps(asdict(self._spec)))
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tools.bench.long_polls",
            str(self._file),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), timeout)
        except TimeoutError:
            raise RuntimeError(
                f"the long-poll generator opened no {len(self._spec.tokens)} connections in "
                f"{timeout:g} s: {await self._error()}"
            ) from None
        if not line.startswith(b"ready "):
            raise RuntimeError(f"the long-poll generator did not start: {await self._error()}")
        return int(line.split()[1])

    async def stop(self) -> LongPollResult:
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        proc.stdin.write(b"stop\n")
        await proc.stdin.drain()
        out, err = await proc.communicate()
        self._file.unlink(missing_ok=True)
        if proc.returncode != 0:
            raise RuntimeError(f"the long-poll generator failed: {err.decode()[-2000:]}")
        return LongPollResult(**json.loads(out))

    async def kill(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            await self._proc.wait()

    async def _error(self) -> str:
        await self.kill()
        assert self._proc is not None and self._proc.stderr is not None
        return (await self._proc.stderr.read()).decode()[-2000:]
