"""The whole stack on a three-node RabbitMQ cluster of the test's own, losing nodes under load.

Each case uploads by PIN with about 20 uploads in flight, kills RabbitMQ nodes with kill -9 in
the middle, and then checks with the fault ledger and the witness that every accepted upload
was delivered and its result returned exactly once, that every service reconnected by itself
(none died or was restarted), and that a node started again rejoins with its replicas caught
up. The figures go to test-artifacts/reliability.jsonl (see docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.messaging.topology import ROUTING_WORK
from tests.faults.checks import assert_exactly_once
from tests.faults.load import Load
from tests.faults.witness import Witness
from tests.support.cluster import add_vhost, local_cluster, stack_env
from tests.support.documents import by_pin, order, upload
from tests.support.stack import ADMIN_TOKEN, running_stack
from tests.support.waiting import eventually
from tools.cli.local_cluster import LocalCluster, Node
from tools.cli.stack import Stack
from tools.client import AccountingClient, ApiError

pytestmark = pytest.mark.slow

IN_FLIGHT = 20
UPLOAD_QUEUE = ROUTING_WORK.name  # where upload.requested waits for routing
# Long enough for an unconfirmed publish to reach its timeout (5 s) more than once.
MAJORITY_OUTAGE_S = 12.0
PROBE_PAUSE_S = 1.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with local_cluster(tmp_path_factory.mktemp("rabbit"), size=3) as c:
        yield c


@pytest.fixture
async def on_cluster(
    cluster: LocalCluster, tmp_path: Path
) -> AsyncIterator[tuple[LocalCluster, Stack, Witness, str]]:
    """A stack and a witness on a fresh vhost of the cluster, every node running."""
    for node in cluster.nodes:  # a case before may have left one down when it failed
        await asyncio.to_thread(cluster.start, node)
    await asyncio.to_thread(cluster.wait_members, len(cluster.nodes))
    vhost = f"tsdx-{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(add_vhost, cluster, vhost)
    # Clients retry fast while nodes are down, and 20 uploads by PIN are in flight at once:
    # neither the request-rate limit nor the PIN-guess limit (which counts a PIN upload until
    # it is decided) is under test here.
    env = {
        **stack_env(cluster, vhost),
        "TSDX_RATE_LIMIT_PER_SECOND": "1000",
        "TSDX_PIN_MISSES_PER_MINUTE": "1000",
    }
    with running_stack(tmp_path, extra_env=env) as stack:
        witness = Witness(stack.env["TSDX_AMQP_URLS"])
        await witness.start()
        try:
            yield cluster, stack, witness, vhost
        finally:
            await witness.stop()


async def _accepted_reach(load: Load, count: int, timeout: float = 180) -> None:
    await eventually(
        lambda: asyncio.sleep(0, len(load.ledger.accepted)),
        until=lambda n: n >= count,
        timeout=timeout,
        interval=0.1,
        what=f"{count} accepted uploads",
    )


async def _dashboard_shows_the_queues(stack: Stack) -> None:
    """The dashboard's queue figures answer: given every node's management API, it asks another
    when one is down."""
    async with httpx.AsyncClient(base_url=stack.url("dashboard"), timeout=30) as dashboard:
        answer = await dashboard.get(
            "/api/v1/dashboard/queues", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
    assert answer.status_code == 200, answer.text
    assert ROUTING_WORK.name in {q["name"] for q in answer.json()["queues"]}


async def _every_member_online(cluster: LocalCluster, vhost: str) -> None:
    """Every quorum queue has a member on each node and all of them run, so that losing any
    one node leaves each queue a majority (a member still starting would not count)."""
    everyone = sorted(n.name for n in cluster.nodes)
    await eventually(
        lambda: asyncio.to_thread(cluster.quorum_queues, vhost),
        until=lambda queues: (
            bool(queues)
            and all(q["members"] == everyone and q["online"] == everyone for q in queues.values())
        ),
        timeout=120,
        interval=0.5,
        what="every quorum queue with a running member on each node",
    )


async def _upload_queue_members(cluster: LocalCluster, vhost: str) -> tuple[str, set[str]]:
    info = await asyncio.to_thread(cluster.queue_info, UPLOAD_QUEUE, vhost)
    return str(info["leader"]), set(info.get("members", []))


async def _caught_up(cluster: LocalCluster, vhost: str, node: Node) -> None:
    """The restarted node is a member of the upload queue again and its log is the leader's:
    every member reports the same commit index (``rabbitmq-queues quorum_status``)."""

    async def indexes() -> dict[str, object]:
        via = next(n for n in cluster.live_nodes() if n != node)
        out = await asyncio.to_thread(
            cluster.queues_tool, via, "quorum_status", UPLOAD_QUEUE, "--vhost", vhost,
            "--formatter", "json",
        )  # fmt: skip
        return {row["Node Name"]: row["Commit Index"] for row in json.loads(out)}

    await eventually(
        indexes,
        until=lambda i: node.name in i and len(i) == 3 and len(set(i.values())) == 1,
        timeout=60,
        interval=0.5,
        what=f"{node.name} back in the upload queue's quorum with the leader's commit index",
    )


async def _lose_and_regain(
    case: str, cluster: LocalCluster, stack: Stack, witness: Witness, vhost: str, *, leader: bool
) -> dict[str, object]:
    total = 500 if leader else 200
    load = Load(stack.url("gateway"))
    await load.prepare()
    await _every_member_online(cluster, vhost)
    load.start(uploaders=IN_FLIGHT, total=total)
    try:
        await _accepted_reach(load, total // 4)
        led_by, members = await _upload_queue_members(cluster, vhost)
        assert members == {n.name for n in cluster.nodes}, "the upload queue spans the cluster"
        victim = cluster.node(led_by) if leader else next(
            n for n in cluster.nodes if n.name != led_by
        )  # fmt: skip
        killed_at = time.monotonic()
        await asyncio.to_thread(cluster.kill, victim)
        # Two nodes carry on: a new leader is elected and uploads are accepted again.
        try:
            await _accepted_reach(load, total // 2)
        except AssertionError as stuck:
            queues = await asyncio.to_thread(cluster.quorum_queues, vhost)
            raise AssertionError(f"{stuck}; quorum queues after the loss: {queues}") from None
        recovered_in = load.ledger.first_accepted_after(killed_at)
        new_leader, _ = await _upload_queue_members(cluster, vhost)
        assert new_leader != victim.name
        await _dashboard_shows_the_queues(stack)  # from a node still up
        await asyncio.to_thread(cluster.start, victim)
        await asyncio.to_thread(cluster.wait_members, 3)
        await load.uploads_done()
        figures = await assert_exactly_once(
            case,
            load,
            witness,
            stack,
            extra={
                "uploads": total,
                "in_flight": IN_FLIGHT,
                "recovered_in_s": round(recovered_in, 2) if recovered_in is not None else None,
            },
        )
        await _caught_up(cluster, vhost, victim)
    finally:
        await load.close()
    # Every service reconnected by itself: none died and none was restarted.
    assert stack.dead() == []
    assert len(load.ledger.accepted) == total
    return figures


async def test_the_upload_queues_leader_killed_under_load(
    on_cluster: tuple[LocalCluster, Stack, Witness, str],
) -> None:
    cluster, stack, witness, vhost = on_cluster
    figures = await _lose_and_regain(
        "kill -9 of the upload queue's leader node", cluster, stack, witness, vhost, leader=True
    )
    assert figures["recovered_in_s"] is not None


async def test_a_follower_node_killed_under_load(
    on_cluster: tuple[LocalCluster, Stack, Witness, str],
) -> None:
    cluster, stack, witness, vhost = on_cluster
    await _lose_and_regain(
        "kill -9 of a follower node", cluster, stack, witness, vhost, leader=False
    )


async def test_majority_lost_uploads_are_refused_then_resume(
    on_cluster: tuple[LocalCluster, Stack, Witness, str],
) -> None:
    cluster, stack, witness, vhost = on_cluster
    load = Load(stack.url("gateway"))
    await load.prepare()
    pin = load.terminals[0].device["pin"]
    # Every client of the stack is on the first node, the first address that answered.
    await eventually(
        lambda: asyncio.to_thread(cluster.connection_nodes, vhost),
        until=lambda nodes: nodes == {cluster.nodes[0].name},
        timeout=30,
        what="every connection on the first node",
    )
    load.start(uploaders=4)
    assert load.accounting is not None
    probes: list[dict[str, Any]] = []
    try:
        await _accepted_reach(load, 20)
        # The services are connected to the first node (the first address that answered):
        # the other two go, so the services keep a connection to a node without a majority,
        # where a publish is taken but never confirmed. (A connection lost with its node is
        # the leader case above.)
        _, first, second = cluster.nodes
        lost_at = time.monotonic()
        await asyncio.to_thread(cluster.kill, first)
        await asyncio.to_thread(cluster.kill, second)
        # No majority: an upload is refused with 503 and a clear message, never accepted.
        refusals = []
        slowest = 0.0
        while len(probes) < 3 or time.monotonic() - lost_at < MAJORITY_OUTAGE_S:
            probes.append(upload(by_pin(pin), order(lines=1)))
            asked_at = time.monotonic()
            with pytest.raises(ApiError) as refused:
                await load.accounting.upload(probes[-1])
            slowest = max(slowest, time.monotonic() - asked_at)
            refusals.append(refused.value)
            await asyncio.sleep(PROBE_PAUSE_S)  # an accounting client's pace, not a wait
        assert {(r.status, r.code) for r in refusals} == {(503, "upload_not_confirmed")}
        # The message says to send the same request again (same request id: safe).
        assert all("тем же идентификатором запроса" in r.message for r in refusals)
        outage_s = time.monotonic() - lost_at
        # A node returns: the majority is back, and the same requests are accepted.
        await asyncio.to_thread(cluster.start, first)
        back_at = time.monotonic()
        for body in probes:
            answer = await _until_answered(load.accounting, body)
            assert answer["status"] == "accepted", answer
            load.ledger.accepted[body["request_id"]] = body["documents"][0]["header"]["id"]
        resumed_in = time.monotonic() - back_at
        await asyncio.to_thread(cluster.start, second)
        await asyncio.to_thread(cluster.wait_members, 3)
        await _accepted_reach(load, len(load.ledger.accepted) + 20)
        await load.stop_uploads()
        figures = await assert_exactly_once(
            "two of three nodes killed (majority lost), one started again",
            load,
            witness,
            stack,
            extra={
                "refused_503": len(refusals),
                "outage_s": round(outage_s, 1),
                "slowest_refusal_s": round(slowest, 2),
                "resumed_in_s": round(resumed_in, 2),
            },
        )
    finally:
        await load.close()
    assert stack.dead() == []
    assert figures["refused_503"] == len(probes)


async def _until_answered(accounting: AccountingClient, body: dict[str, Any]) -> dict[str, Any]:
    """Send the same upload again until it is decided (503 and 202 mean: ask again)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            answer = await accounting.upload(body)
            if answer["status"] != "pending":
                return answer
        except ApiError as exc:
            if exc.status != 503:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"upload {body['request_id']} not decided after a node returned")
        await asyncio.sleep(0.5)
