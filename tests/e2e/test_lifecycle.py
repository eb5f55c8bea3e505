"""Each service stops cleanly on SIGTERM: messages in hand finish, the process exits 0."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.messaging.topology import ROUTING_WORK
from tests.security.helpers import envelope, publish
from tests.support.documents import by_pin, order, upload
from tests.support.metrics import metric
from tests.support.stack import ADMIN_TOKEN, running_stack
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AdminClient, TerminalClient

UPLOADS = 40


def test_every_service_stops_cleanly_on_sigterm(fresh_stack: Stack) -> None:
    assert fresh_stack.log_dir is not None
    for service in fresh_stack.services:
        fresh_stack.kill(service, signal.SIGTERM)
        assert fresh_stack.processes[service].returncode == 0, service
        log = (fresh_stack.log_dir / f"{service}.log").read_text().splitlines()
        events = [json.loads(line)["event"] for line in log if line.startswith("{")]
        assert "service.stopped" in events, service


@pytest.fixture
def few_at_a_time(tmp_path: Path) -> Iterator[Stack]:
    """Routing takes 4 messages at a time, so a burst is partly in hand, partly queued."""
    with running_stack(tmp_path, ("registry", "routing"), {"TSDX_PREFETCH": "4"}) as stack:
        yield stack


async def test_routing_stopped_mid_work_finishes_what_it_holds(few_at_a_time: Stack) -> None:
    """SIGTERM while routing is deciding a burst of uploads: what it holds is finished and
    acknowledged before it exits, the rest waits in the queue; after a restart every upload is
    decided exactly once, and none of those finished comes back to be handled again."""
    fresh_stack = few_at_a_time
    assert fresh_stack.log_dir is not None
    log = fresh_stack.log_dir / "routing.log"
    requests = [uuid.uuid4().hex for _ in range(UPLOADS)]
    heavy = order(lines=2000)  # each takes routing a while to decode and decide
    messages = {
        request_id: envelope(
            "upload.requested",
            upload(
                by_pin("0000"),
                {**heavy, "header": {**heavy["header"], "id": request_id}},
                request_id=request_id,
            ),
            tenant="t-lifecycle",
        )
        for request_id in requests
    }
    await publish(fresh_stack, "upload.requested", messages)
    await eventually(
        lambda: _decided(log),
        until=lambda decided: len(decided) >= 3,
        timeout=60,
        what="routing deciding the first uploads",
    )
    await asyncio.to_thread(fresh_stack.kill, "routing", signal.SIGTERM)
    assert fresh_stack.processes["routing"].returncode == 0

    first_run = await _events(log)
    stopped = [e for e in first_run if e["event"] == "consumer.stopped"]
    assert [e["queue"] for e in stopped] == [ROUTING_WORK.name]
    assert stopped[0]["finished_in_hand"] >= 1, "stopped while idle: not mid-work"
    assert not [e for e in first_run if e["event"] == "consumer.stop_timeout"]
    decided_first = await _decided(log)
    assert len(decided_first) < UPLOADS, "everything was decided before the stop"

    fresh_stack.start("routing")
    await asyncio.to_thread(fresh_stack.wait_ready, 60, ("routing",))
    decided = await eventually(
        lambda: _decided(log),
        until=lambda found: len(found) >= UPLOADS,
        timeout=120,
        what="every upload decided",
    )
    assert sorted(decided) == sorted(requests)  # each exactly once
    # The restarted routing handled exactly the uploads not decided before: none of those
    # finished in hand was delivered to it again.
    handled = await eventually(
        lambda: _handled(fresh_stack),
        until=lambda n: n >= UPLOADS - len(decided_first),
        what="the rest handled by the restarted routing",
    )
    assert handled == UPLOADS - len(decided_first)


async def _events(log: Path) -> list[dict[str, Any]]:
    text = await asyncio.to_thread(log.read_text, errors="replace")
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def _decided(log: Path) -> list[str]:
    return [e["request_id"] for e in await _events(log) if e["event"] == "upload.decided"]


async def _handled(stack: Stack) -> float:
    return await metric(
        stack.url("routing"), "tsdx_messages_handled_total", type="upload.requested"
    )


async def test_a_gateway_asked_to_stop_answers_its_waiting_long_polls_at_once(
    fresh_stack: Stack,
) -> None:
    """A terminal's long poll waits up to 30 s; a gateway asked to stop answers it at once
    (with what the inbox holds) instead of waiting it out, so that it stops within seconds
    and the terminal asks again, of another instance or of this one restarted."""
    url = fresh_stack.url("gateway")
    async with AdminClient(url, ADMIN_TOKEN) as admin:
        tenant = await admin.create_tenant("Остановка шлюза")
    async with TerminalClient(url) as terminal:
        await terminal.pair(tenant["connection_code"], "@HW-STOPPING", "EDA50", "EDA50")
        poll = asyncio.create_task(terminal.inbox(wait=30, known=0))
        await eventually(
            lambda: metric(url, "tsdx_long_polls_waiting"),
            until=lambda waiting: waiting >= 1,
            what="the poll waiting",
        )
        fresh_stack.processes["gateway"].send_signal(signal.SIGTERM)
        # Well within the poll's own 30 s: answered by the stop, not by the end of its wait.
        answer = await asyncio.wait_for(poll, timeout=15)
    assert answer == {"documents": [], "withdrawn": []}
    gateway = fresh_stack.processes["gateway"]
    code = await eventually(
        lambda: asyncio.to_thread(gateway.poll), until=lambda c: c is not None, what="stopped"
    )
    assert code == 0
