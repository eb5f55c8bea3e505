"""An adapter that is not Python: Debian's ``amqp-publish`` sends an ``upload.requested``
envelope, built here as plain JSON after docs/amqp-contract.md, straight to ``tsdx.events``;
the document reaches the terminal and the answer is recorded."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from tests.support.documents import PURCHASE, order
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, ApiError, TerminalClient

AMQP_PUBLISH = shutil.which("amqp-publish")
SCHEMA = Path(__file__).parents[2] / "docs" / "schemas" / "upload.requested.v1.json"

pytestmark = pytest.mark.skipif(
    AMQP_PUBLISH is None,
    reason="amqp-publish is not installed (Debian package amqp-tools; scripts/setup.sh --test)",
)


def envelope(tenant: str, request_id: str, target: dict[str, Any], document: dict[str, Any]) -> str:
    return json.dumps(
        {
            "id": uuid.uuid4().hex,
            "type": "upload.requested",
            "version": 1,
            "time": datetime.now(UTC).isoformat(),
            "tenant": tenant,
            "correlation_id": f"amqp-tools-{request_id}",
            "payload": {
                "request_id": request_id,
                "process": PURCHASE,
                "channel": "internet",
                "target": target,
                "documents": [document],
            },
        },
        ensure_ascii=False,
    )


async def amqp_publish(stack: Stack, body: str) -> None:
    assert AMQP_PUBLISH is not None
    proc = await asyncio.create_subprocess_exec(
        AMQP_PUBLISH,
        "--url", stack.env["TSDX_AMQP_URL"],
        "--exchange", "tsdx.events",
        "--routing-key", "upload.requested",
        "--persistent",
        "--content-type", "application/json",
        "--body", body,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, (out + err).decode()


async def decision(accounting: AccountingClient, request_id: str) -> dict[str, Any] | None:
    try:
        return await accounting.upload_status(request_id)
    except ApiError as exc:
        if exc.status == 404:  # not decided yet: routing's answer has not arrived
            return None
        raise


async def test_amqp_publish_upload_reaches_the_terminal_once(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with TerminalClient(stack.url("gateway")) as terminal:
        paired = await terminal.pair(tenant["connection_code"], "@HONEYWELL-EDA50-V-AMQP", "EDA50")
        pin = {"kind": "pin", "value": paired["pin"]}
        document = order(lines=2, number="AMQP-1")
        request_id = f"erp-{uuid.uuid4().hex[:8]}"
        body = envelope(tenant["tenant"], request_id, pin, document)
        assert jsonschema_rs.validator_for(json.loads(SCHEMA.read_text())).is_valid(
            json.loads(body)
        )

        await amqp_publish(stack, body)
        inbox = await eventually(
            terminal.inbox, until=lambda r: r["documents"], what="the document in the inbox"
        )
        [item] = inbox["documents"]
        assert (item["document_id"], item["number"]) == (document["header"]["id"], "AMQP-1")
        answer = await eventually(
            lambda: decision(accounting, request_id), what="the recorded decision"
        )
        assert answer is not None and answer["status"] == "accepted"
        assert [d["device_pin"] for d in answer["deliveries"]] == [paired["pin"]]

        # The same message again, and the same request in a new message: one delivery still.
        await amqp_publish(stack, body)
        await amqp_publish(stack, envelope(tenant["tenant"], request_id, pin, document))
        marker = order(number="MARKER")
        await amqp_publish(stack, envelope(tenant["tenant"], uuid.uuid4().hex, pin, marker))
        inbox = await eventually(
            terminal.inbox,
            until=lambda r: any(d["number"] == "MARKER" for d in r["documents"]),
            what="the marker",
        )
        assert sorted(d["number"] for d in inbox["documents"]) == ["AMQP-1", "MARKER"]


async def test_amqp_publish_wrong_pin_is_answered_refused(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    request_id = f"erp-{uuid.uuid4().hex[:8]}"
    body = envelope(tenant["tenant"], request_id, {"kind": "pin", "value": "0000"}, order())
    await amqp_publish(stack, body)
    answer = await eventually(lambda: decision(accounting, request_id), what="the decision")
    assert answer is not None
    assert (answer["status"], answer["code"]) == ("refused", "device_not_found_by_pin")
    assert answer["message"] == "Устройство по пин-коду не найдено! Документы не выгружены в ТСД."
