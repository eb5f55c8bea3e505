"""PIN guessing: after N wrong PINs a minute from one API key the gateway answers 429 with
Retry-After; other bases are not affected; every miss is counted and logged without secrets."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path

import httpx

from shared.settings import Settings
from tests.support.documents import by_device, by_pin, upload
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, TerminalClient

# PINs are never issued with a leading zero, so these miss whatever the base has.
WRONG_PINS = [f"0{n:03d}" for n in range(1, 100)]


def misses_allowed(stack: Stack) -> int:
    configured = stack.env.get("TSDX_PIN_MISSES_PER_MINUTE")
    return int(configured) if configured else Settings.model_fields["pin_misses_per_minute"].default


async def pin_misses_counted(stack: Stack) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{stack.url('routing')}/metrics")).text
    found = re.search(r"^tsdx_pin_misses_total (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_wrong_pins_are_limited_per_api_key_counted_and_logged(
    stack: Stack, tenant: dict[str, str], admin: AdminClient, accounting: AccountingClient
) -> None:
    limit = misses_allowed(stack)
    counted_before = await pin_misses_counted(stack)
    async with TerminalClient(stack.url("gateway")) as terminal:
        mine = await terminal.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")

    for pin in WRONG_PINS[:limit]:
        answer = await accounting.upload(upload(by_pin(pin)))
        assert (answer["status"], answer.get("code")) == ("refused", "device_not_found_by_pin")
    async with httpx.AsyncClient(
        base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {tenant['api_key']}"}
    ) as http:
        throttled = await http.post("/api/v1/uploads", json=upload(by_pin(mine["pin"])))

    # Even a right PIN waits now: the limit is on guessing, not on wrong answers only.
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "too_many_pin_misses"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    # A device picked from the list is not a guess: it still goes through.
    picked = await accounting.upload(upload(by_device(mine["device_id"])))
    assert picked["status"] == "accepted", picked
    # Another base with a right PIN is not affected.
    other = await admin.create_tenant(f"Соседи {uuid.uuid4().hex[:6]}")
    async with TerminalClient(stack.url("gateway")) as theirs:
        paired = await theirs.pair(other["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
    async with AccountingClient(stack.url("gateway"), other["api_key"]) as neighbour:
        assert (await neighbour.upload(upload(by_pin(paired["pin"]))))["status"] == "accepted"
    # Each miss was counted once and logged with the base, never with its key.
    assert await pin_misses_counted(stack) - counted_before == limit
    assert stack.log_dir is not None
    log = stack.log_dir / "routing.log"
    logged = await eventually(
        lambda: _misses_logged(log, tenant["tenant"]),
        until=lambda n: n >= limit,
        what="pin.miss lines in routing's log",
    )
    assert logged == limit
    for service_log in stack.log_dir.glob("*.log"):
        assert tenant["api_key"] not in await _read(service_log)


async def _read(path: Path) -> str:
    return await asyncio.to_thread(path.read_text, errors="replace")


async def _misses_logged(log: Path, tenant: str) -> int:
    lines = (await _read(log)).splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    return sum(e.get("event") == "pin.miss" and e.get("tenant") == tenant for e in events)


async def test_a_burst_of_wrong_pins_sent_at_once_gets_no_more_than_the_limit_decided(
    stack: Stack, tenant: dict[str, str]
) -> None:
    """150 wrong PINs at once from one key: each is counted before it is decided, so no more
    than the limit ever reach routing; the rest are refused at the door with 429."""
    limit = misses_allowed(stack)
    async with httpx.AsyncClient(
        base_url=stack.url("gateway"),
        headers={"Authorization": f"Bearer {tenant['api_key']}"},
        timeout=60,
        limits=httpx.Limits(max_connections=150),
    ) as http:
        answers = await asyncio.gather(
            *(
                http.post("/api/v1/uploads", json=upload(by_pin(f"0{n % 1000:03d}")))
                for n in range(150)
            )
        )
    codes = [answer.json().get("code") for answer in answers]
    decided = codes.count("device_not_found_by_pin")
    assert 1 <= decided <= limit, codes
    assert codes.count("too_many_pin_misses") == 150 - decided, codes
    # Routing decided exactly the guesses let through (its log line per decision), and missed
    # exactly those PINs in its copy of the directory.
    assert stack.log_dir is not None
    log_dir = stack.log_dir
    routed = await eventually(
        lambda: _decisions_logged(log_dir / "routing.log", tenant["tenant"]),
        until=lambda n: n >= decided,
        what="upload.decided lines in routing's log",
    )
    assert routed == decided
    assert await _misses_logged(log_dir / "routing.log", tenant["tenant"]) == decided


async def _decisions_logged(log: Path, tenant: str) -> int:
    lines = (await _read(log)).splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    return sum(e.get("event") == "upload.decided" and e.get("tenant") == tenant for e in events)
