"""Logins and group names: letters of any alphabet, checked over the whole text."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import Field, TypeAdapter, ValidationError

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


ACCEPTED_LOGINS = ["ivanov", "Иванов", "i.ivanov@sklad", "kladovshik-2", "x" * 64, "a_b"]
REFUSED_LOGINS = ["", "iva nov", "ivanov\n", "ivanov:1", "a/b", "x" * 65, "x²", "a+b", "a\tb"]


@pytest.mark.parametrize(
    ("login", "accepted"),
    [(login, True) for login in ACCEPTED_LOGINS] + [(login, False) for login in REFUSED_LOGINS],
)
def test_the_published_schema_accepts_and_refuses_what_the_service_does(
    login: str, accepted: bool
) -> None:
    """The schema published for outside clients carries the pattern the service enforces: read
    by the same regex engine, it accepts and refuses the same logins."""
    schema = LOGIN.json_schema()
    assert schema["type"] == "string"
    published = TypeAdapter(Annotated[str, Field(pattern=schema["pattern"])])
    assert (_passes(published, login), _passes(LOGIN, login)) == (accepted, accepted)


def _passes(adapter: TypeAdapter[str], value: str) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True
