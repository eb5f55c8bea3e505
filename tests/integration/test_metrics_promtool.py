"""Every service's ``/metrics`` passes ``promtool check metrics`` after real traffic.

promtool comes with Debian's ``prometheus`` package (scripts/setup.sh --test installs it).
"""

from __future__ import annotations

import asyncio
import shutil
import uuid

import httpx
import pytest

from tests.support.documents import by_pin, order, upload
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, TerminalClient

PROMTOOL = shutil.which("promtool")


async def make_traffic(stack: Stack, tenant: dict[str, str], accounting: AccountingClient) -> None:
    """Pair, upload by PIN, a wrong PIN, download and send a final result: every service works."""
    async with TerminalClient(stack.url("gateway")) as terminal:
        paired = await terminal.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
        document = order(lines=2)
        answer = await accounting.upload(upload(by_pin(paired["pin"]), document))
        assert answer["status"] in ("accepted", "pending"), answer
        wrong = ("1" if paired["pin"][0] != "1" else "2") + paired["pin"][1:]
        await accounting.upload(upload(by_pin(wrong)))
        inbox = await eventually(lambda: terminal.inbox(), until=lambda r: r["documents"])
        delivery = inbox["documents"][0]["delivery_id"]
        copy = await terminal.download(delivery)
        await terminal.acknowledge(delivery)
        lines = [
            {"line_no": line["line_no"], "product_id": line["product_id"], "quantity": "1"}
            for line in copy["document"]["lines"]
        ]
        await terminal.send_result(delivery, uuid.uuid4().hex, lines, final=True)
        await eventually(
            lambda: accounting.results(),
            until=lambda r: any(x.get("document_id") == document["header"]["id"] for x in r),
            what="the finished document back on the accounting side",
        )


async def scrape(stack: Stack) -> dict[str, str]:
    async with httpx.AsyncClient(timeout=10) as http:
        texts = {}
        for name in stack.services:
            response = await http.get(f"{stack.url(name)}/metrics")
            assert response.status_code == 200, (name, response.status_code)
            texts[name] = response.text
        return texts


async def promtool_check(text: str) -> tuple[int, str]:
    assert PROMTOOL is not None
    process = await asyncio.create_subprocess_exec(
        PROMTOOL,
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(text.encode()), timeout=60)
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


@pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is absent: install Debian's prometheus package (scripts/setup.sh --test)",
)
async def test_every_services_metrics_pass_promtool(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    await make_traffic(stack, tenant, accounting)
    texts = await scrape(stack)
    assert set(texts) == set(stack.services)
    problems = {}
    for name, text in texts.items():
        assert "# TYPE tsdx_" in text, f"{name} exposes no tsdx metric"
        code, output = await promtool_check(text)
        if code != 0:
            problems[name] = output
    assert not problems, problems
