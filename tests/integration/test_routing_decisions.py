"""Routing's decisions and results at the routing level, with every service in its own process.

Uploads go through the gateway's accounting API; users and groups through its admin API (the
registry answers routing's ``group.members``). The LAN side is checked at routing's edge: the
module runs a stack without the LAN writer, binds a queue of its own in the stack's vhost to
routing's events (``document.routed.lan``…) and publishes what the LAN writer would
(``delivery.progressed``, ``result.submitted`` with ``channel="lan"`` and the user's login), so
these checks do not depend on how the LAN base serves terminals. Master records are read over
routing's RPC (``document.get``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from aio_pika.abc import AbstractIncomingMessage

from shared.contracts import Envelope, Payload, decode
from shared.contracts.results import (
    DeliveryProgressed,
    DocumentCompleted,
    ResultRefused,
    ResultSubmitted,
)
from shared.contracts.uploads import (
    DocumentRouted,
    DocumentWithdrawn,
    UploadDecided,
    UploadRequested,
)
from shared.errors import Refusal
from shared.messaging.broker import Broker
from shared.messaging.rpc import RpcClient
from shared.messaging.topology import EVENTS_EXCHANGE, ROUTING_RPC
from shared.settings import Settings
from tests.support.stack import running_stack
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError, TerminalClient

INVENTORY_TYPE = "Инвентаризация товаров на складе"
RECEIPT_TYPE = "Приходный ордер на товары"
PICKING_TYPE = "Заказ клиента"
TRANSFER_TYPE = "Перемещение товаров"
WATCHED = (
    "upload.decided",
    "document.routed.#",
    "document.withdrawn.*",
    "result.refused.*",
    "document.completed",
)


class RoutingEdge:
    """The test's link to routing through the stack's broker: it sees routing's events, sends
    what a channel would send, and asks routing over RPC."""

    def __init__(self, url: str) -> None:
        # The same retry delays as the stack, so declaring the topology changes nothing.
        self._broker = Broker(Settings(amqp_url=url, retry_delays_ms=[200, 500, 1000]), "test")
        self._rpc = RpcClient(self._broker, "test", 15.0)
        self.seen: list[tuple[Envelope, Payload]] = []

    async def start(self) -> None:
        await self._broker.connect()
        await self._rpc.start()
        channel = self._broker.consume_channel
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        events = await channel.get_exchange(EVENTS_EXCHANGE)
        for key in WATCHED:
            await queue.bind(events, routing_key=key)
        await queue.consume(self._on_event, no_ack=True)

    async def close(self) -> None:
        await self._broker.close()

    async def _on_event(self, message: AbstractIncomingMessage) -> None:
        self.seen.append(decode(message.body))

    def events(self, kind: type[Any], tenant: str, where: Callable[[Any], bool]) -> list[Any]:
        return [p for e, p in self.seen if isinstance(p, kind) and e.tenant == tenant and where(p)]

    async def wait_for(
        self,
        kind: type[Any],
        tenant: str,
        where: Callable[[Any], bool] = lambda p: True,
        count: int = 1,
    ) -> list[Any]:
        async def probe() -> list[Any]:
            return self.events(kind, tenant, where)

        return await eventually(
            probe, until=lambda found: len(found) >= count, what=f"{count} {kind.__name__}"
        )

    async def send(self, payload: Payload, tenant: str) -> None:
        await self._broker.publish(payload, tenant)

    async def document(self, tenant: str, document_id: str) -> dict[str, Any]:
        view: dict[str, Any] = await self._rpc.send(
            ROUTING_RPC, "document.get", {"document_id": document_id}, tenant
        )
        return view

    async def document_state(self, tenant: str, document_id: str, state: str) -> dict[str, Any]:
        return await eventually(
            lambda: self.document(tenant, document_id),
            until=lambda d: d["state"] == state,
            what=f"document {state}",
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's own stack, without the LAN writer: the test plays the LAN side itself,
    and the results it makes up would be strangers to a real LAN base."""
    services = ("registry", "routing", "gateway")
    with running_stack(tmp_path_factory.mktemp("routing"), services) as s:
        yield s


