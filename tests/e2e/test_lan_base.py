"""The LAN channel end to end: uploads for users, groups and everyone land in the LAN base;
users log in on the LAN terminal API, take documents (one wins a shared one, several join a
collective one), send results that routing merges, and operators look after the locks.

Every service runs in its own process on a real RabbitMQ (one vhost per stack).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.documents import PURCHASE, order, upload
from tests.support.stack import ADMIN_TOKEN
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError, TerminalClient
from tools.client.api import LanAdminClient, LanClient

INVENTORY_TYPE = "Инвентаризация товаров на складе"
RECEIPT_ORDER_TYPE = "Приходный ордер на товары"
CUSTOMER_ORDER_TYPE = "Заказ клиента"
TRANSFER_TYPE = "Перемещение товаров"

EVERYONE = {"kind": "everyone"}


def to_group(name: str) -> dict[str, Any]:
    return {"kind": "group", "value": name}


def to_user(login: str) -> dict[str, Any]:
    return {"kind": "user", "value": login}


def document_of(accounting_type: str, lines: int = 2) -> dict[str, Any]:
    document = order(lines=lines, number=f"LAN-{uuid.uuid4().hex[:6]}")
    document["header"]["accounting_type"] = accounting_type
    return document


def fact(line_no: int, quantity: str) -> dict[str, Any]:
    return {"line_no": line_no, "product_id": f"prod-{line_no}", "quantity": quantity}


class Base:
    """One accounting base with its users, as the tests need it."""

    def __init__(self, stack: Stack, tenant: dict[str, str], admin: AdminClient) -> None:
        self.stack = stack
        self.tenant = tenant["tenant"]
        self.admin = admin
        self._clients: list[LanClient] = []

    async def user(
        self, login: str, *groups: str, password: str = "секрет-1", barcode: str | None = None
    ) -> None:
        await self.admin.create_user(
            self.tenant, login, name=login.title(), password=password, barcode=barcode
        )
        for group in groups:
            await self.admin.add_member(self.tenant, group, login)

    async def group(self, name: str) -> None:
        await self.admin.create_group(self.tenant, name)

    async def terminal(self, login: str, *, device_id: str | None = None) -> LanClient:
        client = LanClient(self.stack.url("lan_writer"))
        self._clients.append(client)
        await client.login(self.tenant, login, "секрет-1", device_id=device_id)
        return client

    async def close(self) -> None:
        for client in self._clients:
            await client.close()


@pytest.fixture
async def base(stack: Stack, tenant: dict[str, str], admin: AdminClient) -> AsyncIterator[Base]:
    """A base with users ivanov and petrov (storekeepers) and sidorov (in no group)."""
    lan_base = Base(stack, tenant, admin)
    await lan_base.group("storekeepers")
    await lan_base.user("ivanov", "storekeepers")
    await lan_base.user("petrov", "storekeepers")
    await lan_base.user("sidorov")
    yield lan_base
    await lan_base.close()


@pytest.fixture
async def operator(stack: Stack) -> AsyncIterator[LanAdminClient]:
    async with LanAdminClient(stack.url("lan_writer"), ADMIN_TOKEN) as client:
        yield client


async def deliver(
    accounting: AccountingClient,
    target: dict[str, Any],
    document: dict[str, Any],
    *,
    process: str = PURCHASE,
    recall: bool = False,
) -> list[dict[str, Any]]:
    body = upload(target, document, channel="lan", process=process)
    body["recall"] = recall
    answer = await accounting.upload(body)
    if answer["status"] == "pending":  # routing took longer than the gateway waits
        answer = await eventually(
            lambda: accounting.upload_status(body["request_id"]),
            until=lambda a: a["status"] != "pending",
            what="upload decided",
        )
    assert answer["status"] == "accepted", answer
    deliveries: list[dict[str, Any]] = answer["deliveries"]
    return deliveries


async def listed(client: LanClient, delivery_id: str) -> dict[str, Any]:
    """The document as the user's list shows it, once it arrived."""

    async def probe() -> dict[str, Any] | None:
        return next((d for d in await client.documents() if d["delivery_id"] == delivery_id), None)

    found = await eventually(probe, what=f"{delivery_id} listed")
    assert found is not None
    return found


async def ids(client: LanClient) -> set[str]:
    return {d["delivery_id"] for d in await client.documents()}


