"""Where a webhook push connects: the host resolved once, the address checked by the outbound
rule (shared/outbound.py), and the request pinned to that very address, the name kept for the
Host header and TLS, so a name that resolves elsewhere a second time (DNS rebinding) gains
nothing."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shared.outbound import Address, Network, is_local_name, literal_address, refusal

Resolve = Callable[[str, int], Awaitable[list[str]]]


class AddressNotAllowed(Exception):
    """Every address of the host is refused by the outbound rule; the message says why."""


class HostUnresolved(Exception):
    pass


async def resolve_host(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:  # socket.gaierror included
        raise HostUnresolved(host) from exc
    return [str(info[4][0]) for info in infos]


async def checked_address(url: str, allowed: Sequence[Network], resolve: Resolve) -> Address:
    """The one address a push to ``url`` connects to: its host resolved once, here, and the
    first address the outbound rule allows (shared/outbound.py)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = ipaddress.ip_address("127.0.0.1") if is_local_name(host) else literal_address(host)
    if literal is not None:
        candidates = [literal]
    else:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        candidates = [ipaddress.ip_address(a.split("%", 1)[0]) for a in await resolve(host, port)]
    reasons = []
    for candidate in candidates:
        reason = refusal(candidate, allowed)
        if reason is None:
            return candidate
        reasons.append(reason)
    raise AddressNotAllowed(reasons[0] if reasons else "no address")


def pinned(url: str, address: Address) -> tuple[str, str, dict[str, Any]]:
    """The request to make so that it reaches ``address`` and nothing else: the URL with the
    address in place of the host, the Host header, and the name TLS checks the certificate
    against (SNI)."""
    parts = urlsplit(url)
    shown = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    extensions: dict[str, Any] = {}
    if parts.scheme == "https" and literal_address(parts.hostname or "") is None:
        extensions["sni_hostname"] = parts.hostname
    return target, parts.netloc, extensions