@pytest.fixture
async def edge(stack: Stack) -> AsyncIterator[RoutingEdge]:
    link = RoutingEdge(stack.env["TSDX_AMQP_URL"])
    await link.start()
    yield link
    await link.close()


@pytest.fixture
async def team(admin: AdminClient, tenant: dict[str, str]) -> dict[str, list[str]]:
    """Users and groups of the tenant: two storekeepers, two counters, one user in no group."""
    base = tenant["tenant"]
    groups = {"storekeepers": ["ivanov", "petrov"], "counters": ["sidorov", "kuznetsov"]}
    for login in ("ivanov", "petrov", "sidorov", "kuznetsov", "loner"):
        await admin.create_user(base, login, password="секрет")
    for group, logins in groups.items():
        await admin.create_group(base, group)
        for login in logins:
            await admin.add_member(base, group, login)
    await admin.create_group(base, "nobody")
    return groups


def document(accounting_type: str, lines: int = 2, number: str = "17") -> dict[str, Any]:
    return {
        "header": {"accounting_type": accounting_type, "id": str(uuid.uuid4()), "number": number},
        "lines": [
            {"line_no": n, "product_id": f"p{n}", "name": f"Товар {n}", "planned_qty": str(n * 5)}
            for n in range(1, lines + 1)
        ],
    }


def lan_upload(
    process: str, target: dict[str, Any], *documents: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "request_id": uuid.uuid4().hex,
        "process": process,
        "channel": "lan",
        "target": target,
        "documents": list(documents),
        **extra,
    }


def group(name: str) -> dict[str, Any]:
    return {"kind": "group", "value": name}


def user(login: str) -> dict[str, Any]:
    return {"kind": "user", "value": login}


def fact(line_no: int | None, quantity: str, product: str | None = None) -> dict[str, Any]:
    return {"line_no": line_no, "product_id": product or f"p{line_no}", "quantity": quantity}


async def result(
    edge: RoutingEdge,
    tenant: str,
    delivery_id: str,
    login: str,
    lines: list[dict[str, Any]],
    *,
    final: bool,
) -> str:
    """Send a LAN user's result as the LAN writer does; returns its result id."""
    result_id = uuid.uuid4().hex
    await edge.send(
        ResultSubmitted.model_validate(
            {
                "result_id": result_id,
                "delivery_id": delivery_id,
                "channel": "lan",
                "final": final,
                "lines": lines,
                "user": login,
            }
        ),
        tenant,
    )
    return result_id


def quantities(lines: list[Any]) -> dict[str, Decimal]:
    return {line.product_id: line.quantity for line in lines}


async def test_a_group_with_own_copies_gets_one_copy_per_member(
    edge: RoutingEdge,
    tenant: dict[str, str],
    accounting: AccountingClient,
    team: dict[str, list[str]],
) -> None:
    base = tenant["tenant"]
    counted = document(INVENTORY_TYPE)
    answer = await accounting.upload(lan_upload("inventory-own-copies", group("counters"), counted))
    assert answer["status"] == "accepted", answer
    assert sorted(d["target"]["value"] for d in answer["deliveries"]) == ["kuznetsov", "sidorov"]
    assert {d["target"]["kind"] for d in answer["deliveries"]} == {"user"}

    # One message for the upload: the document once, a copy per member.
    [routed] = await edge.wait_for(
        DocumentRouted, base, lambda r: r.documents[0].header.id == counted["header"]["id"]
    )
    assert len(routed.documents) == 1
    assert sorted(c.target.value or "" for c in routed.copies) == ["kuznetsov", "sidorov"]
    assert routed.channel == "lan" and not any(c.settings.collective for c in routed.copies)

    everyone = await accounting.upload(
        lan_upload("inventory-own-copies", {"kind": "everyone"}, document(INVENTORY_TYPE))
    )
    assert sorted(d["target"]["value"] for d in everyone["deliveries"]) == [
        "ivanov",
        "kuznetsov",
        "loner",
        "petrov",
        "sidorov",
    ]

    for empty in ("nobody", "no-such-group"):
        refused = await accounting.upload(
            lan_upload("inventory-own-copies", group(empty), document(INVENTORY_TYPE))
        )
        assert (refused["status"], refused["code"]) == ("refused", "group_is_empty")
        assert (
            refused["message"] == f"В группе «{empty}» нет пользователей: документы не выгружены."
        )


