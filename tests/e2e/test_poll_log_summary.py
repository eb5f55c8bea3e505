"""Polls that find nothing are counted and summed up, not logged one by one.

The gateway runs with a one-second summary interval. Empty polls leave no request line of
their own and show up in ``poll.summary`` lines and in ``tsdx_inbox_polls_total``; a poll that
brings a document keeps its line, and a refused poll is always logged.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.documents import by_pin, order, upload
from tests.support.metrics import metric
from tests.support.stack import ADMIN_TOKEN, running_stack
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, TerminalClient

EMPTY_POLLS = 25
INBOX = "/api/v1/terminal/inbox"


@pytest.fixture(scope="module")
def quick_summaries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("summaries"),
        services=("registry", "routing", "gateway"),
        extra_env={"TSDX_LOG_SUMMARY_SECONDS": "1"},
    ) as stack:
        yield stack


def _log_lines(stack: Stack, since: int) -> list[dict[str, Any]]:
    assert stack.log_dir is not None
    with (stack.log_dir / "gateway.log").open("rb") as log:
        log.seek(since)
        text = log.read().decode()
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _log_size(stack: Stack) -> int:
    assert stack.log_dir is not None
    path: Path = stack.log_dir / "gateway.log"
    return path.stat().st_size


async def _polls_counted(stack: Stack, outcome: str) -> float:
    return await metric(stack.url("gateway"), "tsdx_inbox_polls_total", outcome=outcome)


async def test_empty_polls_are_summed_up_and_the_others_keep_their_lines(
    quick_summaries: Stack,
) -> None:
    stack = quick_summaries
    gateway = stack.url("gateway")
    async with AdminClient(gateway, ADMIN_TOKEN) as admin:
        tenant = await admin.create_tenant(f"Опрос {uuid.uuid4().hex[:6]}")
    async with TerminalClient(gateway) as terminal:
        paired = await terminal.pair(tenant["connection_code"], "@SUMMARY-1", "EDA50")
        empty_before = await _polls_counted(stack, "empty")
        since = _log_size(stack)
        credential = {"Authorization": f"Bearer {paired['credential']}"}
        async with httpx.AsyncClient(base_url=gateway, timeout=10) as http:
            for n in range(EMPTY_POLLS):
                answer = await http.get(
                    f"{INBOX}?wait=0", headers={**credential, "X-Correlation-ID": f"empty-{n}"}
                )
                assert answer.json() == {"documents": [], "withdrawn": []}
            refused = await http.get(
                f"{INBOX}?wait=0",
                headers={"Authorization": "Bearer wrong", "X-Correlation-ID": "refused-poll"},
            )
            assert refused.status_code == 401

            async with AccountingClient(gateway, tenant["api_key"]) as accounting:
                sent = await accounting.upload(upload(by_pin(paired["pin"]), order(lines=1)))
            assert sent["status"] == "accepted", sent

            async def news() -> list[Any]:
                answer = await http.get(
                    f"{INBOX}?wait=5", headers={**credential, "X-Correlation-ID": "news-poll"}
                )
                documents: list[Any] = answer.json()["documents"]
                return documents

            await eventually(news, what="the document in the inbox")

    def summed(lines: list[dict[str, Any]]) -> int:
        return sum(int(line.get("empty", 0)) for line in lines if line["event"] == "poll.summary")

    lines = await eventually(
        lambda: asyncio.sleep(0, _log_lines(stack, since)),
        until=lambda found: summed(found) >= EMPTY_POLLS,
        what=f"{EMPTY_POLLS} empty polls in the summaries",
    )
    assert summed(lines) == EMPTY_POLLS
    assert await _polls_counted(stack, "empty") == empty_before + EMPTY_POLLS
    requests = {line["correlation_id"]: line for line in lines if line["event"] == "http.request"}
    assert not [cid for cid in requests if cid.startswith("empty-")]
    assert requests["refused-poll"]["status"] == 401
    assert requests["news-poll"]["status"] == 200
