"""Adapters that publish straight to RabbitMQ meet the HTTP edge's limits (documents per
upload, lines per document): past them an upload is parked with the reason. And a large
message does not stall the service: it is decoded off the event loop, so health checks (and
everything else) are answered while it is."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.messaging.topology import ROUTING_WORK
from shared.settings import Settings
from tests.security.helpers import envelope, parked_with_reasons, publish
from tests.support.documents import by_pin, order, upload
from tests.support.stack import running_stack
from tests.support.waiting import eventually
from tools.cli.stack import Stack

LINES = Settings.model_fields["max_lines_per_document"].default
DOCUMENTS = Settings.model_fields["max_documents_per_upload"].default


@pytest.fixture(scope="module")
def limits_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("amqp-limits"), ("registry", "routing")) as s:
        yield s


def _thin(lines: int) -> dict[str, Any]:
    """A document of ``lines`` short lines (the limit is on lines, not on bytes)."""
    document = order(lines=1)
    line = document["lines"][0]
    document["lines"] = [{**line, "line_no": n, "product_id": f"p{n}"} for n in range(1, lines + 1)]
    return document


async def test_uploads_past_the_http_limits_are_parked_with_the_reason(
    limits_stack: Stack,
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    long_one = _thin(LINES + 1)
    many = [order(lines=1) for _ in range(DOCUMENTS + 1)]
    messages = {
        f"lines-{uuid.uuid4().hex[:6]}": envelope(
            "upload.requested", upload(by_pin("0000"), long_one), tenant=tenant
        ),
        f"documents-{uuid.uuid4().hex[:6]}": envelope(
            "upload.requested", upload(by_pin("0000"), *many), tenant=tenant
        ),
    }
    await publish(limits_stack, "upload.requested", messages)
    parked = await parked_with_reasons(limits_stack, ROUTING_WORK.name, set(messages), timeout=60)
    by_kind = {key.split("-")[0]: reason for key, reason in parked.items()}
    assert by_kind == {
        "lines": f"too_many_lines: Too many lines in document {long_one['header']['id']}: "
        f"at most {LINES}.",
        "documents": f"too_many_documents: Too many documents in one upload: at most {DOCUMENTS}.",
    }


async def test_health_is_answered_while_a_maximal_message_is_decoded(limits_stack: Stack) -> None:
    documents = [_thin(LINES) for _ in range(5)]  # within every limit, about 15 MB
    body = await asyncio.to_thread(
        envelope, "upload.requested", upload(by_pin("0000"), *documents), tenant="t-big"
    )
    log = limits_stack.log_dir / "routing.log"  # type: ignore[operator]
    await publish(limits_stack, "upload.requested", {f"big-{uuid.uuid4().hex[:6]}": body})

    await eventually(
        lambda: _logged(log, "message.large_decoding", len(body)),
        until=bool,
        timeout=60,
        what="routing decoding the large message",
    )
    async with httpx.AsyncClient(timeout=60) as http:
        health = await http.get(f"{limits_stack.url('routing')}/healthz")
    assert health.status_code == 200
    # Answered while the message was still being decoded: the loop was not held by it.
    assert await _logged(log, "message.large_decoded", len(body)) == []
    decoded = await eventually(
        lambda: _logged(log, "message.large_decoded", len(body)),
        until=bool,
        timeout=120,
        what="the large message decoded",
    )
    assert decoded[0]["queue"] == ROUTING_WORK.name


async def _logged(log: Path, event: str, size: int) -> list[dict[str, Any]]:
    text = await asyncio.to_thread(log.read_text, errors="replace")
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [e for e in events if e.get("event") == event and e.get("size") == size]
