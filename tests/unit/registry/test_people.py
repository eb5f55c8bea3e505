"""The registry's users and groups as use cases: no HTTP, no broker."""

from __future__ import annotations

import pytest

from services.registry.people import People, is_reserved_group
from shared.errors import Refusal


async def test_a_user_logs_in_with_the_password_as_typed_and_not_otherwise(
    people: People, base: dict[str, str]
) -> None:
    await people.create_user("sklad", "ivanov", "Иванов", " пароль ", None)
    assert (await people.authenticate("sklad", "ivanov", " пароль "))["login"] == "ivanov"
    with pytest.raises(Refusal) as refused:
        await people.authenticate("sklad", "ivanov", "пароль")
    assert (refused.value.code, refused.value.status) == ("unauthorized", 401)


async def test_a_login_is_taken_once_per_base(people: People, base: dict[str, str]) -> None:
    await people.create_user("sklad", "ivanov", None, "p", None)
    with pytest.raises(Refusal) as refused:
        await people.create_user("sklad", "ivanov", "Другой", "q", None)
    assert refused.value.code == "user_exists"
    # The first user is unchanged: the name defaults to the login.
    assert (await people.get_user("sklad", "ivanov"))["name"] == "ivanov"


async def test_a_badge_belongs_to_one_user_of_the_base(
    people: People, base: dict[str, str]
) -> None:
    await people.create_user("sklad", "ivanov", None, None, "2000000000015")
    with pytest.raises(Refusal) as refused:
        await people.create_user("sklad", "petrov", None, None, "2000000000015")
    assert refused.value.code == "barcode_taken"
    assert (await people.authenticate_barcode("sklad", "2000000000015"))["login"] == "ivanov"
    assert [u["login"] for u in await people.list_users("sklad")] == ["ivanov"]


async def test_membership_follows_renames_and_deletions(
    people: People, base: dict[str, str]
) -> None:
    await people.create_user("sklad", "ivanov", None, "p", None)
    await people.create_group("sklad", "Кладовщики")
    await people.add_member("sklad", "Кладовщики", "ivanov")
    await people.rename_group("sklad", "Кладовщики", "Приёмка")
    assert await people.groups_of("sklad", "ivanov") == ["Приёмка"]
    assert await people.members("sklad", "Приёмка") == ["ivanov"]
    await people.delete_user("sklad", "ivanov")
    assert await people.members("sklad", "Приёмка") == []


async def test_reserved_and_unknown_groups_are_refused(
    people: People, base: dict[str, str]
) -> None:
    with pytest.raises(Refusal) as reserved:
        await people.create_group("sklad", "*")
    assert reserved.value.code == "group_reserved"
    with pytest.raises(Refusal) as unknown:
        await people.rename_group("sklad", "Нет такой", "Другая")
    assert unknown.value.code == "group_not_found"
    assert await people.list_groups("sklad") == []


@pytest.mark.parametrize(
    ("name", "reserved"),
    [("*", True), ("everyone", True), ("Everyone", True), ("EVERYONE", True), ("Все", False)],
)
def test_everyone_is_a_reserved_group_name_in_any_case(name: str, reserved: bool) -> None:
    assert is_reserved_group(name) is reserved


async def test_everyone_is_every_user_of_the_base_and_is_never_listed_as_a_group(
    people: People, base: dict[str, str]
) -> None:
    await people.create_user("sklad", "petrov", None, "p", None)
    await people.create_user("sklad", "ivanov", None, "p", None)
    assert await people.members("sklad", "everyone") == ["ivanov", "petrov"]
    assert await people.members("sklad", "*") == ["ivanov", "petrov"]
    assert await people.groups_of("sklad", "ivanov") == []
    assert await people.members("sklad", "Нет такой") == []


async def test_a_changed_badge_replaces_the_old_one_and_null_removes_it(
    people: People, base: dict[str, str]
) -> None:
    await people.create_user("sklad", "ivanov", None, None, "2000000000015")
    changed = await people.update_user("sklad", "ivanov", {"barcode": "2000000000022"})
    assert changed["has_barcode"] is True
    with pytest.raises(Refusal):
        await people.authenticate_barcode("sklad", "2000000000015")
    assert (await people.authenticate_barcode("sklad", "2000000000022"))["login"] == "ivanov"

    removed = await people.update_user("sklad", "ivanov", {"barcode": None})

    assert removed["has_barcode"] is False
    with pytest.raises(Refusal) as refused:
        await people.authenticate_barcode("sklad", "2000000000022")
    assert refused.value.code == "unauthorized"


async def test_a_new_name_and_password_are_kept_and_the_old_password_fails(
    people: People, base: dict[str, str]
) -> None:
    await people.create_user("sklad", "ivanov", None, "старый", None)
    changed = await people.update_user("sklad", "ivanov", {"name": "Иванов", "password": "новый"})
    assert (changed["name"], changed["has_password"]) == ("Иванов", True)
    with pytest.raises(Refusal):
        await people.authenticate("sklad", "ivanov", "старый")
    assert (await people.authenticate("sklad", "ivanov", "новый"))["name"] == "Иванов"


async def test_an_unknown_login_is_refused_like_a_wrong_password(
    people: People, base: dict[str, str]
) -> None:
    with pytest.raises(Refusal) as refused:
        await people.authenticate("sklad", "nobody", "p")
    assert (refused.value.code, refused.value.status) == ("unauthorized", 401)
    with pytest.raises(Refusal) as missing:
        await people.get_user("sklad", "nobody")
    assert (missing.value.code, missing.value.status) == ("user_not_found", 404)


async def test_a_deleted_group_takes_its_memberships_with_it(
    people: People, base: dict[str, str]
) -> None:
    await people.create_user("sklad", "ivanov", None, "p", None)
    await people.create_group("sklad", "Приёмка")
    await people.add_member("sklad", "Приёмка", "ivanov")
    assert await people.delete_group("sklad", "Приёмка") == {"group": "Приёмка", "deleted": True}
    assert await people.groups_of("sklad", "ivanov") == []
    assert await people.list_groups("sklad") == []
    with pytest.raises(Refusal) as again:
        await people.create_group("sklad", "Приёмка")
        await people.create_group("sklad", "Приёмка")
    assert (again.value.code, again.value.status) == ("group_exists", 409)
