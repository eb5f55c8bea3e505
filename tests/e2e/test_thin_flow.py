"""The walking skeleton: pair → upload by PIN → download, and a wrong PIN refused.

Every service runs in its own process on a real RabbitMQ (one vhost per stack).
"""

from __future__ import annotations

import uuid
from typing import Any

import aio_pika
import orjson

from shared.messaging.topology import EVENTS_EXCHANGE
from tests.support.documents import by_pin, order, upload
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, TerminalClient

# Every message type an upload to a terminal may publish, up to its download.
UPLOAD_FLOW = ("upload.requested", "upload.decided", "document.routed", "delivery.progressed")
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
        assert second == {**first, "repeated": True}  # the answer given, said as given again
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


async def test_an_upload_through_its_download_is_three_messages(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    """The request, its copy with routing's decision inside, and the download that stands for
    the delivered step too: counted on the events exchange by a queue of the test's own."""
    base = tenant["tenant"]
    seen: list[tuple[str, dict[str, Any]]] = []
    connection = await aio_pika.connect_robust(stack.env["TSDX_AMQP_URL"])
    try:
        channel = await connection.channel()
        events = await channel.get_exchange(EVENTS_EXCHANGE)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(events, routing_key="#")

        async def watch(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            body = orjson.loads(message.body)
            # The messages of an upload's flow; the pairing's news and the sightings (at most
            # once per device per interval, not with each document) are not the upload's.
            if body["tenant"] == base and body["type"] in UPLOAD_FLOW:
                seen.append((body["type"], body["payload"]))
            await message.ack()

        await queue.consume(watch)
        async with TerminalClient(stack.url("gateway")) as terminal:
            paired = await terminal.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
            answer = await accounting.upload(upload(by_pin(paired["pin"])))
            assert answer["status"] == "accepted", answer
            [delivery] = answer["deliveries"]
            await eventually(terminal.inbox, until=lambda r: r["documents"], what="the copy")
            await terminal.acknowledge(delivery["delivery_id"])
            await eventually(
                lambda: _seen_types(seen),
                until=lambda types: "delivery.progressed" in types,
                what="the download reported",
                timeout=60,
            )
    finally:
        await connection.close()
    assert _types(seen) == ["upload.requested", "document.routed", "delivery.progressed"]
    routed, progressed = seen[1][1], seen[2][1]
    assert routed["decided"]["outcome"] == "accepted"
    assert [c["delivery_id"] for c in routed["copies"]] == [delivery["delivery_id"]]
    assert progressed["state"] == "downloaded" and progressed["delivered_at"]


def _types(seen: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [kind for kind, _ in seen]


async def _seen_types(seen: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return _types(seen)
