"""The registry's users and groups as use cases: no HTTP, no broker."""

from __future__ import annotations

import pytest

from services.registry.people import People
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
