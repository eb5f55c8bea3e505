"""Logins and group names: letters of any alphabet, checked over the whole text."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.contracts.directory import GroupName, Login

LOGIN = TypeAdapter(Login)
GROUP = TypeAdapter(GroupName)


@pytest.mark.parametrize(
    "login",
    [
        "ivanov",
        "Иванов",
        "И\u0306ован",  # decomposed: И and a combining breve
        "राम",  # a vowel sign is a combining mark
        "i.ivanov@sklad",
        "kladovshik-2",
        "x" * 64,
    ],
)
def test_logins_accepted(login: str) -> None:
    assert LOGIN.validate_python(login) == login


@pytest.mark.parametrize(
    "login", ["", "iva nov", "ivanov\n", "ivanov:1", "a/b", "x" * 65, "ivanov\u200b", "x²"]
)
def test_logins_refused_with_the_pattern_error(login: str) -> None:
    with pytest.raises(ValidationError) as refused:
        LOGIN.validate_python(login)
    assert [e["type"] for e in refused.value.errors()] == ["string_pattern_mismatch"]


@pytest.mark.parametrize("group", ["Кладовщики", "Смена 1", "night.shift"])
def test_group_names_accepted(group: str) -> None:
    assert GROUP.validate_python(group) == group


@pytest.mark.parametrize("group", [" Смена", "Смена\n", "a:b", "a/b", "x" * 101])
def test_group_names_refused(group: str) -> None:
    with pytest.raises(ValidationError):
        GROUP.validate_python(group)


def test_the_schema_keeps_the_pattern() -> None:
    assert LOGIN.json_schema() == {"type": "string", "pattern": r"^[\w.@-]{1,64}$"}