async def test_a_fixed_assignee_process_admits_only_its_group(
    edge: RoutingEdge,
    tenant: dict[str, str],
    accounting: AccountingClient,
    team: dict[str, list[str]],
) -> None:
    base = tenant["tenant"]
    for target in (group("counters"), user("ivanov"), {"kind": "everyone"}):
        refused = await accounting.upload(
            lan_upload("storekeepers-receipt", target, document(RECEIPT_TYPE))
        )
        assert (refused["status"], refused["code"]) == ("refused", "assignee_not_allowed")
        assert refused["message"] == (
            "Бизнес-процесс «storekeepers-receipt» выгружает документы только для "
            "«storekeepers» или на устройство."
        )

    accepted = await accounting.upload(
        lan_upload("storekeepers-receipt", group("storekeepers"), document(RECEIPT_TYPE))
    )
    assert accepted["status"] == "accepted"
    # Own copies: one per storekeeper.
    assert sorted(d["target"]["value"] for d in accepted["deliveries"]) == ["ivanov", "petrov"]
    [routed] = await edge.wait_for(DocumentRouted, base)
    # Nothing was routed for the refused requests.
    assert (routed.request_id, len(routed.copies)) == (accepted["request_id"], 2)


async def test_a_specific_device_process_picks_the_only_device(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    unnamed = {"kind": "device"}

    def transfer() -> dict[str, Any]:
        return {
            "request_id": uuid.uuid4().hex,
            "process": "device-only",
            "target": unnamed,
            "documents": [document(TRANSFER_TYPE)],
        }

    none = await accounting.upload(transfer())
    assert (none["code"], none["params"]) == ("no_device_available", {"process": "device-only"})

    async with (
        TerminalClient(stack.url("gateway")) as first,
        TerminalClient(stack.url("gateway")) as second,
    ):
        paired = await first.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
        picked = await accounting.upload(transfer())
        assert picked["status"] == "accepted", picked
        [delivery] = picked["deliveries"]
        assert delivery["target"] == {"kind": "device", "value": paired["device_id"]}
        assert delivery["device_pin"] == paired["pin"]

        other = await second.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
        several = await accounting.upload(transfer())
        assert (several["code"], several["params"]["count"]) == ("device_not_chosen", 2)
        assert several["message"] == "Доступно устройств: 2. Выберите устройство для выгрузки."
        named = await accounting.upload(
            transfer() | {"target": {"kind": "device", "value": other["device_id"]}}
        )
        assert named["deliveries"][0]["target"]["value"] == other["device_id"]

    to_group = await accounting.upload(
        transfer() | {"channel": "lan", "target": group("storekeepers")}
    )
    assert to_group["code"] == "device_required"


async def test_a_replayed_request_id_gets_the_same_answer_and_no_second_copy(
    edge: RoutingEdge,
    tenant: dict[str, str],
    accounting: AccountingClient,
    team: dict[str, list[str]],
) -> None:
    base = tenant["tenant"]
    body = lan_upload("inventory-count", group("counters"), document(INVENTORY_TYPE))
    first = await accounting.upload(body)
    assert first["status"] == "accepted"
    assert await accounting.upload(body) == {**first, "repeated": True}  # the same answer

    # An adapter publishing the same request again: routing announces the same decision.
    await edge.send(UploadRequested.model_validate(body), base)
    decided = await edge.wait_for(
        UploadDecided, base, lambda d: d.request_id == body["request_id"], 2
    )
    assert decided[0] == decided[1]
    assert [d.delivery_id for d in decided[1].deliveries] == [
        d["delivery_id"] for d in first["deliveries"]
    ]
    # Routing emits a decision after the copies it makes: none came before the second one.
    assert len(edge.events(DocumentRouted, base, lambda r: True)) == 1
    view = await edge.document(base, body["documents"][0]["header"]["id"])
    assert (view["version"], len(view["copies"])) == (1, 1)


async def test_reupload_replaces_a_copy_not_taken_and_refuses_one_in_work_unless_recalled(
    edge: RoutingEdge,
    tenant: dict[str, str],
    accounting: AccountingClient,
    team: dict[str, list[str]],
) -> None:
    base = tenant["tenant"]
    counted = document(INVENTORY_TYPE, number="0042")
    doc_id = counted["header"]["id"]
    first = await accounting.upload(lan_upload("inventory-count", group("counters"), counted))
    [copy1] = first["deliveries"]
    assert (await edge.document(base, doc_id))["state"] == "queued"
    # The LAN base stored it.
    await edge.send(
        DeliveryProgressed(delivery_id=copy1["delivery_id"], channel="lan", state="delivered"),
        base,
    )
    await edge.document_state(base, doc_id, "delivered")

    second = await accounting.upload(lan_upload("inventory-count", group("counters"), counted))
    assert second["status"] == "accepted"
    [copy2] = second["deliveries"]
    [withdrawn] = await edge.wait_for(DocumentWithdrawn, base)
    assert (withdrawn.delivery_id, withdrawn.reason, withdrawn.channel) == (
        copy1["delivery_id"],
        "replaced",
        "lan",
    )
    view = await edge.document(base, doc_id)
    assert (view["version"], view["state"]) == (2, "queued")
    assert [(c["state"], c["withdrawn_reason"]) for c in view["copies"]] == [
        ("withdrawn", "replaced"),
        ("routed", None),
    ]

    # A user takes the new copy: uploading again is refused, and nothing changes.
    await edge.send(
        DeliveryProgressed(
            delivery_id=copy2["delivery_id"], channel="lan", state="in_progress", by="sidorov"
        ),
        base,
    )
    await edge.document_state(base, doc_id, "in_progress")
    refused = await accounting.upload(lan_upload("inventory-count", group("counters"), counted))
    assert (refused["status"], refused["code"]) == ("refused", "document_in_work")
    assert refused["message"] == (
        "Документ 0042 уже в работе на терминале. Чтобы заменить его новой версией, выгрузите "
        "её с отзывом (recall:true; в модуле ОбменТСД — параметр Отозвать = Истина): "
        "посчитанное по старой версии не вернётся."
    )
    assert (await edge.document(base, doc_id))["version"] == 2

    recalled = await accounting.upload(
        lan_upload("inventory-count", group("counters"), counted, recall=True)
    )
    assert recalled["status"] == "accepted"
    gone = await edge.wait_for(DocumentWithdrawn, base, count=2)
    assert (gone[1].delivery_id, gone[1].reason) == (copy2["delivery_id"], "recalled")
    view = await edge.document(base, doc_id)
    assert (view["version"], view["state"]) == (3, "queued")


async def test_an_internet_reupload_replaces_a_copy_not_downloaded_and_recalls_a_downloaded_one(
    stack: Stack, edge: RoutingEdge, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    base = tenant["tenant"]
    ordered = document("Заказ поставщику", number="0000-000777")
    doc_id = ordered["header"]["id"]

    def again(**extra: Any) -> dict[str, Any]:
        return {
            "request_id": uuid.uuid4().hex,
            "process": "purchase-receipt",
            "target": {"kind": "pin", "value": terminal.device["pin"]},
            "documents": [ordered],
            **extra,
        }

    async with TerminalClient(stack.url("gateway")) as terminal:
        await terminal.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
        [copy1] = (await accounting.upload(again()))["deliveries"]
        second = await accounting.upload(again())
        assert second["status"] == "accepted"
        [copy2] = second["deliveries"]
        inbox = await eventually(lambda: terminal.inbox(), until=lambda r: r["withdrawn"])
        assert inbox["withdrawn"] == [{"delivery_id": copy1["delivery_id"], "reason": "replaced"}]
        assert [(d["delivery_id"], d["version"]) for d in inbox["documents"]] == [
            (copy2["delivery_id"], 2)
        ]
        await terminal.acknowledge(copy1["delivery_id"])  # the withdrawal was seen

        await terminal.download(copy2["delivery_id"])
        await terminal.acknowledge(copy2["delivery_id"])
        await edge.document_state(base, doc_id, "downloaded")
        refused = await accounting.upload(again())
        assert (refused["status"], refused["code"]) == ("refused", "document_in_work")
        assert refused["message"].startswith(
            "Документ 0000-000777 уже в работе на терминале. Чтобы заменить его новой версией"
        )

        recalled = await accounting.upload(again(recall=True))
        assert recalled["status"] == "accepted"
        [copy3] = recalled["deliveries"]
        inbox = await eventually(lambda: terminal.inbox(), until=lambda r: r["withdrawn"])
        assert inbox["withdrawn"] == [{"delivery_id": copy2["delivery_id"], "reason": "recalled"}]
        assert [(d["delivery_id"], d["version"]) for d in inbox["documents"]] == [
            (copy3["delivery_id"], 3)
        ]
        # The recalled copy takes no result.
        with pytest.raises(ApiError) as late:
            await terminal.send_result(copy2["delivery_id"], "late", [fact(1, "1")], final=True)
        assert (late.value.status, late.value.code) == (410, "document_withdrawn")
    # The new copy waits in the inbox; routing learns it was stored with its download.
    view = await edge.document(base, doc_id)
    assert [(c["state"], c["withdrawn_reason"]) for c in view["copies"]] == [
        ("withdrawn", "replaced"),
        ("withdrawn", "recalled"),
        ("routed", None),
    ]


async def test_collective_results_of_two_users_merge_per_line(
    edge: RoutingEdge,
    tenant: dict[str, str],
    accounting: AccountingClient,
    team: dict[str, list[str]],
) -> None:
    base = tenant["tenant"]
    counted = document(INVENTORY_TYPE)
    doc_id = counted["header"]["id"]
    answer = await accounting.upload(lan_upload("inventory-count", group("counters"), counted))
    [copy] = answer["deliveries"]
    [routed] = await edge.wait_for(DocumentRouted, base)
    [shared] = routed.copies  # one copy, shared by the group
    assert shared.settings.collective
    assert shared.target.model_dump() == group("counters")
    delivery = copy["delivery_id"]

    # Sidorov counts, corrects himself (his later result replaces the earlier) and finishes
    # while Kuznetsov still counts: the LAN base sends his result as not completing.
    await result(edge, base, delivery, "sidorov", [fact(1, "1")], final=False)
    await result(
        edge, base, delivery, "sidorov", [fact(1, "3"), fact(None, "2", "extra")], final=False
    )
    await edge.document_state(base, doc_id, "in_progress")
    await result(edge, base, delivery, "kuznetsov", [fact(1, "2"), fact(2, "4")], final=True)

    [completed] = await edge.wait_for(DocumentCompleted, base)
    assert completed.document_id == doc_id
    assert (completed.process, completed.mode) == ("inventory-count", "online")
    assert completed.result_type == INVENTORY_TYPE
    assert quantities(completed.lines) == {
        "p1": Decimal(5),
        "p2": Decimal(4),
        "extra": Decimal(2),
    }
    assert all(line.user is None for line in completed.lines)
    assert completed.per_user == {}  # kept merged
    await edge.document_state(base, doc_id, "completed")

    # The gateway keeps it for the accounting side; loading it closes the document.
    kept = await eventually(accounting.results, what="result")
    assert [(r["document_id"], r["mode"]) for r in kept] == [(doc_id, "online")]
    await accounting.mark_loaded(doc_id)
    await edge.document_state(base, doc_id, "loaded")


async def test_own_copies_complete_together_and_keep_results_per_user(
    edge: RoutingEdge,
    tenant: dict[str, str],
    accounting: AccountingClient,
    team: dict[str, list[str]],
) -> None:
    base = tenant["tenant"]
    counted = document(INVENTORY_TYPE)
    doc_id = counted["header"]["id"]
    answer = await accounting.upload(lan_upload("inventory-own-copies", group("counters"), counted))
    copies = {d["target"]["value"]: d["delivery_id"] for d in answer["deliveries"]}

    await result(edge, base, copies["sidorov"], "sidorov", [fact(1, "3")], final=True)
    await edge.document_state(base, doc_id, "in_progress")  # one of two copies is done
    await result(
        edge, base, copies["kuznetsov"], "kuznetsov", [fact(1, "1"), fact(2, "2")], final=True
    )

    [completed] = await edge.wait_for(DocumentCompleted, base)
    assert quantities(completed.lines) == {"p1": Decimal(4), "p2": Decimal(2)}
    assert {u: quantities(lines) for u, lines in completed.per_user.items()} == {
        "sidorov": {"p1": Decimal(3)},
        "kuznetsov": {"p1": Decimal(1), "p2": Decimal(2)},
    }
    assert {line.user for line in completed.per_user["sidorov"]} == {"sidorov"}

    late = await result(edge, base, copies["sidorov"], "sidorov", [fact(1, "1")], final=True)
    [refused] = await edge.wait_for(ResultRefused, base)
    assert (refused.result_id, refused.code) == (late, "document_already_finished")


async def test_quantity_control_refuses_a_result_above_the_plan(
    edge: RoutingEdge,
    tenant: dict[str, str],
    accounting: AccountingClient,
    team: dict[str, list[str]],
) -> None:
    base = tenant["tenant"]
    picking = document(PICKING_TYPE)  # plans 5 of p1 and 10 of p2
    doc_id = picking["header"]["id"]
    answer = await accounting.upload(lan_upload("picking", user("ivanov"), picking))
    [copy] = answer["deliveries"]
    [routed] = await edge.wait_for(DocumentRouted, base)
    assert routed.copies[0].settings.quantity_control

    over = await result(edge, base, copy["delivery_id"], "ivanov", [fact(2, "11")], final=True)
    [refused] = await edge.wait_for(ResultRefused, base)
    assert (refused.result_id, refused.channel, refused.code) == (over, "lan", "quantity_over_plan")
    assert refused.params == {"line": 2, "product": "p2", "planned": "10", "fact": "11"}
    unknown = await result(
        edge, base, copy["delivery_id"], "ivanov", [fact(None, "1", "p9")], final=True
    )
    refusals = await edge.wait_for(ResultRefused, base, count=2)
    assert (refusals[1].result_id, refusals[1].code) == (unknown, "product_not_in_plan")
    assert (await edge.document(base, doc_id))["state"] == "queued"  # nothing was taken in

    await result(
        edge, base, copy["delivery_id"], "ivanov", [fact(1, "5"), fact(2, "10")], final=True
    )
    [completed] = await edge.wait_for(DocumentCompleted, base)
    assert quantities(completed.lines) == {"p1": Decimal(5), "p2": Decimal(10)}


async def test_the_next_process_starts_when_the_receipt_is_complete(
    edge: RoutingEdge,
    tenant: dict[str, str],
    accounting: AccountingClient,
    team: dict[str, list[str]],
) -> None:
    base = tenant["tenant"]
    received = document(RECEIPT_TYPE)
    received["lines"][0]["extra"] = {"СтрокаЗаказа": "a1b2", "Цена": "89.90"}  # 1C's own
    doc_id = received["header"]["id"]
    answer = await accounting.upload(
        lan_upload("storekeepers-receipt", group("storekeepers"), received)
    )
    copies = {d["target"]["value"]: d["delivery_id"] for d in answer["deliveries"]}
    await result(edge, base, copies["ivanov"], "ivanov", [fact(1, "5")], final=True)
    await result(edge, base, copies["petrov"], "petrov", [fact(2, "7")], final=True)

    # The result's line 1 carries its plan line's own attributes back to 1C.
    [completed] = await edge.wait_for(DocumentCompleted, base)
    assert [line.extra for line in completed.lines] == [
        {"СтрокаЗаказа": "a1b2", "Цена": "89.90"},
        {},
    ]
    follow_up_id = f"{doc_id}:storekeepers-placement"
    [decided] = await edge.wait_for(UploadDecided, base, lambda d: d.request_id == follow_up_id)
    assert decided.outcome == "accepted", decided
    assert decided.process == "storekeepers-placement"
    [placement] = await edge.wait_for(
        DocumentRouted, base, lambda r: r.process == "storekeepers-placement"
    )
    # To the group the receipt was for; the counted quantities are its plan.
    [placed] = placement.copies
    assert (placement.channel, placed.target.model_dump()) == ("lan", group("storekeepers"))
    assert placed.settings.terminal_type == "Размещение"
    [carried] = placement.documents
    planned = carried.model()
    header = planned.header
    assert (header.id, header.accounting_type) == (follow_up_id, RECEIPT_TYPE)
    assert header.extra == {"based_on": doc_id, "based_on_process": "storekeepers-receipt"}
    assert [(line.product_id, line.planned_qty, line.extra) for line in planned.lines] == [
        ("p1", Decimal(5), {"СтрокаЗаказа": "a1b2", "Цена": "89.90"}),
        ("p2", Decimal(7), {}),
    ]
    # The accounting side sees both: the receipt's result and the follow-up's upload. The
    # gateway records the follow-up's answer from routing's event, a moment after routing
    # emitted it: wait for it there.
    status = await eventually(
        lambda: _upload_status(accounting, follow_up_id),
        until=lambda found: found is not None,
        what="the follow-up's upload recorded by the gateway",
    )
    assert status == "accepted"
    assert (await edge.document(base, doc_id))["state"] == "completed"
    assert (await edge.document(base, follow_up_id))["process"] == "storekeepers-placement"


async def _upload_status(accounting: AccountingClient, request_id: str) -> str | None:
    """The upload's status as the accounting side sees it; None while it is unknown there."""
    try:
        answer = await accounting.upload_status(request_id)
    except ApiError as error:
        if error.status == 404:
            return None
        raise
    status: str = answer["status"]
    return status


async def test_the_master_record_follows_an_internet_document_to_loaded(
    stack: Stack, edge: RoutingEdge, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    base = tenant["tenant"]
    ordered = document("Заказ поставщику")
    doc_id = ordered["header"]["id"]
    async with TerminalClient(stack.url("gateway")) as terminal:
        paired = await terminal.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
        answer = await accounting.upload(
            {
                "request_id": uuid.uuid4().hex,
                "process": "purchase-receipt",
                "target": {"kind": "pin", "value": paired["pin"]},
                "documents": [ordered],
            }
        )
        [delivery] = answer["deliveries"]
        delivery_id = delivery["delivery_id"]
        # Stored in the inbox; routing learns it with the download (one message for both).
        await eventually(lambda: terminal.inbox(), until=lambda r: r["documents"])
        view = await edge.document(base, doc_id)
        assert (view["state"], view["copies"][0]["state"]) == ("queued", "routed")
        assert (view["process"], view["channel"]) == ("purchase-receipt", "internet")
        assert view["target"] == {"kind": "pin", "value": paired["pin"]}
        assert [(c["delivery_id"], c["target"]["value"]) for c in view["copies"]] == [
            (delivery_id, paired["device_id"])
        ]

        await terminal.acknowledge(delivery_id)
        await edge.document_state(base, doc_id, "downloaded")
        await terminal.send_result(delivery_id, "r1", [fact(1, "2")], final=False)
        await edge.document_state(base, doc_id, "in_progress")
        await terminal.send_result(delivery_id, "r2", [fact(1, "5"), fact(2, "3")], final=True)
        done = await edge.document_state(base, doc_id, "completed")
        assert done["copies"][0]["state"] == "done"

    [completed] = await edge.wait_for(DocumentCompleted, base)
    assert {line.user for line in completed.lines} == {None}
    assert quantities(completed.lines) == {"p1": Decimal(5), "p2": Decimal(3)}
    await eventually(accounting.results, what="result kept")
    await accounting.mark_loaded(doc_id)
    await edge.document_state(base, doc_id, "loaded")
    assert (await edge.document(base, doc_id))["completed_at"] is not None
    # Another tenant does not see it.
    with pytest.raises(Refusal) as unknown:
        await edge.document("another-base", doc_id)
    assert unknown.value.code == "not_found"
