"""The walking skeleton: pair → upload by PIN → download, and a wrong PIN refused.

Every service runs in its own process on a real RabbitMQ (one vhost per stack).
"""

from __future__ import annotations

import uuid

from tests.support.documents import by_pin, order, upload
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, TerminalClient

PIN_MESSAGE = "Устройство по пин-коду не найдено! Документы не выгружены в ТСД."


async def test_pair_upload_by_pin_and_download(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with TerminalClient(stack.url("gateway")) as terminal:
        paired = await terminal.pair(
            tenant["connection_code"], "@HONEYWELL-EDA50-V-16204B17A7", "EDA50", "EDA50"
        )
        assert paired["pin"].isdigit() and len(paired["pin"]) == 4
        assert (await terminal.me())["pin"] == paired["pin"]

        document = order(lines=3)
        answer = await accounting.upload(upload(by_pin(paired["pin"]), document))
        assert answer["status"] == "accepted", answer
        [delivery] = answer["deliveries"]
        assert delivery["device_pin"] == paired["pin"]

        inbox = await eventually(
            lambda: terminal.inbox(), until=lambda r: r["documents"], what="document in the inbox"
        )
        [item] = inbox["documents"]
        assert item["delivery_id"] == delivery["delivery_id"]
        downloaded = await terminal.download(item["delivery_id"])
        assert downloaded["document"]["header"]["id"] == document["header"]["id"]
        assert [line["product_id"] for line in downloaded["document"]["lines"]] == [
            "prod-1",
            "prod-2",
            "prod-3",
        ]
        assert downloaded["document"]["lines"][2]["planned_qty"] == "6"
        await terminal.acknowledge(item["delivery_id"])
        assert (await terminal.inbox())["documents"][0]["state"] == "downloaded"


async def test_wrong_pin_is_refused_and_nothing_is_delivered(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with TerminalClient(stack.url("gateway")) as terminal:
        paired = await terminal.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
        wrong = "1" + paired["pin"][1:] if paired["pin"][0] != "1" else "2" + paired["pin"][1:]
        answer = await accounting.upload(upload(by_pin(wrong)))
        assert answer["status"] == "refused"
        assert answer["code"] == "device_not_found_by_pin"
        assert answer["message"] == PIN_MESSAGE
        # Nothing may follow the refusal. A later upload to the terminal goes the same way
        # (routing, then the gateway); once it has arrived, anything the refused one had wrongly
        # sent would have arrived too.
        marker = await accounting.upload(upload(by_pin(paired["pin"])))
        assert marker["status"] == "accepted", marker
        inbox = await eventually(
            terminal.inbox, until=lambda r: r["documents"], what="the later upload delivered"
        )
        assert [d["delivery_id"] for d in inbox["documents"]] == [
            marker["deliveries"][0]["delivery_id"]
        ]
        # The picker list names the device addressed by its right PIN only.
        assert [d["device_id"] for d in await accounting.devices()] == [paired["device_id"]]


async def test_same_request_id_gives_the_same_answer_and_one_delivery(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with TerminalClient(stack.url("gateway")) as terminal:
        paired = await terminal.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
        body = upload(by_pin(paired["pin"]))
        first = await accounting.upload(body)
        second = await accounting.upload(body)
        assert first == second
        assert first["status"] == "accepted"
        # A later upload goes the same way: once it is in, a second copy of the first would be.
        marker = await accounting.upload(upload(by_pin(paired["pin"])))
        expected = {first["deliveries"][0]["delivery_id"], marker["deliveries"][0]["delivery_id"]}
        inbox = await eventually(
            terminal.inbox,
            until=lambda r: expected <= {d["delivery_id"] for d in r["documents"]},
            what="both uploads delivered",
        )
        assert sorted(d["delivery_id"] for d in inbox["documents"]) == sorted(expected)