async def refused(call: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await call
    return caught.value


# Who sees what.


async def test_documents_for_everyone_a_group_and_a_user_are_listed_to_whom_they_are_for(
    base: Base, accounting: AccountingClient
) -> None:
    [for_all] = await deliver(accounting, EVERYONE, order())
    [for_group] = await deliver(accounting, to_group("storekeepers"), order())
    [for_sidorov] = await deliver(accounting, to_user("sidorov"), order())
    ivanov, petrov, sidorov = [await base.terminal(u) for u in ("ivanov", "petrov", "sidorov")]

    await listed(sidorov, for_sidorov["delivery_id"])
    await listed(ivanov, for_group["delivery_id"])
    assert await ids(ivanov) == {for_all["delivery_id"], for_group["delivery_id"]}
    assert await ids(petrov) == {for_all["delivery_id"], for_group["delivery_id"]}
    assert await ids(sidorov) == {for_all["delivery_id"], for_sidorov["delivery_id"]}

    item = await listed(ivanov, for_group["delivery_id"])
    assert item["assigned_to"] == to_group("storekeepers")
    assert item["state"] == "free" and item["taken_by"] == []
    assert item["lines"] == 2 and item["terminal_type"] == "Поступление"
    full = await ivanov.document(for_group["delivery_id"])
    assert [line["product_id"] for line in full["document"]["lines"]] == ["prod-1", "prod-2"]

    # A document for someone else does not exist for this user.
    assert (await refused(ivanov.document(for_sidorov["delivery_id"]))).code == "not_found"
    assert (await refused(ivanov.take(for_sidorov["delivery_id"]))).code == "not_found"

    # Taken documents stay listed to the others, as taken by whom.
    taken = await ivanov.take(for_group["delivery_id"])
    assert taken["mine"] is True and taken["taken_now"] is True
    seen_by_petrov = await listed(petrov, for_group["delivery_id"])
    assert seen_by_petrov["state"] == "taken"
    assert [h["login"] for h in seen_by_petrov["taken_by"]] == ["ivanov"]
    assert seen_by_petrov["mine"] is False


async def test_own_copies_give_every_group_member_a_copy_of_their_own(
    base: Base, accounting: AccountingClient
) -> None:
    document = document_of(RECEIPT_ORDER_TYPE)
    deliveries = await deliver(
        accounting, to_group("storekeepers"), document, process="storekeepers-receipt"
    )
    assert sorted(d["target"]["value"] for d in deliveries) == ["ivanov", "petrov"]
    copy_of = {d["target"]["value"]: d["delivery_id"] for d in deliveries}
    ivanov, petrov, sidorov = [await base.terminal(u) for u in ("ivanov", "petrov", "sidorov")]

    mine = await listed(ivanov, copy_of["ivanov"])
    assert mine["assigned_to"] == to_user("ivanov")
    assert await ids(ivanov) == {copy_of["ivanov"]}
    await listed(petrov, copy_of["petrov"])
    assert await ids(petrov) == {copy_of["petrov"]}
    assert await ids(sidorov) == set()
    # Each works on their own copy: nobody locks anybody out.
    assert (await ivanov.take(copy_of["ivanov"]))["taken_now"] is True
    assert (await petrov.take(copy_of["petrov"]))["taken_now"] is True


async def test_a_document_for_a_device_is_listed_to_whoever_logs_in_on_it(
    base: Base, stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with TerminalClient(stack.url("gateway")) as device:
        paired = await device.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
    device_id = paired["device_id"]
    [copy] = await deliver(
        accounting,
        {"kind": "device", "value": device_id},
        document_of(TRANSFER_TYPE),
        process="device-only",
    )
    on_device = await base.terminal("sidorov", device_id=device_id)
    item = await listed(on_device, copy["delivery_id"])
    assert item["assigned_to"] == {"kind": "device", "value": device_id}
    elsewhere = await base.terminal("sidorov")
    assert copy["delivery_id"] not in await ids(elsewhere)

    stranger = LanClient(stack.url("lan_writer"))
    base._clients.append(stranger)
    error = await refused(stranger.login(base.tenant, "sidorov", "секрет-1", device_id="nope"))
    assert (error.status, error.code) == (422, "device_not_found")


# Locks.


async def test_of_ten_concurrent_takes_by_two_users_exactly_one_takes_the_document(
    base: Base, accounting: AccountingClient, operator: LanAdminClient
) -> None:
    [copy] = await deliver(accounting, to_group("storekeepers"), order())
    delivery_id = copy["delivery_id"]
    ivanov, petrov = await base.terminal("ivanov"), await base.terminal("petrov")
    await listed(ivanov, delivery_id)

    async def attempt(client: LanClient) -> dict[str, Any] | ApiError:
        try:
            return await client.take(delivery_id)
        except ApiError as error:
            return error

    answers = await asyncio.gather(*(attempt(c) for c in [ivanov, petrov] * 5))
    took = [a for a in answers if isinstance(a, dict) and a["taken_now"]]
    assert len(took) == 1
    winner = took[0]["taken_by"][0]["login"]
    loser = "petrov" if winner == "ivanov" else "ivanov"
    for answer, client in zip(answers, [ivanov, petrov] * 5, strict=True):
        if client.session["login"] == winner:
            assert isinstance(answer, dict) and answer["mine"] is True
        else:
            assert isinstance(answer, ApiError)
            assert (answer.status, answer.code) == (409, "document_taken")
            assert answer.body["params"] == {"holder": winner}
            assert winner in answer.message
    [lock] = await operator.locks(base.tenant)
    assert lock["delivery_id"] == delivery_id
    assert [h["login"] for h in lock["holders"]] == [winner]
    assert lock["holders"][0]["since"]
    assert loser not in str(lock)


async def test_a_released_document_can_be_taken_by_another_user(
    base: Base, accounting: AccountingClient, stack: Stack, tenant: dict[str, str]
) -> None:
    document = order()
    [copy] = await deliver(accounting, EVERYONE, document)
    ivanov, sidorov = await base.terminal("ivanov"), await base.terminal("sidorov")
    await listed(ivanov, copy["delivery_id"])
    await ivanov.take(copy["delivery_id"])
    assert (await refused(sidorov.take(copy["delivery_id"]))).code == "document_taken"
    assert (await refused(sidorov.release(copy["delivery_id"]))).code == "document_not_taken"

    # A malformed result is refused with the field named, and changes nothing.
    bad = await refused(ivanov.send_result(copy["delivery_id"], "i-0", [fact(1, "-1")], final=True))
    assert (bad.status, bad.code) == (422, "quantity_invalid")
    assert "quantity" in bad.message
    assert (await listed(ivanov, copy["delivery_id"]))["state"] == "taken"

    # What ivanov counted stops counting once he gives the document back.
    await ivanov.send_result(copy["delivery_id"], "i-1", [fact(1, "1")], final=False)
    released = await ivanov.release(copy["delivery_id"])
    assert released["state"] == "free" and released["taken_by"] == []
    assert (await sidorov.take(copy["delivery_id"]))["taken_now"] is True
    await sidorov.send_result(copy["delivery_id"], "s-1", [fact(1, "2"), fact(2, "4")], final=True)
    result = await completed(accounting, document)
    assert [line["quantity"] for line in result["result"]["lines"]] == ["2", "4"]
    assert await ids(sidorov) == set()  # finished documents leave the list


async def completed(accounting: AccountingClient, document: dict[str, Any]) -> dict[str, Any]:
    """The completed document as the accounting side gets it from the gateway."""

    async def probe() -> dict[str, Any] | None:
        try:
            return await accounting.result(document["header"]["id"])
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    found = await eventually(probe, what="document completed")
    assert found is not None
    return found


async def test_two_users_counting_together_get_their_lines_summed(
    base: Base, accounting: AccountingClient, operator: LanAdminClient
) -> None:
    document = document_of(INVENTORY_TYPE, lines=3)
    [copy] = await deliver(
        accounting, to_group("storekeepers"), document, process="inventory-count"
    )
    delivery_id = copy["delivery_id"]
    ivanov, petrov = await base.terminal("ivanov"), await base.terminal("petrov")
    assert (await listed(ivanov, delivery_id))["collective"] is True

    assert (await ivanov.take(delivery_id))["taken_now"] is True
    joined = await petrov.take(delivery_id)
    assert joined["taken_now"] is True
    assert [h["login"] for h in joined["taken_by"]] == ["ivanov", "petrov"]

    await ivanov.send_result(delivery_id, "i-1", [fact(1, "1")], final=False)
    # Each send holds all the user has counted so far; it replaces the user's earlier one.
    first = await ivanov.send_result(delivery_id, "i-2", [fact(1, "3"), fact(2, "1")], final=True)
    assert first["completes_document"] is False
    last = await petrov.send_result(delivery_id, "p-1", [fact(1, "2"), fact(3, "7")], final=True)
    assert last["completes_document"] is True

    result = await completed(accounting, document)
    merged = {line["line_no"]: line["quantity"] for line in result["result"]["lines"]}
    assert merged == {1: "5", 2: "1", 3: "7"}
    row = await operator.document(delivery_id)
    assert row["state"] == "done" and row["finished_by"] == ["ivanov", "petrov"]


async def test_a_force_released_holder_has_their_later_result_refused_not_merged(
    base: Base, accounting: AccountingClient, operator: LanAdminClient
) -> None:
    document = order()
    [copy] = await deliver(accounting, to_group("storekeepers"), document)
    delivery_id = copy["delivery_id"]
    ivanov, petrov = await base.terminal("ivanov"), await base.terminal("petrov")
    await listed(ivanov, delivery_id)
    await ivanov.take(delivery_id)
    await ivanov.send_result(delivery_id, "i-1", [fact(1, "1")], final=False)

    released = await operator.force_release(delivery_id, "терминал разряжен")
    assert released["state"] == "free"
    assert released["released"]["holders"] == ["ivanov"]
    assert released["lost_by"] == {"ivanov": "терминал разряжен"}
    assert await operator.locks(base.tenant) == []
    again = await refused(operator.force_release(delivery_id, "ещё раз"))
    assert again.code == "document_not_locked"

    await petrov.take(delivery_id)
    late = await refused(ivanov.send_result(delivery_id, "i-2", [fact(1, "9")], final=True))
    assert (late.status, late.code) == (409, "lock_lost")
    assert "терминал разряжен" in late.message
    await petrov.send_result(delivery_id, "p-1", [fact(1, "2"), fact(2, "4")], final=True)
    result = await completed(accounting, document)
    # The old holder's lines never reach the result.
    assert {line["line_no"]: line["quantity"] for line in result["result"]["lines"]} == {
        1: "2",
        2: "4",
    }


async def test_an_operator_reassigns_a_free_document_but_not_a_taken_one(
    base: Base, accounting: AccountingClient, operator: LanAdminClient
) -> None:
    [copy] = await deliver(accounting, to_group("storekeepers"), order())
    delivery_id = copy["delivery_id"]
    ivanov, sidorov = await base.terminal("ivanov"), await base.terminal("sidorov")
    await listed(ivanov, delivery_id)
    await ivanov.take(delivery_id)

    blocked = await refused(operator.reassign(delivery_id, to_user("sidorov")))
    assert (blocked.status, blocked.code) == (409, "release_lock_first")
    assert "ivanov" in blocked.message
    bad = await refused(operator.reassign(delivery_id, {"kind": "pin", "value": "5546"}))
    assert bad.code == "target_not_allowed_on_channel"
    nameless = await refused(operator.reassign(delivery_id, {"kind": "group"}))
    assert (nameless.status, nameless.code) == (422, "target_incomplete")
    # Only operators: neither a user's session nor a wrong token may look or act.
    for token in (ivanov.session["token"], "wrong-token"):
        async with LanAdminClient(base.stack.url("lan_writer"), token) as intruder:
            assert (await refused(intruder.locks(base.tenant))).code == "unauthorized"
            denied = await refused(intruder.force_release(delivery_id, "x"))
            assert (denied.status, denied.code) == (401, "unauthorized")
    assert (await operator.document(delivery_id))["taken_by"][0]["login"] == "ivanov"

    await operator.force_release(delivery_id, "смена закончилась")
    moved = await operator.reassign(delivery_id, to_user("sidorov"))
    assert moved["assigned_to"] == to_user("sidorov")
    assert moved["reassigned"]["from"] == "group:storekeepers"
    assert delivery_id not in await ids(ivanov)
    await listed(sidorov, delivery_id)
    assert (await sidorov.take(delivery_id))["taken_now"] is True


async def test_a_withdrawn_document_leaves_the_lists_and_its_holder_result_is_refused(
    base: Base, accounting: AccountingClient, operator: LanAdminClient
) -> None:
    document = order()
    [first] = await deliver(accounting, to_group("storekeepers"), document)
    ivanov, petrov = await base.terminal("ivanov"), await base.terminal("petrov")
    await listed(ivanov, first["delivery_id"])
    await ivanov.take(first["delivery_id"])

    # The accounting side recalls the document it is working on and uploads it anew.
    [second] = await deliver(accounting, to_group("storekeepers"), document, recall=True)
    await eventually(
        lambda: ids(petrov),
        until=lambda seen: seen == {second["delivery_id"]},
        what="only the new version listed",
    )
    assert await ids(ivanov) == {second["delivery_id"]}
    late = await refused(ivanov.send_result(first["delivery_id"], "i-1", [], final=True))
    assert (late.status, late.code) == (410, "document_withdrawn")
    gone = await refused(ivanov.document(first["delivery_id"]))
    assert gone.code == "document_withdrawn"
    row = await operator.document(first["delivery_id"])
    assert row["state"] == "withdrawn"
    # "recalled" once routing knew it was taken; "replaced" if the upload overtook that news.
    assert row["withdrawn_reason"] in ("recalled", "replaced")


async def test_a_result_routing_refuses_is_shown_and_the_user_can_correct_it(
    base: Base, accounting: AccountingClient
) -> None:
    document = document_of(CUSTOMER_ORDER_TYPE)  # line 1 plans 2, line 2 plans 4
    [copy] = await deliver(accounting, to_user("ivanov"), document, process="picking")
    delivery_id = copy["delivery_id"]
    ivanov = await base.terminal("ivanov")
    await listed(ivanov, delivery_id)
    await ivanov.take(delivery_id)
    sent = await ivanov.send_result(delivery_id, "i-1", [fact(1, "5")], final=True)
    assert sent["status"] == "sent"

    item = await eventually(
        lambda: listed(ivanov, delivery_id),
        until=lambda d: d["refusal"] is not None,
        what="refusal shown",
    )
    assert item["refusal"]["code"] == "quantity_over_plan"
    assert item["refusal"]["result_id"] == "i-1"
    assert item["refusal"]["message"]
    assert item["state"] == "taken" and item["mine"] is True
    again = await ivanov.send_result(delivery_id, "i-1", [fact(1, "5")], final=True)
    assert again["status"] == "refused" and again["refusal"]["code"] == "quantity_over_plan"

    fixed = await ivanov.send_result(delivery_id, "i-2", [fact(1, "2"), fact(2, "4")], final=True)
    assert fixed["status"] == "sent"
    result = await completed(accounting, document)
    assert [line["quantity"] for line in result["result"]["lines"]] == ["2", "4"]


# Logging in.


async def test_log_in_by_password_or_barcode_and_refusals_are_clear(
    base: Base, stack: Stack, tenant: dict[str, str], admin: AdminClient
) -> None:
    await base.user("kuznetsov", "storekeepers", barcode="2000000012345")
    url = stack.url("lan_writer")
    async with LanClient(url) as by_badge:
        session = await by_badge.login(base.tenant, barcode="2000000012345")
        assert session["login"] == "kuznetsov"
        assert session["groups"] == ["storekeepers"]
        assert session["token"].startswith("lan_")
        assert (await by_badge.me())["login"] == "kuznetsov"
        await by_badge.logout()
        after = await refused(by_badge.me())
        assert (after.status, after.code) == (401, "lan_session_invalid")

    async with LanClient(url) as wrong:
        error = await refused(wrong.login(base.tenant, "kuznetsov", "не тот"))
        assert (error.status, error.code) == (401, "lan_login_failed")
        assert error.message == "Неверный логин, пароль или штрихкод пользователя."
        error = await refused(wrong.login(base.tenant, "kuznetsov"))
        assert (error.status, error.code) == (422, "lan_credentials_missing")
        assert (await refused(wrong.documents())).code == "lan_session_invalid"

    async with LanClient(url, language="en") as english:
        error = await refused(english.login(base.tenant, barcode="0000000000000"))
        assert error.message == "Wrong login, password or user barcode."

    # A user of one base is unknown in another.
    other = await admin.create_tenant(f"Другой склад {uuid.uuid4().hex[:6]}")
    async with LanClient(url) as elsewhere:
        error = await refused(elsewhere.login(other["tenant"], "kuznetsov", "секрет-1"))
        assert error.code == "lan_login_failed"


async def test_guessing_a_password_is_limited_per_user_name(base: Base, stack: Stack) -> None:
    url = stack.url("lan_writer")
    async with LanClient(url) as guesser:
        for attempt in range(10):
            error = await refused(guesser.login(base.tenant, "ivanov", f"угадай-{attempt}"))
            assert error.code == "lan_login_failed"
        # Even the right password is refused now, with the time to wait.
        limited = await refused(guesser.login(base.tenant, "ivanov", "секрет-1"))
        assert (limited.status, limited.code) == (429, "too_many_login_attempts")
        assert int(limited.body["params"]["retry_after"]) > 0
    # Other users of the base are not held back.
    petrov = await base.terminal("petrov")
    assert (await petrov.me())["login"] == "petrov"


async def test_documents_of_one_base_are_invisible_in_another(
    base: Base, stack: Stack, admin: AdminClient, accounting: AccountingClient
) -> None:
    [copy] = await deliver(accounting, EVERYONE, order())
    ivanov = await base.terminal("ivanov")
    await listed(ivanov, copy["delivery_id"])
    other = Base(stack, await admin.create_tenant(f"Склад {uuid.uuid4().hex[:6]}"), admin)
    try:
        await other.user("ivanov")
        namesake = await other.terminal("ivanov")
        assert await namesake.documents() == []
        assert (await refused(namesake.take(copy["delivery_id"]))).code == "not_found"
    finally:
        await other.close()
