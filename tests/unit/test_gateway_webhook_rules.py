"""Webhook rules: which addresses are accepted, the signature, the pauses between attempts."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from services.gateway.webhooks import backoff_seconds, check_url, sign
from shared.errors import Refusal


@pytest.mark.parametrize(
    "url",
    [
        "https://1c.example.ru/trade/hs/tsdx/completed",
        "https://10.0.0.5:8443/hook?base=trade",
    ],
)
def test_https_addresses_are_accepted(url: str) -> None:
    assert check_url(url, allow_http_loopback=False) == url


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:9000/hook", True),
        ("http://localhost/hook", True),
        ("http://[::1]:9000/hook", True),
        ("http://127.0.0.1:9000/hook", False),
        ("http://1c.example.ru/hook", True),
        ("http://10.0.0.5/hook", True),
    ],
)
def test_plain_http_only_to_loopback_and_only_when_allowed(url: str, allowed: bool) -> None:
    loopback = any(h in url for h in ("127.0.0.1", "localhost", "[::1]"))
    if loopback and allowed:
        assert check_url(url, allow_http_loopback=allowed) == url
    else:
        with pytest.raises(Refusal) as refused:
            check_url(url, allow_http_loopback=allowed)
        assert refused.value.code == "webhook_https_required"
        assert refused.value.status == 422


@pytest.mark.parametrize(
    "url",
    [
        "1c.example.ru/hook",
        "ftp://1c.example.ru/hook",
        "https://",
        "https://user:secret@1c.example.ru/hook",
        "https://1c.example.ru:99999/hook",
        "https://1c.example.ru/a hook",
        "javascript:alert(1)",
    ],
)
def test_anything_but_a_full_address_is_refused(url: str) -> None:
    with pytest.raises(Refusal) as refused:
        check_url(url, allow_http_loopback=True)
    assert refused.value.code == "webhook_url_invalid"


def test_the_signature_is_the_hmac_sha256_of_the_body() -> None:
    body = b'{"event":"document.completed"}'
    expected = hmac.new(b"whsec_abc", body, hashlib.sha256).hexdigest()
    assert sign("whsec_abc", body) == f"sha256={expected}"
    assert sign("whsec_abd", body) != sign("whsec_abc", body)


def test_pauses_double_up_to_the_cap() -> None:
    assert [backoff_seconds(n, 2.0, 60.0) for n in range(1, 7)] == [2, 4, 8, 16, 32, 60]
    assert backoff_seconds(500, 2.0, 3600.0) == 3600.0
