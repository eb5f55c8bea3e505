"""Users and groups: managed through the admin API, used by other services over RPC.

The RPC calls are made the way routing and the LAN writer make them: on the stack's broker,
with the tenant in the envelope.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import Refusal
from shared.messaging.rpc import RpcClient
from shared.messaging.topology import REGISTRY_RPC
from tools.client import AdminClient, ApiError

IVANOV_BADGE = "2000000012345"
KEEPERS = "Кладовщики"
SHIFT = "Смена 1"


@pytest.fixture
async def people(tenant: dict[str, str], admin: AdminClient) -> str:
    """ivanov (password, badge) and petrov in Кладовщики; petrov also in Смена 1; sidorov alone."""
    base = tenant["tenant"]
    await admin.create_user(
        base, "ivanov", name="Иванов И.", password="пароль 1", barcode=IVANOV_BADGE
    )
    await admin.create_user(base, "petrov", password="x1")
    await admin.create_user(base, "sidorov")  # no way to log in: only a recipient
    for group in (KEEPERS, SHIFT):
        await admin.create_group(base, group)
    await admin.add_member(base, KEEPERS, "petrov")
    await admin.add_member(base, KEEPERS, "ivanov")
    await admin.add_member(base, SHIFT, "petrov")
    return base


async def call(rpc: RpcClient, method: str, params: dict[str, Any], base: str) -> Any:
    return await rpc.send(REGISTRY_RPC, method, params, tenant=base)


async def refusal(rpc: RpcClient, method: str, params: dict[str, Any], base: str) -> Refusal:
    with pytest.raises(Refusal) as refused:
        await call(rpc, method, params, base)
    return refused.value


async def test_group_members_with_everyone_implicit(rpc: RpcClient, people: str) -> None:
    assert await call(rpc, "group.members", {"group": KEEPERS}, people) == ["ivanov", "petrov"]
    everyone = ["ivanov", "petrov", "sidorov"]
    assert await call(rpc, "group.members", {"group": "*"}, people) == everyone
    assert await call(rpc, "group.members", {"group": "everyone"}, people) == everyone
    assert await call(rpc, "group.members", {"group": "Нет такой"}, people) == []
    assert await call(rpc, "user.groups", {"login": "petrov"}, people) == [KEEPERS, SHIFT]
    assert await call(rpc, "user.groups", {"login": "nobody"}, people) == []
    users = await call(rpc, "user.list", {}, people)
    assert [(u["login"], u["has_password"], u["has_barcode"]) for u in users] == [
        ("ivanov", True, True),
        ("petrov", True, False),
        ("sidorov", False, False),
    ]
    groups = await call(rpc, "group.list", {}, people)
    assert groups == [
        {"group": KEEPERS, "members": ["ivanov", "petrov"]},
        {"group": SHIFT, "members": ["petrov"]},
    ]


async def test_a_user_logs_in_by_password_or_by_badge(rpc: RpcClient, people: str) -> None:
    expected = {"login": "ivanov", "name": "Иванов И.", "groups": [KEEPERS]}

    by_password = await call(
        rpc, "user.authenticate", {"login": "ivanov", "password": "пароль 1"}, people
    )
    by_badge = await call(rpc, "user.authenticate", {"barcode": IVANOV_BADGE}, people)

    assert by_password == expected
    assert by_badge == expected


@pytest.mark.parametrize(
    "credentials",
    [
        {"login": "ivanov", "password": "пароль 2"},
        {"login": "ivanov", "password": "пароль 1 "},  # a password is taken exactly as typed
        {"login": "nobody", "password": "пароль 1"},
        {"login": "sidorov", "password": "anything"},  # has no password at all
        {"barcode": "2000000099999"},
    ],
)
async def test_wrong_credentials_are_refused(
    rpc: RpcClient, people: str, credentials: dict[str, str]
) -> None:
    refused = await refusal(rpc, "user.authenticate", credentials, people)

    assert (refused.code, refused.status) == ("unauthorized", 401)


async def test_credentials_are_checked_within_the_base_only(
    rpc: RpcClient, people: str, admin: AdminClient
) -> None:
    other = (await admin.create_tenant("Соседний склад"))["tenant"]

    by_password = await refusal(
        rpc, "user.authenticate", {"login": "ivanov", "password": "пароль 1"}, other
    )
    by_badge = await refusal(rpc, "user.authenticate", {"barcode": IVANOV_BADGE}, other)

    assert by_password.code == by_badge.code == "unauthorized"
    assert await call(rpc, "group.members", {"group": KEEPERS}, other) == []
    assert await call(rpc, "group.members", {"group": "*"}, other) == []


async def test_malformed_calls_are_refused_with_validation_errors(
    rpc: RpcClient, people: str
) -> None:
    both = await refusal(
        rpc,
        "user.authenticate",
        {"login": "ivanov", "password": "пароль 1", "barcode": IVANOV_BADGE},
        people,
    )
    neither = await refusal(rpc, "user.authenticate", {"login": "ivanov"}, people)
    extra = await refusal(rpc, "group.members", {"group": KEEPERS, "all": True}, people)
    no_tenant = await refusal(rpc, "group.members", {"group": KEEPERS}, "")

    assert {both.code, neither.code, extra.code, no_tenant.code} == {"validation_error"}


async def test_changing_credentials_takes_effect_for_the_next_log_in(
    rpc: RpcClient, people: str, admin: AdminClient
) -> None:
    changed = await admin.update_user(people, "ivanov", password="новый", barcode=None)

    assert (changed["has_password"], changed["has_barcode"]) == (True, False)
    old = {"login": "ivanov", "password": "пароль 1"}
    assert (await refusal(rpc, "user.authenticate", old, people)).code == "unauthorized"
    badge = {"barcode": IVANOV_BADGE}
    assert (await refusal(rpc, "user.authenticate", badge, people)).code == "unauthorized"
    new = {"login": "ivanov", "password": "новый"}
    assert (await call(rpc, "user.authenticate", new, people))["login"] == "ivanov"
    await admin.update_user(people, "sidorov", barcode=IVANOV_BADGE, name="Сидоров С.")
    assert await call(rpc, "user.authenticate", badge, people) == {
        "login": "sidorov",
        "name": "Сидоров С.",
        "groups": [],
    }


async def test_renaming_a_group_keeps_its_members_and_removing_one_leaves_the_rest(
    rpc: RpcClient, people: str, admin: AdminClient
) -> None:
    renamed = await admin.rename_group(people, KEEPERS, "Приёмка")
    left = await admin.remove_member(people, "Приёмка", "ivanov")

    assert renamed == {"group": "Приёмка", "members": ["ivanov", "petrov"]}
    assert left == {"group": "Приёмка", "members": ["petrov"]}
    assert await call(rpc, "group.members", {"group": KEEPERS}, people) == []
    assert await call(rpc, "user.groups", {"login": "petrov"}, people) == ["Приёмка", SHIFT]


async def test_deleting_a_user_or_a_group_removes_the_memberships(
    rpc: RpcClient, people: str, admin: AdminClient
) -> None:
    await admin.delete_user(people, "petrov")
    await admin.delete_group(people, SHIFT)

    assert await call(rpc, "group.members", {"group": KEEPERS}, people) == ["ivanov"]
    assert await call(rpc, "group.members", {"group": SHIFT}, people) == []
    assert await call(rpc, "group.members", {"group": "*"}, people) == ["ivanov", "sidorov"]
    gone = {"login": "petrov", "password": "x1"}
    assert (await refusal(rpc, "user.authenticate", gone, people)).code == "unauthorized"
    assert [g["group"] for g in await admin.groups(people)] == [KEEPERS]


async def admin_refusal(call: Any) -> tuple[int, str]:
    with pytest.raises(ApiError) as refused:
        await call
    return refused.value.status, refused.value.code


async def test_bad_user_and_group_requests_get_clear_codes_and_change_nothing(
    rpc: RpcClient, people: str, admin: AdminClient
) -> None:
    assert await admin_refusal(admin.create_user(people, "ivanov")) == (409, "user_exists")
    assert await admin_refusal(admin.create_user(people, "иван ов")) == (422, "validation_error")
    assert await admin_refusal(admin.create_user(people, "a:b")) == (422, "validation_error")
    assert await admin_refusal(admin.create_user(people, "kozlov", barcode=IVANOV_BADGE)) == (
        409,
        "barcode_taken",
    )
    assert await admin_refusal(admin.create_group(people, "everyone")) == (422, "group_reserved")
    assert await admin_refusal(admin.create_group(people, "Everyone")) == (422, "group_reserved")
    assert await admin_refusal(admin.create_group(people, KEEPERS)) == (409, "group_exists")
    assert await admin_refusal(admin.rename_group(people, SHIFT, KEEPERS)) == (409, "group_exists")
    assert await admin_refusal(admin.add_member(people, KEEPERS, "nobody")) == (
        404,
        "user_not_found",
    )
    assert await admin_refusal(admin.add_member(people, "Нет такой", "ivanov")) == (
        404,
        "group_not_found",
    )
    assert await admin_refusal(admin.add_member(people, "everyone", "ivanov")) == (
        422,
        "group_reserved",
    )
    assert await admin_refusal(admin.delete_user(people, "nobody")) == (404, "user_not_found")
    assert await admin_refusal(admin.update_user(people, "ivanov", password="")) == (
        422,
        "validation_error",
    )
    assert await admin_refusal(admin.users("no-such-base")) == (404, "tenant_not_found")
    # Nothing changed: same users, same groups, kozlov was not created.
    assert [u["login"] for u in await admin.users(people)] == ["ivanov", "petrov", "sidorov"]
    assert await call(rpc, "group.members", {"group": KEEPERS}, people) == ["ivanov", "petrov"]
    assert (await call(rpc, "user.authenticate", {"barcode": IVANOV_BADGE}, people))[
        "login"
    ] == "ivanov"


async def test_a_malformed_change_over_amqp_is_refused_by_field_and_changes_nothing(
    rpc: RpcClient, people: str
) -> None:
    users = await call(rpc, "user.list", {}, people)
    groups = await call(rpc, "group.list", {}, people)

    refused = [
        await refusal(rpc, "user.update", {"login": "ivanov", "name": ""}, people),
        await refusal(rpc, "user.update", {"login": "ivanov", "nickname": "Ваня"}, people),
        await refusal(rpc, "user.create", {"login": "иван ов", "password": "x"}, people),
        await refusal(rpc, "group.rename", {"group": KEEPERS}, people),
        await refusal(rpc, "group.add_member", {"group": SHIFT, "login": ["ivanov"]}, people),
    ]

    assert {(r.code, r.status) for r in refused} == {("validation_error", 422)}
    # Each answer names the field that is wrong.
    assert [r.params["details"].split(":")[0] for r in refused] == [
        "name",
        "nickname",
        "login",
        "new_name",
        "login",
    ]
    assert await call(rpc, "user.list", {}, people) == users
    assert await call(rpc, "group.list", {}, people) == groups
