"""The terminal API end to end: long poll, results (partial, final, refused, sent twice),
online results pushed as events, recall of a document in work, last seen.

Every service runs in its own process on a real RabbitMQ (one vhost per stack).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage

from shared.contracts import Envelope, decode
from shared.contracts.results import DocumentCompleted
from shared.messaging.topology import EVENTS_EXCHANGE
from tests.support.documents import by_device, by_pin, order, upload
from tests.support.metrics import metric
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, ApiError, TerminalClient


@asynccontextmanager
async def paired(
    stack: Stack, tenant: dict[str, str], *, language: str = "ru", **kwargs: Any
) -> AsyncIterator[TerminalClient]:
    terminal = TerminalClient(stack.url("gateway"), language=language)
    try:
        await terminal.pair(
            tenant["connection_code"], f"@HONEYWELL-EDA50-V-{uuid.uuid4().hex[:8]}", **kwargs
        )
        yield terminal
    finally:
        await terminal.close()


class CompletedEvents:
    """``document.completed`` as an outside adapter sees it: a queue of its own on the broker."""

    def __init__(self) -> None:
        self.received: list[tuple[Envelope, DocumentCompleted]] = []

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        envelope, payload = decode(message.body)
        assert isinstance(payload, DocumentCompleted)
        self.received.append((envelope, payload))

    async def of(self, document_id: str) -> list[tuple[Envelope, DocumentCompleted]]:
        return [(e, p) for e, p in self.received if p.document_id == document_id]


@pytest.fixture
async def completed_events(stack: Stack) -> AsyncIterator[CompletedEvents]:
    connection = await aio_pika.connect_robust(stack.env["TSDX_AMQP_URL"])
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(EVENTS_EXCHANGE, routing_key="document.completed")
        events = CompletedEvents()
        await queue.consume(events.on_message, no_ack=True)
        yield events
    finally:
        await connection.close()


def facts(*quantities: str) -> list[dict[str, Any]]:
    return [
        {"line_no": n, "product_id": f"prod-{n}", "barcode": f"46000000{n:05d}", "quantity": q}
        for n, q in enumerate(quantities, start=1)
    ]


async def _delivered(
    accounting: AccountingClient, terminal: TerminalClient, document: dict[str, Any]
) -> str:
    """Upload one document to the terminal by its PIN, wait for it in the inbox: its delivery."""
    answer = await accounting.upload(upload(by_pin(terminal.device["pin"]), document))
    assert answer["status"] == "accepted", answer
    delivery_id: str = answer["deliveries"][0]["delivery_id"]
    await eventually(
        terminal.inbox,
        until=lambda r: delivery_id in [d["delivery_id"] for d in r["documents"]],
        what="the document in the inbox",
    )
    return delivery_id


async def test_long_poll_wakes_when_a_document_arrives(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    gateway = stack.url("gateway")
    async with paired(stack, tenant) as terminal:
        assert (await terminal.inbox())["documents"] == []
        started = time.monotonic()
        poll = asyncio.create_task(terminal.inbox(wait=20))
        await eventually(
            lambda: metric(gateway, "tsdx_long_polls_waiting"),
            until=lambda waiting: waiting >= 1,
            what="the long poll waiting",
        )
        assert not poll.done()
        answer = await accounting.upload(upload(by_pin(terminal.device["pin"])))
        inbox = await asyncio.wait_for(poll, timeout=60)
        returned_after = time.monotonic() - started
        assert [d["delivery_id"] for d in inbox["documents"]] == [
            answer["deliveries"][0]["delivery_id"]
        ]
        assert inbox["documents"][0]["state"] == "waiting"
        assert returned_after < 20, "the long poll ran out its wait instead of waking"


async def test_long_poll_answers_at_once_when_the_terminal_is_behind(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with paired(stack, tenant) as terminal:
        delivery_id = await _delivered(accounting, terminal, document=order())
        await terminal.acknowledge(delivery_id)
        # One document, acknowledged; a terminal that knows of none gets it without waiting.
        started = time.monotonic()
        inbox = await terminal.inbox(wait=20, known=0)
        assert time.monotonic() - started < 20
        assert [(d["delivery_id"], d["state"]) for d in inbox["documents"]] == [
            (delivery_id, "downloaded")
        ]


async def test_partial_then_final_result_of_an_online_device_is_pushed_as_an_event(
    stack: Stack,
    tenant: dict[str, str],
    accounting: AccountingClient,
    completed_events: CompletedEvents,
) -> None:
    async with paired(stack, tenant, mode="online") as terminal:
        document = order(lines=2)  # planned 2 and 4
        delivery_id = await _delivered(accounting, terminal, document=document)
        downloaded = await terminal.download(delivery_id)
        assert downloaded["version"] == 1
        assert downloaded["settings"]["mode"] == "online"
        assert (await terminal.acknowledge(delivery_id))["state"] == "downloaded"

        partial = await terminal.send_result(delivery_id, "r-1", facts("1"), final=False)
        assert (partial["status"], partial["duplicate"], partial["refusal"]) == (
            "received",
            False,
            None,
        )
        [item] = (await terminal.inbox(known=1))["documents"]
        assert item["state"] == "in_progress"

        final = await terminal.send_result(delivery_id, "r-2", facts("2", "3.5"), final=True)
        assert final["final"] is True
        document_id = document["header"]["id"]
        [(envelope, completed)] = await eventually(
            lambda: completed_events.of(document_id), what="document.completed on the broker"
        )
        assert envelope.tenant == tenant["tenant"]
        assert completed.mode == "online"
        assert completed.header.number == document["header"]["number"]
        assert [(line.line_no, line.quantity) for line in completed.lines] == [
            (1, Decimal(2)),
            (2, Decimal("3.5")),
        ]
        # Finished: it leaves the inbox.
        assert (await terminal.inbox())["documents"] == []


async def test_a_result_sent_again_is_applied_once(
    stack: Stack,
    tenant: dict[str, str],
    accounting: AccountingClient,
    completed_events: CompletedEvents,
) -> None:
    routing = stack.url("routing")
    async with paired(stack, tenant) as terminal:
        document = order(lines=1)
        delivery_id = await _delivered(accounting, terminal, document=document)
        await terminal.acknowledge(delivery_id)
        before = await metric(
            routing, "tsdx_messages_handled_total", service="routing", type="result.submitted"
        )
        first = await terminal.send_result(delivery_id, "r-final", facts("2"), final=True)
        # The terminal lost the answer and sends the same result again (even changed).
        again = await terminal.send_result(delivery_id, "r-final", facts("7"), final=True)
        assert first["duplicate"] is False
        assert again["duplicate"] is True
        assert again["status"] == "received"

        await eventually(
            lambda: completed_events.of(document["header"]["id"]),
            what="document.completed on the broker",
        )
        handled = await eventually(
            lambda: metric(
                routing, "tsdx_messages_handled_total", service="routing", type="result.submitted"
            ),
            until=lambda n: n >= before + 1,
        )
        assert handled == before + 1, "the result reached routing twice"
        [(_, completed)] = await completed_events.of(document["header"]["id"])
        assert completed.lines[0].quantity == Decimal(2)
        status = await terminal.result_status(delivery_id, "r-final")
        assert (status["status"], status["refusal"]) == ("received", None)
        # A new result for a finished copy is refused; the same id is still answered.
        with pytest.raises(ApiError) as finished:
            await terminal.send_result(delivery_id, "r-late", facts("1"), final=True)
        assert (finished.value.status, finished.value.code) == (409, "document_already_finished")
        # An acknowledgement sent again changes nothing and tells the copy's state.
        assert (await terminal.acknowledge(delivery_id))["state"] == "done"


def picking_order(planned: str) -> dict[str, Any]:
    document = order(lines=1)
    document["header"]["accounting_type"] = "Заказ клиента"
    document["lines"][0]["planned_qty"] = planned
    return document


async def test_quantity_control_refusal_comes_back_in_the_terminals_language(
    stack: Stack,
    tenant: dict[str, str],
    accounting: AccountingClient,
    completed_events: CompletedEvents,
) -> None:
    async with paired(stack, tenant, language="en") as terminal:
        document = picking_order("2")
        answer = await accounting.upload(
            upload(by_pin(terminal.device["pin"]), document, process="picking")
        )
        assert answer["status"] == "accepted", answer
        delivery_id = answer["deliveries"][0]["delivery_id"]
        await eventually(terminal.inbox, until=lambda r: r["documents"])
        assert (await terminal.download(delivery_id))["settings"]["quantity_control"] is True
        await terminal.acknowledge(delivery_id)

        sent = await terminal.send_result(delivery_id, "r-over", facts("5"), final=True)
        assert sent["status"] == "received"  # taken; routing decides
        refused = await eventually(
            lambda: terminal.result_status(delivery_id, "r-over"),
            until=lambda r: r["status"] == "refused",
            what="the refusal of the result",
        )
        assert refused["refusal"]["code"] == "quantity_over_plan"
        assert refused["refusal"]["message"] == "Line 1: quantity 5 is above the plan of 2."
        assert refused["refusal"]["result_id"] == "r-over"

        # The inbox shows the copy back in work with the reason, in the caller's language.
        [item] = (await terminal.inbox(known=1))["documents"]
        assert item["state"] == "in_progress"
        assert item["refusal"]["code"] == "quantity_over_plan"
        async with TerminalClient(stack.url("gateway"), terminal.device["credential"]) as ru:
            [in_russian] = (await ru.inbox(known=1))["documents"]
            assert in_russian["refusal"]["message"] == "Строка 1: количество 5 больше плана 2."

        corrected = await terminal.send_result(delivery_id, "r-ok", facts("2"), final=True)
        assert corrected["status"] == "received"
        [(_, completed)] = await eventually(
            lambda: completed_events.of(document["header"]["id"]),
            what="the corrected document completed",
        )
        assert completed.lines[0].quantity == Decimal(2)
        assert (await terminal.result_status(delivery_id, "r-ok"))["status"] == "received"
        assert (await terminal.inbox())["documents"] == []


async def test_a_document_in_work_is_refused_unless_recalled_and_the_old_copy_withdrawn(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    routing = stack.url("routing")
    async with paired(stack, tenant) as terminal:
        document = order(lines=2, number="0000-000777")
        first = await _delivered(accounting, terminal, document=document)
        await terminal.download(first)
        taken = await metric(
            routing, "tsdx_messages_handled_total", service="routing", type="delivery.progressed"
        )
        await terminal.acknowledge(first)
        await eventually(
            lambda: metric(
                routing,
                "tsdx_messages_handled_total",
                service="routing",
                type="delivery.progressed",
            ),
            until=lambda n: n >= taken + 1,
            what="routing told the copy was downloaded",
        )

        target = by_device(terminal.device["device_id"])
        in_work = await accounting.upload(upload(target, document))
        assert in_work["status"] == "refused"
        assert in_work["code"] == "document_in_work"
        assert "0000-000777" in in_work["message"]
        assert [d["delivery_id"] for d in (await terminal.inbox(known=1))["documents"]] == [first]

        recall = {**upload(target, document), "recall": True}
        recalled = await accounting.upload(recall)
        assert recalled["status"] == "accepted", recalled
        second = recalled["deliveries"][0]["delivery_id"]

        inbox = await eventually(
            lambda: terminal.inbox(known=1),
            until=lambda r: r["withdrawn"] and r["documents"],
            what="the withdrawal and the new copy",
        )
        assert inbox["withdrawn"] == [{"delivery_id": first, "reason": "recalled"}]
        assert [d["delivery_id"] for d in inbox["documents"]] == [second]
        with pytest.raises(ApiError) as gone:
            await terminal.download(first)
        assert (gone.value.status, gone.value.code) == (410, "document_withdrawn")
        with pytest.raises(ApiError) as late:
            await terminal.send_result(first, "r-old", facts("1"), final=True)
        assert late.value.code == "document_withdrawn"

        assert (await terminal.acknowledge(first))["state"] == "withdrawal_seen"
        assert (await terminal.acknowledge(first))["state"] == "withdrawal_seen"  # sent again
        assert (await terminal.inbox(known=1))["withdrawn"] == []
        new_copy = await terminal.download(second)
        assert new_copy["version"] == 2
        assert new_copy["document"]["header"]["id"] == document["header"]["id"]


async def test_a_document_not_yet_downloaded_is_replaced_without_recall(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with paired(stack, tenant) as terminal:
        document = order(lines=1)
        first = await _delivered(accounting, terminal, document=document)
        again = await accounting.upload(upload(by_pin(terminal.device["pin"]), document))
        assert again["status"] == "accepted", again
        second = again["deliveries"][0]["delivery_id"]
        inbox = await eventually(
            terminal.inbox,
            until=lambda r: r["withdrawn"] and second in [d["delivery_id"] for d in r["documents"]],
            what="the old copy replaced",
        )
        assert inbox["withdrawn"] == [{"delivery_id": first, "reason": "replaced"}]
        assert [d["delivery_id"] for d in inbox["documents"]] == [second]


async def test_another_devices_copy_is_invisible(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with paired(stack, tenant) as owner, paired(stack, tenant) as other:
        delivery_id = await _delivered(accounting, owner, document=order())
        for call in (
            other.download(delivery_id),
            other.acknowledge(delivery_id),
            other.send_result(delivery_id, "r-1", facts("1"), final=False),
            other.result_status(delivery_id, "r-1"),
        ):
            with pytest.raises(ApiError) as hidden:
                await call
            assert (hidden.value.status, hidden.value.code) == (404, "not_found")
        assert (await owner.download(delivery_id))["delivery_id"] == delivery_id


async def test_a_terminals_contact_shows_as_last_seen_in_the_device_list(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with paired(stack, tenant) as terminal:
        await _delivered(accounting, terminal, document=order())
        [listed] = await accounting.devices()
        assert listed["last_seen"] is not None
        assert await metric(stack.url("gateway"), "tsdx_devices_online") >= 1


async def test_the_inbox_refuses_a_bad_query_or_credential_and_changes_nothing(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with paired(stack, tenant, language="en") as terminal:
        delivery_id = await _delivered(accounting, terminal, document=order())
        credential = terminal.device["credential"]
        url = f"{stack.url('gateway')}/api/v1/terminal/inbox"
        async with httpx.AsyncClient(timeout=10) as http:
            for query, field in (
                ("wait=-1", "query.wait"),
                ("wait=61", "query.wait"),
                ("wait=soon", "query.wait"),
                ("known=-1", "query.known"),
                ("known=2.5", "query.known"),
            ):
                answer = await http.get(
                    f"{url}?{query}", headers={"Authorization": f"Bearer {credential}"}
                )
                assert answer.status_code == 422, query
                body = answer.json()
                assert body["code"] == "validation_error", query
                assert [e["field"] for e in body["errors"]] == [field], query
            for authorization in (None, "Bearer", f"Basic {credential}", "Bearer wrong"):
                headers = {"Authorization": authorization} if authorization else {}
                answer = await http.get(f"{url}?wait=0", headers=headers)
                assert answer.status_code == 401, authorization
                assert answer.json()["code"] == "unauthorized"
        # None of it touched the inbox: the document still waits, unacknowledged.
        listed = await terminal.inbox()
        assert [(d["delivery_id"], d["state"]) for d in listed["documents"]] == [
            (delivery_id, "waiting")
        ]
