"""Who may call, on two gateway instances: a change made through one is obeyed by both.

A waiting long poll ends as soon as its device is blocked, retired or replaced, with a refusal
that names the reason, whichever instance the poll and the change went through; every later
call gets the same refusal. Credentials are held in memory by each instance: a block or a
rotated key made through one instance is obeyed by the other after a broadcast, which this
test waits for (a condition with a deadline) and measures for the performance notes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from shared.i18n import render
from tests.support.broker import AUTH, MANAGEMENT
from tests.support.metrics import metric
from tests.support.stack import ADMIN_TOKEN, free_port, running_stack
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError, TerminalClient

SECOND = "gateway-2"
# The poll waits this long unless ended; the test gives up far sooner (a condition, not timing).
POLL_WAIT = 60
ENDED_WITHIN = 20
CYCLES = 10


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("access"), services=("registry", "routing", "gateway")
    ) as stack:
        stack.start_instance("gateway", SECOND, free_port())
        stack.wait_ready(60, (SECOND,))
        yield stack


@pytest.fixture
async def base(gateways: Stack) -> AsyncIterator[tuple[AdminClient, dict[str, str]]]:
    async with AdminClient(gateways.url("gateway"), ADMIN_TOKEN) as admin:
        yield admin, await admin.create_tenant(f"Доступ {uuid.uuid4().hex[:6]}")


async def _paired(url: str, code: str) -> TerminalClient:
    terminal = TerminalClient(url, timeout=POLL_WAIT + 30)
    await terminal.pair(code, f"@ACCESS-{uuid.uuid4().hex[:8]}", "EDA50")
    return terminal


async def _refusal(call: asyncio.Future[object] | asyncio.Task[object]) -> ApiError:
    try:
        await call
    except ApiError as refused:
        return refused
    raise AssertionError("the call was answered, not refused")


@pytest.mark.parametrize("polled_on", ["gateway", SECOND])
@pytest.mark.parametrize(
    ("change", "code"),
    [("block", "device_blocked"), ("retire", "device_retired"), ("replace", "device_replaced")],
)
async def test_a_waiting_poll_ends_at_once_with_the_reason(
    gateways: Stack,
    base: tuple[AdminClient, dict[str, str]],
    polled_on: str,
    change: str,
    code: str,
) -> None:
    admin, tenant = base
    terminal = await _paired(gateways.url(polled_on), tenant["connection_code"])
    device = terminal.device
    try:
        waiting_before = await metric(gateways.url(polled_on), "tsdx_long_polls_waiting")
        poll = asyncio.create_task(terminal.inbox(wait=POLL_WAIT))
        await eventually(
            lambda: metric(gateways.url(polled_on), "tsdx_long_polls_waiting"),
            until=lambda n: n > waiting_before,
            what="the poll waiting",
        )
        assert not poll.done()
        if change == "block":
            await admin.block_device(tenant["tenant"], device["device_id"])
        elif change == "retire":
            await admin.retire_device(tenant["tenant"], device["device_id"])
        else:
            other = await _paired(gateways.url("gateway"), tenant["connection_code"])
            await other.close()
            await admin.replace_device(
                tenant["tenant"], device["device_id"], other.device["device_id"]
            )

        started = time.monotonic()
        refused = await asyncio.wait_for(_refusal(poll), ENDED_WITHIN)
        print(f"{change}: the waiting poll ended {time.monotonic() - started:.3f} s after")
        assert (refused.status, refused.code) == (401, code)
        assert refused.message == render(code, "ru", {"pin": device["pin"]})

        # The next call, on either instance and in English, says the same.
        for instance in ("gateway", SECOND):
            credential = device["credential"]
            async with TerminalClient(gateways.url(instance), credential, language="en") as again:
                later = await _refusal(asyncio.ensure_future(again.me()))
                assert (later.status, later.code) == (401, code)
                assert later.message == render(code, "en", {"pin": device["pin"]})
    finally:
        await terminal.close()


async def test_a_block_through_one_instance_is_obeyed_by_the_other(
    gateways: Stack, base: tuple[AdminClient, dict[str, str]]
) -> None:
    admin, tenant = base
    terminal = await _paired(gateways.url("gateway"), tenant["connection_code"])
    device_id = terminal.device["device_id"]
    worst = {"blocked": 0.0, "unblocked": 0.0}
    async with TerminalClient(gateways.url(SECOND), terminal.device["credential"]) as on_second:
        try:
            for _ in range(CYCLES):
                await on_second.me()  # held in the second instance's memory now
                await admin.block_device(tenant["tenant"], device_id)
                worst["blocked"] = max(worst["blocked"], await _until_refused(on_second))
                await admin.unblock_device(tenant["tenant"], device_id)
                worst["unblocked"] = max(worst["unblocked"], await _until_accepted(on_second))
        finally:
            await terminal.close()
    print(f"worst delay on the other instance over {CYCLES} changes, s: {worst}")


async def test_a_rotated_key_is_refused_by_the_other_instance(
    gateways: Stack, base: tuple[AdminClient, dict[str, str]]
) -> None:
    admin, tenant = base
    async with AccountingClient(gateways.url(SECOND), tenant["api_key"]) as old_key:
        assert await old_key.devices() == []  # the key held in the second instance's memory
        await admin.rotate_api_key(tenant["tenant"])
        delay = await _until_refused(old_key, "unauthorized")
    print(f"rotated key refused by the other instance after {delay:.3f} s")


async def test_an_instance_cut_from_the_broker_forgets_what_it_held_and_hears_again(
    gateways: Stack, base: tuple[AdminClient, dict[str, str]]
) -> None:
    """News sent while an instance's connection is down never reaches it: on reconnecting it
    drops every credential it held, and the broadcast reaches it again afterwards."""
    admin, tenant = base
    terminal = await _paired(gateways.url("gateway"), tenant["connection_code"])
    log = _log_path(gateways, SECOND)
    since = log.stat().st_size
    async with TerminalClient(gateways.url(SECOND), terminal.device["credential"]) as on_second:
        try:
            await on_second.me()
            closed = await _close_gateway_connections(gateways)
            assert closed >= 2  # both instances' connections, as a network cut would
            await eventually(
                lambda: asyncio.sleep(0, '"access.cache_cleared"' in log.read_text()[since:]),
                timeout=30,
                what="the second instance clearing its credentials",
            )
            # Both back on the broker: the block goes through the first instance, which must
            # announce it before it answers (a 503 until it can).
            for instance in ("gateway", SECOND):
                await eventually(
                    partial(_ready, gateways, instance), timeout=30, what=f"{instance} ready"
                )
            await admin.block_device(tenant["tenant"], terminal.device["device_id"])
            await _until_refused(on_second)
        finally:
            await terminal.close()


def _log_path(stack: Stack, instance: str) -> Path:
    assert stack.log_dir is not None
    return stack.log_dir / f"{instance}.log"


async def _ready(stack: Stack, instance: str) -> bool:
    async with httpx.AsyncClient(timeout=5) as http:
        return (await http.get(f"{stack.url(instance)}/readyz")).status_code == 200


async def _close_gateway_connections(stack: Stack) -> int:
    """Close, through RabbitMQ's management API, the gateways' connections to the stack's own
    virtual host (nothing else of the broker is touched)."""
    vhost = quote(stack.env["TSDX_TEST_VHOST"], safe="")
    async with httpx.AsyncClient(base_url=MANAGEMENT, auth=AUTH, timeout=10) as api:

        async def gateways() -> list[str]:
            listed = (await api.get(f"/vhosts/{vhost}/connections")).json()
            return [
                c["name"]
                for c in listed
                if c.get("client_properties", {}).get("connection_name") == "gateway"
            ]

        # The management API lists a connection once its statistics were first collected.
        names = await eventually(
            gateways, until=lambda found: len(found) >= 2, timeout=30, interval=0.5
        )
        for name in names:
            await api.delete(f"/connections/{quote(name, safe='')}")
    return len(names)


async def _until_refused(
    client: TerminalClient | AccountingClient, code: str = "device_blocked"
) -> float:
    started = time.monotonic()

    async def refused() -> str:
        try:
            if isinstance(client, TerminalClient):
                await client.me()
            else:
                await client.devices()
        except ApiError as error:
            return error.code
        return "answered"

    await eventually(refused, until=lambda c: c == code, interval=0.001, what=f"{code}")
    return time.monotonic() - started


async def _until_accepted(terminal: TerminalClient) -> float:
    started = time.monotonic()

    async def accepted() -> bool:
        try:
            await terminal.me()
        except ApiError:
            return False
        return True

    await eventually(accepted, interval=0.001, what="the device let in again")
    return time.monotonic() - started
