"""The operators' admin token check shared by the gateway, the LAN writer and the dashboard."""

from __future__ import annotations

import pytest
from fastapi.security import HTTPAuthorizationCredentials

from shared.errors import Refusal
from shared.http import check_admin_token


def _bearer(token: str) -> HTTPAuthorizationCredentials:
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)


def _outcome(given: str | None, token: str = "s3cret") -> str:
    """``passed``, or the code and status it was refused with."""
    try:
        check_admin_token(None if given is None else _bearer(given), token)
    except Refusal as refused:
        return f"{refused.code} {refused.status}"
    return "passed"


@pytest.mark.parametrize("given", ["s3cret", " s3cret ", "s3cret\n"])
def test_the_admin_token_passes_whitespace_around_it_ignored(given: str) -> None:
    assert _outcome(given) == "passed"
    assert _outcome(given, token="other") == "unauthorized 401"  # it is the token that passes


@pytest.mark.parametrize("given", [None, "", "wrong", "s3cret!", "s3cre", "é-not-ascii", "пароль"])
def test_anything_else_is_refused_never_an_error(given: str | None) -> None:
    assert _outcome(given) == "unauthorized 401"
