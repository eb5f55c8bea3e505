"""Where the large document's time goes: its stages in one process, then the real stack.

``python -m tools.bench.big_document_profile [lines] [--stack N]``

First the CPU of each stage the document passes through, run here one after another without
I/O (the best of five): what the gateway does with the upload's body, the message to routing,
routing's reading of it and its writes, the routed copy, the gateway's reading and storing of
the copy and the download's answer. Then, with ``--stack N``, the whole stack (a RabbitMQ
virtual host of its own, every service its own process) takes the document N times as
``tsdx bench`` does, printing the times, the CPU of each process and their memory peaks. On a
machine shared with other work the CPU milliseconds are the figures to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from services.gateway.api.terminal import ResultRequest
from services.gateway.wire import ensure_portable as portable
from shared.contracts.documents import Target
from shared.contracts.envelope import decode, encode, wrap
from shared.contracts.uploads import DeliverySettings, DocumentRouted, RoutedCopy, UploadRequested
from shared.jsonexact import loads_exact
from tools.bench.cpu import CpuMeter
from tools.bench.documents import facts_as_planned, order, upload_to_device
from tools.bench.memory import reset_peak, status_mb

T = TypeVar("T")
REPEATS = 5


def _best(name: str, work: Callable[[], T]) -> T:
    """Run ``work`` a few times; print the least CPU it took (the others waited on the machine)."""
    least = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()
        result = work()
        least = min(least, time.process_time() - started)
    print(f"  {name:<58} {1000 * least:7.1f} ms")
    return result


def stages(lines: int) -> None:
    document = order(lines, number="БЕН-БОЛЬШОЙ")
    body = orjson.dumps(upload_to_device("device-1", document))
    print(f"stages of one {lines}-line document (CPU ms, best of {REPEATS}):")
    print(f"  upload body: {len(body) / 1e6:.2f} MB")
    raw = _best("gateway: the body read (exact numbers)", lambda: loads_exact(body))
    request = _best("gateway: the upload validated", lambda: UploadRequested.model_validate(raw))
    _best("gateway: the upload checked for the wire (ensure_portable)", lambda: portable(request))
    message = _best("gateway: upload.requested written", lambda: encode(wrap(request, "t")))
    print(f"  upload.requested: {len(message) / 1e6:.2f} MB")
    _, requested = _best("routing: upload.requested read and validated", lambda: decode(message))
    assert isinstance(requested, UploadRequested)
    routed_document = requested.documents[0]
    _best(
        "routing: the body row written (start_body)",
        lambda: orjson.dumps({"document": routed_document.as_json()}),
    )
    routed = DocumentRouted(
        request_id=requested.request_id,
        process=requested.process,
        channel="internet",
        documents=[routed_document],
        copies=[
            RoutedCopy(
                delivery_id="d",
                document_id=routed_document.header.id,
                version=1,
                target=Target(kind="device", value="device-1"),
                settings=DeliverySettings(),
            )
        ],
        requested_at=datetime.now(UTC),
    )
    wire = _best("routing: document.routed dumped, once", lambda: encode(wrap(routed, "t")))
    # The relay sends the message from memory; the row embeds its JSON as it is (JsonText).
    _best(
        "routing: its outbox row written",
        lambda: orjson.dumps({"body": orjson.Fragment(wire)}),
    )
    print(f"  document.routed: {len(wire) / 1e6:.2f} MB")
    _, received = _best("gateway: document.routed read and validated", lambda: decode(wire))
    assert isinstance(received, DocumentRouted)
    stored = _best(
        "gateway: the copy's body row written (add_new_copies)",
        lambda: orjson.dumps({"document": received.documents[0].as_json()}),
    )
    _best(
        "gateway: the download answered (row read, answer written)",
        lambda: orjson.dumps({"document": orjson.loads(stored)["document"]}),
    )
    facts = orjson.dumps({"result_id": "r", "final": True, "lines": facts_as_planned(document)})
    _best(
        "gateway: the final result read and validated",
        lambda: ResultRequest.model_validate(loads_exact(facts)),
    )


async def on_the_stack(lines: int, runs: int, spy: Path | None) -> None:
    from tools.bench.big_document import big_document
    from tools.bench.own_stack import own_stack
    from tools.bench.plan import plan_for

    async with own_stack(plan_for(None, quick=True), "Профиль", 1, "PROFILE") as own:
        stack, [terminal] = own.stack, own.terminals
        for run in range(runs):
            spies = _spies(stack, spy) if spy is not None and run == runs - 1 else []
            pids = {name: proc.pid for name, proc in stack.processes.items()}
            times, halves = await _halves(
                own.bench.cpu_meter(stack, client=True),
                pids,
                lambda between: big_document(
                    own.pool, own.tenant["api_key"], terminal, lines, downloaded_then=between
                ),
            )
            for process in spies:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=60)
            print(
                f"run {run + 1}: upload → downloaded {times.upload_to_download:.2f} s, "
                f"result → completed {times.result_to_completed:.2f} s"
            )
            for half, (spent, peaks) in zip(("downloaded", "completed"), halves, strict=True):
                print(f"  CPU ms to {half}: {_figures(spent, 1000)}")
                print(f"  peak RSS MB to {half}: {_figures(peaks, 1)}")


async def _halves(
    meter: CpuMeter, pids: dict[str, int], run: Callable[[Callable[[], None]], Awaitable[T]]
) -> tuple[T, list[tuple[dict[str, float], dict[str, float]]]]:
    """``run`` with each process's CPU and peak memory (``VmHWM``) measured apart before and
    after the callback ``run`` is given."""
    halves: list[tuple[dict[str, float], dict[str, float]]] = []

    def start() -> None:
        for pid in pids.values():
            reset_peak(pid)
        meter.start()

    def stop() -> None:
        spent = meter.stop()
        peaks = {}
        for name, pid in pids.items():
            with suppress(OSError, ValueError):
                peaks[name] = status_mb(Path(f"/proc/{pid}/status").read_text(), "VmHWM")
        halves.append((spent, peaks))

    def between() -> None:
        stop()
        start()

    start()
    result = await run(between)
    stop()
    return result, halves


def _figures(by_process: dict[str, float], scale: float) -> str:
    return ", ".join(f"{name} {scale * value:.0f}" for name, value in by_process.items())


def _spies(stack: Any, into: Path) -> list[subprocess.Popen[bytes]]:
    """py-spy recording the gateway and routing (``pip install py-spy``), as speedscope files."""
    into.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(stack.processes[service].pid),
                "--rate",
                "250",
                "--format",
                "speedscope",
                "--output",
                str(into / f"{service}.json"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for service in ("gateway", "routing")
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lines", nargs="?", type=int, default=10_000)
    parser.add_argument("--stack", type=int, default=0, metavar="N", help="runs on the stack")
    parser.add_argument("--py-spy", type=Path, metavar="DIR", help="profile the last run here")
    args = parser.parse_args()
    stages(args.lines)
    if args.stack:
        asyncio.run(on_the_stack(args.lines, args.stack, args.py_spy))


if __name__ == "__main__":
    main()
