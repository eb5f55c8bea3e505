"""Routing records a document's journey once per step, whatever the broker redelivers.

The test plays the LAN writer at routing's edge (as test_routing_decisions does): the same
message delivered twice adds no step; the same news sent again by another message
(``delivered``) is still one step; a copy taken, released and taken again by another user
is three steps, each naming its user.
"""

from __future__ import annotations

from typing import Any

from shared.contracts import wrap
from shared.contracts.results import DeliveriesProgressed, DeliveryProgressed, ProgressedCopy
from shared.messaging.topology import ROUTING_RPC
from tests.integration import test_routing_decisions as decisions
from tests.integration.test_routing_decisions import (
    INVENTORY_TYPE,
    RoutingEdge,
    document,
    fact,
    group,
    lan_upload,
    result,
)
from tests.support.waiting import eventually
from tools.client import AccountingClient

# The routing-level stack and the test's link to it, as test_routing_decisions has them.
stack, edge, team = decisions.stack, decisions.edge, decisions.team


async def journey(edge: RoutingEdge, tenant: str, document_id: str) -> dict[str, Any]:
    view: dict[str, Any] = await edge._rpc.send(
        ROUTING_RPC, "document.journey", {"document_id": document_id}, tenant
    )
    return view


async def steps_after(edge: RoutingEdge, tenant: str, document_id: str, count: int) -> list[Any]:
    view = await eventually(
        lambda: journey(edge, tenant, document_id),
        until=lambda v: len(v["timeline"]) >= count,
        what=f"{count} steps",
    )
    return list(view["timeline"])


def progressed(delivery_id: str, state: str, by: str | None = None) -> DeliveryProgressed:
    return DeliveryProgressed.model_validate(
        {"delivery_id": delivery_id, "channel": "lan", "state": state, "by": by}
    )


async def test_each_step_is_recorded_once_however_often_the_broker_delivers_it(
    edge: RoutingEdge,
    accounting: AccountingClient,
    tenant: dict[str, str],
    team: dict[str, list[str]],
) -> None:
    base = tenant["tenant"]
    counted = document(INVENTORY_TYPE, number="ИНВ-7")
    document_id = counted["header"]["id"]
    answer = await accounting.upload(lan_upload("inventory-count", group("counters"), counted))
    assert answer["status"] == "accepted", answer
    [delivery] = answer["deliveries"]
    delivery_id = delivery["delivery_id"]
    await steps_after(edge, base, document_id, 3)

    # The same news twice, in two messages: one step.
    await edge.send(progressed(delivery_id, "delivered"), base)
    await edge.send(progressed(delivery_id, "delivered"), base)
    # One message delivered twice (a redelivery): one step.
    taken = wrap(progressed(delivery_id, "in_progress", "sidorov"), base)
    await edge._broker.publish_envelope(taken, DeliveryProgressed.TYPE)
    await edge._broker.publish_envelope(taken, DeliveryProgressed.TYPE)
    await steps_after(edge, base, document_id, 5)
    await edge.send(progressed(delivery_id, "released", "sidorov"), base)
    await steps_after(edge, base, document_id, 6)
    await edge.send(progressed(delivery_id, "in_progress", "kuznetsov"), base)
    await steps_after(edge, base, document_id, 7)
    await result(edge, base, delivery_id, "kuznetsov", [fact(1, "5")], final=True)

    timeline = await steps_after(edge, base, document_id, 9)
    assert [s["step"] for s in timeline] == [
        "requested",
        "decided",
        "routed",
        "delivered",
        "taken",
        "released",
        "taken",
        "result",
        "completed",
    ]
    assert [s.get("user") for s in timeline if s["step"] in ("taken", "released")] == [
        "sidorov",
        "sidorov",
        "kuznetsov",
    ]
    routed = timeline[2]
    assert routed["target"] == {"kind": "group", "value": "counters"}
    assert routed["channel"] == "lan" and routed["copy"] == "collective"
    assert {s["service"] for s in timeline[3:8]} == {"lan_writer"}
    assert timeline[0]["number"] == "ИНВ-7"


async def test_several_copies_progressed_in_one_message_are_each_recorded_once(
    edge: RoutingEdge,
    accounting: AccountingClient,
    tenant: dict[str, str],
    team: dict[str, list[str]],
) -> None:
    base = tenant["tenant"]
    counted = [document(INVENTORY_TYPE, number=f"ИНВ-{n}") for n in (8, 9)]
    answer = await accounting.upload(lan_upload("inventory-count", group("counters"), *counted))
    assert answer["status"] == "accepted", answer
    copies = {d["document_id"]: d["delivery_id"] for d in answer["deliveries"]}
    assert len(copies) == 2
    for document_id in copies:
        await steps_after(edge, base, document_id, 3)

    # One message about both copies, delivered twice (a redelivery): one step for each.
    together = DeliveriesProgressed(
        channel="lan",
        by="sidorov",
        copies=[ProgressedCopy(delivery_id=d, state="in_progress") for d in copies.values()],
    )
    taken = wrap(together, base)
    await edge._broker.publish_envelope(taken, DeliveriesProgressed.TYPE)
    await edge._broker.publish_envelope(taken, DeliveriesProgressed.TYPE)
    # A later message of one copy: applied after the one about both.
    await edge.send(progressed(copies[counted[0]["header"]["id"]], "released", "sidorov"), base)

    first = await steps_after(edge, base, counted[0]["header"]["id"], 5)
    second = await steps_after(edge, base, counted[1]["header"]["id"], 4)
    assert [s["step"] for s in first] == ["requested", "decided", "routed", "taken", "released"]
    assert [s["step"] for s in second] == ["requested", "decided", "routed", "taken"]
    assert second[-1]["user"] == "sidorov"
    view = await edge.document_state(base, counted[1]["header"]["id"], "in_progress")
    assert view["state"] == "in_progress"


async def test_a_message_of_several_copies_naming_one_unknown_applies_the_others(
    edge: RoutingEdge,
    accounting: AccountingClient,
    tenant: dict[str, str],
    team: dict[str, list[str]],
) -> None:
    base = tenant["tenant"]
    counted = [document(INVENTORY_TYPE, number=f"ИНВ-{n}") for n in (10, 11)]
    answer = await accounting.upload(lan_upload("inventory-count", group("counters"), *counted))
    assert answer["status"] == "accepted", answer
    copies = {d["document_id"]: d["delivery_id"] for d in answer["deliveries"]}
    for document_id in copies:
        await steps_after(edge, base, document_id, 3)

    # A copy routing never made, between the two it did: refused alone, the others applied.
    named = [*copies.values()]
    named.insert(1, "no-such-delivery")
    together = DeliveriesProgressed(
        channel="lan",
        by="sidorov",
        copies=[ProgressedCopy(delivery_id=d, state="in_progress") for d in named],
    )
    await edge.send(together, base)

    for document_id in copies:
        timeline = await steps_after(edge, base, document_id, 4)
        assert [s["step"] for s in timeline] == ["requested", "decided", "routed", "taken"]
        assert timeline[-1]["user"] == "sidorov"
        view = await edge.document_state(base, document_id, "in_progress")
        assert view["state"] == "in_progress"
