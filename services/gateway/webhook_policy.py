"""The webhooks' delivery policy, pure: which addresses a base may set, how a push is signed,
how long to wait before the next attempt. No I/O (tests/unit/gateway/test_webhook_rules.py)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from shared.errors import Refusal
from shared.outbound import Network, host_refusal, is_local_name, literal_address


def check_url(url: str, *, allow_http_loopback: bool, allowed: Sequence[Network] = ()) -> str:
    """The address if acceptable: https (http only to loopback when allowed), a host, no
    credentials in it, not a local or private address (unless its network is allowed);
    otherwise a refusal saying which rule it broke. Names are checked again, resolved, when a
    push connects."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise Refusal("webhook_url_invalid", 422) from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or any(c.isspace() for c in url)
    ):
        raise Refusal("webhook_url_invalid", 422)
    if parts.scheme == "http" and not (allow_http_loopback and _is_loopback(parts.hostname)):
        raise Refusal("webhook_https_required", 422)
    reason = host_refusal(parts.hostname, allowed)
    if reason is not None:
        # ``reason`` as the API has always given it; ``address_kind`` the same, said in words.
        raise Refusal("webhook_address_not_allowed", 422, reason=reason, address_kind=reason)
    return url


def _is_loopback(host: str) -> bool:
    if is_local_name(host):
        return True
    address = literal_address(host)
    return address is not None and address.is_loopback


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """The pause after ``attempts`` failed attempts: base, 2·base, 4·base, … up to cap."""
    exponent = min(max(attempts - 1, 0), 30)
    return min(cap, base * float(2**exponent))


def iso(at: datetime) -> str:
    # Fixed width, so stored times also sort as text.
    return at.isoformat(timespec="microseconds")
