"""The HTTP load generator: N keep-alive connections, each sending its next request as soon
as the last one is answered, for a fixed time. The same generator measures the bare FastAPI
ceiling and the tsdx inbox, in a process of its own so that it never shares an event loop
(or a core's time slice) with the server it measures.

Run as ``python -m tools.bench.http_load SPEC.json``; it prints its result as JSON.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tools.bench.stats import per_second, percentile
from tools.bench.wire import Connection, WireError, build_request


@dataclass
class LoadSpec:
    host: str
    port: int
    path: str
    connections: int
    duration: float
    warmup: float = 1.0
    # One Bearer token per simulated client, used in turn; none for an open endpoint.
    tokens: list[str] = field(default_factory=list)
    # Send one request with every token before the clock starts (first contact is different).
    prime: bool = False


@dataclass
class LoadResult:
    requests: int
    seconds: float
    errors: int
    statuses: dict[str, int]
    p50_ms: float
    p99_ms: float
    primed: int = 0
    # Every request answered, warm-up included.
    answered: int = 0

    @property
    def rate(self) -> float:
        return per_second(self.requests, self.seconds)


def _requests(spec: LoadSpec) -> list[bytes]:
    host = f"{spec.host}:{spec.port}"
    if not spec.tokens:
        return [build_request("GET", spec.path, host)]
    return [
        build_request("GET", spec.path, host, {"Authorization": f"Bearer {token}"})
        for token in spec.tokens
    ]


async def _prime(spec: LoadSpec, requests: list[bytes]) -> int:
    queue = iter(requests)
    done = 0

    async def worker() -> None:
        nonlocal done
        conn = Connection(spec.host, spec.port)
        for request in queue:  # the shared iterator hands each request out once
            status, _ = await conn.send(request)
            if status != 200:
                raise WireError(f"priming answered {status}")
            done += 1
        await conn.close()

    await asyncio.gather(*(worker() for _ in range(spec.connections)))
    return done


async def generate(spec: LoadSpec) -> LoadResult:
    requests = _requests(spec)
    primed = await _prime(spec, requests) if spec.prime else 0
    turn = itertools.cycle(requests)
    start = time.perf_counter() + spec.warmup
    end = start + spec.duration
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors = 0
    answered = 0

    async def worker() -> None:
        nonlocal errors, answered
        conn = Connection(spec.host, spec.port)
        while True:
            sent = time.perf_counter()
            if sent >= end:
                break
            try:
                status, _ = await conn.send(next(turn))
            except WireError:
                errors += 1
                continue
            now = time.perf_counter()
            answered += 1
            if start <= now < end:
                latencies.append(now - sent)
                statuses[str(status)] += 1
                if not 200 <= status < 300:
                    errors += 1
        await conn.close()

    await asyncio.gather(*(worker() for _ in range(spec.connections)))
    return LoadResult(
        requests=len(latencies),
        seconds=spec.duration,
        errors=errors,
        statuses=dict(statuses),
        p50_ms=percentile(latencies, 50) * 1000 if latencies else 0.0,
        p99_ms=percentile(latencies, 99) * 1000 if latencies else 0.0,
        primed=primed,
        answered=answered + primed,
    )


async def run_in_own_process(spec: LoadSpec, scratch: Path) -> LoadResult:
    """Run the generator as a child process; returns its result."""
    spec_file = scratch / f"load-{time.monotonic_ns()}.json"
    spec_file.write_text(json.dumps(asdict(spec)))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tools.bench.http_load",
        str(spec_file),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    spec_file.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the load generator failed: {err.decode()[-2000:]}")
    data = json.loads(out)
    return LoadResult(**data)


def main() -> None:
    spec = LoadSpec(**json.loads(Path(sys.argv[1]).read_text()))
    result = asyncio.run(generate(spec))
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
