"""Marking codes («Честный ЗНАК») travel with the fact lines end to end: from the internet
and the LAN terminal APIs, through routing's merging of collective work, to the completed
result the accounting side reads and the ``document.completed`` event adapters get.

Every service runs in its own process on a real RabbitMQ (one vhost per stack).
"""

from __future__ import annotations

from typing import Any

from shared.cli.stack import Stack
from shared.client import AccountingClient, ApiError
from tests.e2e.test_gateway_terminal import CompletedEvents, _delivered, completed_events, paired
from tests.e2e.test_lan_base import (
    INVENTORY_TYPE,
    Base,
    base,
    completed,
    deliver,
    document_of,
    listed,
    to_group,
)
from tests.support.documents import order
from tests.support.waiting import eventually

__all__ = ["base", "completed_events"]  # fixtures used here

GS = "\x1d"
GTIN = "04601234567893"
CRYPTO = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/=abcde"
SHOES_1 = f"01{GTIN}21a5Yz8JkL0pQ2w{GS}91EE06{GS}92{CRYPTO}"
SHOES_2 = f"01{GTIN}21b6Zx9HjK1oR3e{GS}91EE06{GS}92{CRYPTO}"
SHOES_3 = f"01{GTIN}21c7Xw0GhJ2iT4r{GS}91EE06{GS}92{CRYPTO}"


def marked(line_no: int, marks: list[str]) -> dict[str, Any]:
    return {
        "line_no": line_no,
        "product_id": f"prod-{line_no}",
        "quantity": str(len(marks)),
        "marks": marks,
    }


async def test_marks_sent_by_a_terminal_reach_the_result_and_the_event(
    stack: Stack,
    tenant: dict[str, str],
    accounting: AccountingClient,
    completed_events: CompletedEvents,
) -> None:
    document = order(lines=2)
    async with paired(stack, tenant, language="en") as terminal:
        delivery_id = await _delivered(accounting, terminal, document)
        # The same physical code twice (once without its separators) is refused whole.
        repeated = [marked(1, [SHOES_1, SHOES_2]), marked(2, [SHOES_1.replace(GS, "")])]
        try:
            await terminal.send_result(delivery_id, "r-1", repeated, final=True)
            raise AssertionError("a repeated marking code was accepted")
        except ApiError as error:
            assert (error.status, error.code) == (422, "mark_repeated")
            assert f"01{GTIN}21a5Yz8JkL0pQ2w" in error.message
        assert (await terminal.inbox())["documents"][0]["state"] != "done"  # nothing changed

        lines = [marked(1, [SHOES_1, SHOES_2]), marked(2, [SHOES_3])]
        answer = await terminal.send_result(delivery_id, "r-2", lines, final=True)
        assert answer["accepted"] is True

    result = await completed(accounting, document)
    got = {line["line_no"]: line["marks"] for line in result["result"]["lines"]}
    assert got == {1: [SHOES_1, SHOES_2], 2: [SHOES_3]}

    events = await eventually(
        lambda: completed_events.of(document["header"]["id"]), what="document.completed"
    )
    envelope, event = events[0]
    assert envelope.version == 3
    assert [line.marks for line in event.lines] == [[SHOES_1, SHOES_2], [SHOES_3]]


async def test_collective_work_merges_marks_per_line_each_code_once(
    base: Base, accounting: AccountingClient
) -> None:
    document = document_of(INVENTORY_TYPE, lines=2)
    [copy] = await deliver(
        accounting, to_group("storekeepers"), document, process="inventory-count"
    )
    delivery_id = copy["delivery_id"]
    ivanov, petrov = await base.terminal("ivanov"), await base.terminal("petrov")
    await listed(ivanov, delivery_id)
    await ivanov.take(delivery_id)
    await petrov.take(delivery_id)

    try:
        await petrov.send_result(delivery_id, "p-0", [marked(1, [SHOES_2, SHOES_2])], final=False)
        raise AssertionError("a repeated marking code was accepted")
    except ApiError as error:
        assert (error.status, error.code) == (422, "mark_repeated")

    await ivanov.send_result(delivery_id, "i-1", [marked(1, [SHOES_1, SHOES_2])], final=True)
    # Both scanned SHOES_2 (without its separators on petrov's terminal): it is kept once.
    await petrov.send_result(
        delivery_id,
        "p-1",
        [marked(1, [SHOES_2.replace(GS, ""), SHOES_3]), marked(2, [])],
        final=True,
    )
    result = await completed(accounting, document)
    lines = {line["line_no"]: line for line in result["result"]["lines"]}
    assert lines[1]["marks"] == [SHOES_1, SHOES_2, SHOES_3]
    assert lines[1]["quantity"] == "4"  # quantities are summed as sent
    assert lines[2]["marks"] == []
