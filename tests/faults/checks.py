"""After a fault: every accepted upload delivered exactly once, every result returned exactly
once, nothing routed that was not accepted, and every service ready with its consumers."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

import httpx

from shared.messaging.topology import WORK_QUEUES
from tests.faults.load import Load, persist
from tests.faults.witness import Witness
from tests.support.broker import AUTH, MANAGEMENT
from tests.support.waiting import eventually
from tools.cli.stack import Stack

REPORT = Path("test-artifacts/reliability.jsonl")


async def settled(load: Load, witness: Witness, timeout: float = 120.0) -> None:
    """Wait until every accepted document has gone all the way round, its result returned."""
    accepted = set(load.ledger.accepted.values())
    assert load.accounting is not None
    accounting = load.accounting

    async def done() -> tuple[int, int, int, int]:
        routed = accepted & set(witness.seen["routed"])
        completed = accepted & set(witness.seen["completed"])
        downloaded = accepted & set(load.ledger.downloads)
        # The gateway stores a completion while the witness sees it: wait for both.
        returned = accepted & {r["document_id"] for r in await persist(accounting.results)}
        return len(routed), len(downloaded), len(completed), len(returned)

    await eventually(
        done,
        until=lambda r: r == (len(accepted),) * 4,
        timeout=timeout,
        interval=0.2,
        what="every accepted document delivered, completed and its result returned",
    )


def _expected_running(stack: Stack) -> list[str]:
    """Every service, and every further instance still running (one may be killed on purpose)."""
    return [*stack.services, *(i for i in stack.instances if stack.processes[i].poll() is None)]


async def consumers_ready(stack: Stack) -> None:
    vhost = unquote(urlparse(stack.env["TSDX_AMQP_URL"]).path.lstrip("/")) or "/"
    running = Counter(stack.service_of(name) for name in _expected_running(stack))
    # One consumer per running instance of the queue's service.
    expected = {q.name: running[q.service] for q in WORK_QUEUES if q.service in stack.services}

    # A broker of the test's own names its management API; otherwise the machine's.
    management = stack.env.get("TSDX_RABBITMQ_API_URL", MANAGEMENT)

    async def counts() -> dict[str, int]:
        async with httpx.AsyncClient(auth=AUTH, timeout=5) as http:
            response = await http.get(f"{management}/queues/{quote(vhost, safe='')}")
            by_name = {q["name"]: q.get("consumers", 0) for q in response.json()}
        return {name: by_name.get(name, 0) for name in expected}

    await eventually(
        counts,
        until=lambda c: all(c[name] >= n for name, n in expected.items()),
        timeout=60,
        interval=0.5,
        what=f"consumers on every work queue: {expected}",
    )

    async def ready() -> dict[str, int]:
        async with httpx.AsyncClient(timeout=5) as http:
            return {
                s: (await http.get(f"{stack.url(s)}/readyz")).status_code
                for s in _expected_running(stack)
            }

    await eventually(
        ready, until=lambda r: set(r.values()) == {200}, timeout=60, what="every service ready"
    )


def _record(figures: dict[str, Any]) -> None:
    REPORT.parent.mkdir(exist_ok=True)
    with REPORT.open("a") as out:
        out.write(json.dumps(figures) + "\n")


async def assert_exactly_once(
    fault: str, load: Load, witness: Witness, stack: Stack, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Check the counts and record them (with ``extra`` figures of the fault) in the report."""
    await settled(load, witness)
    await consumers_ready(stack)
    ledger = load.ledger
    accepted = set(ledger.accepted.values())
    routed_twice = {d: ids for d, ids in witness.seen["routed"].items() if len(ids) != 1}
    completed_twice = {d: ids for d, ids in witness.seen["completed"].items() if len(ids) != 1}
    downloaded_twice = {d: ids for d, ids in ledger.downloads.items() if len(ids) != 1}
    routed_not_accepted = set(witness.seen["routed"]) - accepted
    assert load.accounting is not None
    results = {r["document_id"] for r in await load.accounting.results()}
    figures = {
        "fault": fault,
        "uploads_accepted": len(accepted),
        "uploads_refused": len(ledger.refused),
        "delivered": len(accepted & set(ledger.downloads)),
        "results_returned": len(accepted & results),
        "lost": len(accepted - set(ledger.downloads)) + len(accepted - results),
        "duplicated": len(routed_twice) + len(completed_twice) + len(downloaded_twice),
        "wire_repeats": witness.wire_repeats,
        "client_retries": sum(ledger.http_retries.values()),
        **(extra or {}),
    }
    print(f"\n{fault}: " + ", ".join(f"{k}={v}" for k, v in figures.items() if k != "fault"))
    _record(figures)
    assert ledger.refused == {}
    assert routed_twice == {} and completed_twice == {} and downloaded_twice == {}
    assert routed_not_accepted == set()
    assert results == accepted
    assert figures["lost"] == 0 and figures["duplicated"] == 0
    return figures
