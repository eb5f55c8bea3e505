"""Webhook rules: which addresses are accepted, the signature, the pauses between attempts."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from services.gateway.webhook_address import pinned
from services.gateway.webhook_policy import backoff_seconds, check_url, sign
from shared.errors import Refusal
from shared.i18n import render
from shared.outbound import allowed_networks, literal_address

LOOPBACK = allowed_networks("127.0.0.0/8, ::1/128")


@pytest.mark.parametrize(
    "url",
    [
        "https://1c.example.ru/trade/hs/tsdx/completed",
        "https://203.0.113.9.nip.example/hook",
        "https://8.8.8.8:8443/hook?base=trade",
    ],
)
def test_https_addresses_are_accepted(url: str) -> None:
    assert check_url(url, allow_http_loopback=False) == url


def test_a_private_address_is_accepted_when_its_network_is_allowed() -> None:
    url = "https://10.1.2.3:8443/hook"
    with pytest.raises(Refusal) as refused:
        check_url(url, allow_http_loopback=False)
    assert (refused.value.code, refused.value.params) == (
        "webhook_address_not_allowed",
        {"reason": "private", "address_kind": "private"},
    )
    assert render(refused.value.code, "ru", refused.value.params).startswith(
        "Адрес для уведомлений недопустим (частная сеть):"
    )
    allowed = allowed_networks("10.1.0.0/16")
    assert check_url(url, allow_http_loopback=False, allowed=allowed) == url
    with pytest.raises(Refusal):
        check_url("https://10.2.0.1/hook", allow_http_loopback=False, allowed=allowed)


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
        assert check_url(url, allow_http_loopback=allowed, allowed=LOOPBACK) == url
    else:
        with pytest.raises(Refusal) as refused:
            check_url(url, allow_http_loopback=allowed, allowed=LOOPBACK)
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


@pytest.mark.parametrize(
    ("url", "address", "target", "host", "sni"),
    [
        (
            "https://1c.example.ru:8443/hs/tsdx?x=1",
            "203.0.113.7",
            "https://203.0.113.7:8443/hs/tsdx?x=1",
            "1c.example.ru:8443",
            "1c.example.ru",
        ),
        (
            "https://1c.example.ru",
            "2001:db8::7",
            "https://[2001:db8::7]/",
            "1c.example.ru",
            "1c.example.ru",
        ),
        ("http://127.0.0.1:9000/h", "127.0.0.1", "http://127.0.0.1:9000/h", "127.0.0.1:9000", None),
    ],
)
def test_a_push_goes_to_the_checked_address_with_the_name_kept_for_host_and_tls(
    url: str, address: str, target: str, host: str, sni: str | None
) -> None:
    checked = literal_address(address)
    assert checked is not None
    assert pinned(url, checked) == (target, host, {"sni_hostname": sni} if sni else {})
