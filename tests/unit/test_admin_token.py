"""The operators' admin token check shared by the gateway, the LAN writer and the dashboard."""

from __future__ import annotations

import pytest
from fastapi.security import HTTPAuthorizationCredentials

from shared.errors import Refusal
from shared.http import check_admin_token


def _bearer(token: str) -> HTTPAuthorizationCredentials:
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)


def test_the_admin_token_passes() -> None:
    check_admin_token(_bearer(" s3cret "), "s3cret")


@pytest.mark.parametrize("given", [None, "", "wrong", "s3cret!", "é-not-ascii", "пароль"])
def test_anything_else_is_refused_never_an_error(given: str | None) -> None:
    with pytest.raises(Refusal) as refused:
        check_admin_token(None if given is None else _bearer(given), "s3cret")
    assert (refused.value.code, refused.value.status) == ("unauthorized", 401)
