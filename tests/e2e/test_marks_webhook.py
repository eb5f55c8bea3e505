"""Marking codes reach the accounting side in the webhook's push too (the body is the same
result ``GET /api/v1/results/{id}`` serves)."""

from __future__ import annotations

import uuid

from tests.e2e.test_gateway_webhooks import Receiver, base, hook_stack, paired, receiving
from tests.support.documents import by_pin, order, upload
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient

__all__ = ["base", "hook_stack"]  # fixtures used here

MILK = "0104601234567893215Nq+g/\x1d93dGVz"
WATER = "010460123456789321JgXJ5.T0a1Bc\x1d93a9Z+"


async def test_a_pushed_result_carries_the_marks_of_its_lines(
    hook_stack: Stack, base: tuple[dict[str, str], AccountingClient]
) -> None:
    tenant, accounting = base
    async with receiving(Receiver()) as receiver:
        await accounting.set_webhook(receiver.url)
        async with paired(hook_stack, tenant, "online") as terminal:
            document = order(lines=1)
            answer = await accounting.upload(upload(by_pin(terminal.device["pin"]), document))
            delivery_id = answer["deliveries"][0]["delivery_id"]
            await eventually(terminal.inbox, until=lambda r: r["documents"])
            lines = [
                {"line_no": 1, "product_id": "prod-1", "quantity": "2", "marks": [MILK, WATER]}
            ]
            await terminal.send_result(delivery_id, uuid.uuid4().hex, lines, final=True)
        await eventually(receiver.count, until=lambda n: n >= 1, what="the push")
        pushed = receiver.pushes[0].json()
    assert pushed["document"]["document_id"] == document["header"]["id"]
    assert [line["marks"] for line in pushed["document"]["result"]["lines"]] == [[MILK, WATER]]
