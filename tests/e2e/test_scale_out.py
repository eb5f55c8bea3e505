"""Scale-out on one machine: two instances of every worker service on one broker and one store.

Each instance is a process of its own with its own HTTP port; the instances of a service share
its SQLite file and consume its queues as competing consumers. The load goes through both
gateways in turn, as a load balancer in front of them would send it.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.faults.checks import assert_exactly_once, consumers_ready
from tests.faults.load import Load, persist
from tests.faults.witness import Witness
from tests.support.documents import by_device, order, upload
from tests.support.stack import ADMIN_TOKEN, free_port, running_stack
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, TerminalClient

pytestmark = pytest.mark.slow

# The dashboard runs once: it only watches.
WORKERS = ("registry", "routing", "gateway", "lan_writer")
PAIRED_AT_ONCE = 200


def _second(service: str) -> str:
    return f"{service}-2"


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("scaled")) as stack:
        for service in WORKERS:
            if service in stack.services:
                stack.start_instance(service, _second(service), free_port())
        stack.wait_ready(60, tuple(stack.instances))
        yield stack


@pytest.fixture
async def loaded(scaled: Stack) -> AsyncIterator[tuple[Load, Witness]]:
    await consumers_ready(scaled)  # two consumers on every work queue
    witness = Witness(scaled.env["TSDX_AMQP_URL"])
    await witness.start()
    load = Load([scaled.url(name) for name in scaled.instances_of("gateway")], devices=6)
    try:
        await load.prepare()
        load.start(uploaders=3)
        yield load, witness
    finally:
        await load.close()
        await witness.stop()


async def _metric(stack: Stack, name: str, family: str, **labels: str) -> float:
    """Sum of a counter family on one instance, over the samples carrying ``labels``."""
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"{stack.url(name)}/metrics")
    response.raise_for_status()
    return sum(
        sample.value
        for found in text_string_to_metric_families(response.text)
        if found.name == family
        for sample in found.samples
        if sample.name == f"{family}_total"
        and all(sample.labels.get(k) == v for k, v in labels.items())
    )


async def _gauge(stack: Stack, name: str, gauge: str) -> float:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"{stack.url(name)}/metrics")
    response.raise_for_status()
    return sum(
        sample.value
        for found in text_string_to_metric_families(response.text)
        if found.name == gauge
        for sample in found.samples
    )


async def _handled(stack: Stack, names: list[str]) -> dict[str, float]:
    return {
        name: await _metric(stack, name, "tsdx_messages_handled", service=stack.service_of(name))
        for name in names
    }


async def _set_aside(stack: Stack) -> float:
    """Messages retried or parked by any process: a store busy past its wait shows up here."""
    return sum(
        [
            await _metric(stack, name, family)
            for name in stack.processes
            for family in ("tsdx_messages_retried", "tsdx_messages_parked")
        ]
    )


async def _more_work(load: Load, uploads: int, finished: int) -> None:
    """Wait until ``uploads`` more uploads were accepted and ``finished`` more copies done."""
    ledger = load.ledger
    target = (len(ledger.accepted) + uploads, len(ledger.finished) + finished)
    await eventually(
        lambda: asyncio.sleep(0, (len(ledger.accepted), len(ledger.finished))),
        until=lambda now: now[0] >= target[0] and now[1] >= target[1],
        timeout=120,
        interval=0.1,
        what=f"{uploads} more uploads accepted and {finished} more copies finished",
    )


async def test_instances_share_the_work_and_apply_each_message_once(
    scaled: Stack, loaded: tuple[Load, Witness]
) -> None:
    load, witness = loaded
    sharing = [n for s in ("registry", "routing", "gateway") for n in scaled.instances_of(s)]
    before = await _handled(scaled, sharing)
    set_aside = await _set_aside(scaled)
    await _more_work(load, uploads=80, finished=80)
    await load.stop_uploads()
    figures = await assert_exactly_once(
        "two instances of every worker service", load, witness, scaled
    )
    after = await _handled(scaled, sharing)
    share = {name: after[name] - before[name] for name in sharing}
    print(f"messages handled per instance: {share}; events seen: {len(witness.captured)}")
    assert all(n > 0 for n in share.values()), share
    assert figures["uploads_accepted"] >= 80
    # Sharing one SQLite file per service cost no failed message.
    assert await _set_aside(scaled) == set_aside


async def test_two_registries_pairing_at_once_never_give_one_pin_twice(scaled: Stack) -> None:
    gateways = [scaled.url(name) for name in scaled.instances_of("gateway")]
    registries = scaled.instances_of("registry")
    pairs_before = {
        r: await _metric(scaled, r, "tsdx_rpc_calls", method="device.pair", outcome="ok")
        for r in registries
    }
    async with AdminClient(gateways[0], ADMIN_TOKEN) as admin:
        tenant = await admin.create_tenant(f"Масштаб {uuid.uuid4().hex[:6]}")
        terminals = [
            TerminalClient(gateways[n % len(gateways)], timeout=30) for n in range(PAIRED_AT_ONCE)
        ]
        retries: Counter[str] = Counter()
        try:
            paired = await asyncio.gather(
                *(
                    persist(
                        partial(terminal.pair, tenant["connection_code"], f"@SCALE-{n}"),
                        retries=retries,
                    )
                    for n, terminal in enumerate(terminals)
                )
            )
        finally:
            await asyncio.gather(*(t.close() for t in terminals))
        active = await admin.devices(tenant["tenant"], status="active")

    pins = [device["pin"] for device in active]
    print(f"{len(active)} devices paired at once, {sum(retries.values())} client retries")
    assert len({device["device_id"] for device in active}) == PAIRED_AT_ONCE
    assert len(set(pins)) == len(pins) == PAIRED_AT_ONCE
    # What each terminal was told is what the registry holds.
    assert {p["device_id"]: p["pin"] for p in paired} == {d["device_id"]: d["pin"] for d in active}
    pairs = {
        r: await _metric(scaled, r, "tsdx_rpc_calls", method="device.pair", outcome="ok")
        - pairs_before[r]
        for r in registries
    }
    print(f"pairings answered per registry instance: {pairs}")
    assert all(n > 0 for n in pairs.values()), pairs


async def test_one_instance_of_each_killed_the_other_keeps_the_work_going(
    scaled: Stack, loaded: tuple[Load, Witness]
) -> None:
    load, witness = loaded
    killed = [_second(s) for s in WORKERS if _second(s) in scaled.instances]
    try:
        await _more_work(load, uploads=20, finished=20)
        for name in killed:
            scaled.kill(name, signal.SIGKILL)
        # Only one instance of each service is left, and it carries on alone.
        await _more_work(load, uploads=40, finished=40)
        await load.stop_uploads()
        assert all(scaled.processes[name].poll() is not None for name in killed)
        await assert_exactly_once(
            "kill -9 of one of two instances of every worker service", load, witness, scaled
        )
    finally:
        for name in killed:
            if scaled.processes[name].poll() is not None:
                scaled.start(name)
        await asyncio.to_thread(scaled.wait_ready, 60, tuple(killed))


LONG_POLL_WAIT = 30  # the gateway's longest wait (TSDX_LONG_POLL_MAX_SECONDS)


async def test_a_document_stored_by_one_gateway_wakes_the_long_polls_waiting_on_both(
    scaled: Stack,
) -> None:
    """The copy is stored by whichever gateway consumes it; the device waits on both, so one
    of its two polls is woken by the other instance's announcement, not by its own store.
    (A poll that ran out its wait would list the document too: the announcements heard are
    what tells the two apart; tests/unit/gateway/test_inbox_watch.py has them wake polls.)"""
    gateways = scaled.instances_of("gateway")
    announced_before = sum(
        [await _metric(scaled, g, "tsdx_inbox_news", source="announced") for g in gateways]
    )
    async with AdminClient(scaled.url(gateways[0]), ADMIN_TOKEN) as admin:
        tenant = await admin.create_tenant(f"Масштаб {uuid.uuid4().hex[:6]}")
    async with TerminalClient(scaled.url(gateways[0])) as terminal:
        device = await terminal.pair(tenant["connection_code"], f"@SCALE-{uuid.uuid4().hex[:6]}")
    polls = [
        TerminalClient(scaled.url(g), device["credential"], timeout=LONG_POLL_WAIT + 30)
        for g in gateways
    ]
    try:
        # Polls of terminals gone (an earlier test's load) wait out their time on the gateway:
        # once they have, the gauge counts this test's polls alone.
        for gateway in gateways:
            await eventually(
                partial(_gauge, scaled, gateway, "tsdx_long_polls_waiting"),
                until=lambda waiting: waiting == 0,
                timeout=90,
                what=f"no long poll left waiting on {gateway}",
            )
        answers = [asyncio.create_task(p.inbox(wait=LONG_POLL_WAIT)) for p in polls]
        for gateway, answer in zip(gateways, answers, strict=True):

            async def waiting_or_answered(
                gateway: str = gateway, answer: asyncio.Task[dict[str, Any]] = answer
            ) -> float:
                if answer.done():  # answered instead of waiting: say what it was
                    raise AssertionError(f"the poll on {gateway} ended: {await answer!r}")
                return await _gauge(scaled, gateway, "tsdx_long_polls_waiting")

            await eventually(
                waiting_or_answered,
                until=lambda waiting: waiting >= 1,
                timeout=60,
                what=f"the long poll waiting on {gateway}",
            )
        async with AccountingClient(scaled.url(gateways[1]), tenant["api_key"]) as accounting:
            sent = await accounting.upload(upload(by_device(device["device_id"]), order()))
        delivery_id = sent["deliveries"][0]["delivery_id"]
        inboxes = await asyncio.wait_for(asyncio.gather(*answers), timeout=LONG_POLL_WAIT + 30)
    finally:
        await asyncio.gather(*(p.close() for p in polls))
    for inbox in inboxes:
        assert [d["delivery_id"] for d in inbox["documents"]] == [delivery_id]
    announced = sum(
        [await _metric(scaled, g, "tsdx_inbox_news", source="announced") for g in gateways]
    )
    assert announced > announced_before, "no gateway heard the other's announcement"
