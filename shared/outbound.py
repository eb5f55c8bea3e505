"""Where tsdx may connect to push a webhook: public addresses only (pure rules, no I/O).

A webhook address is chosen by whoever holds an API key, so without this rule the gateway could
be made to call its own host, the local network or a cloud's metadata service. Refused, unless
an operator names the network in ``TSDX_WEBHOOK_ALLOWED_NETWORKS``:

- loopback, private (RFC 1918, IPv6 unique-local), link-local (cloud metadata at
  169.254.169.254), multicast, unspecified (``0.0.0.0``, ``::``), reserved, shared
  (carrier-grade NAT 100.64.0.0/10) and every other range that is not globally reachable;
- the same addresses inside IPv6: IPv4-mapped (``::ffff:127.0.0.1``) and NAT64
  (``64:ff9b::7f00:1``);
- hosts written as numbers in the forms the C library also reads: ``2130706433``,
  ``0177.0.0.1``, ``0x7f.1``, ``127.1``;
- the names ``localhost`` and ``*.localhost``.

The rule is applied when the address is set (to what can be known without DNS) and again to
every address the name resolves to when a push connects; the push then connects to the very
address that was checked, so a name that resolves elsewhere the second time (DNS rebinding)
gains nothing.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NUMERIC_V4 = re.compile(r"[0-9a-fA-FxX.]+")


class NetworksInvalid(ValueError):
    """The operator's list of allowed networks cannot be read."""


def allowed_networks(text: str) -> tuple[Network, ...]:
    """``10.1.0.0/16, fd00:1::/64`` (commas or spaces between) as networks."""
    networks = []
    for item in re.split(r"[,\s]+", text.strip()):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise NetworksInvalid(f"not a network: {item!r}") from None
    return tuple(networks)


def literal_address(host: str) -> Address | None:
    """The IP address ``host`` stands for when it is written as one, in any form the C library
    accepts (inet_aton for IPv4); None when it is a name."""
    host = host.strip()
    if host.endswith("."):  # the root of DNS: "127.0.0.1." is the same address
        host = host[:-1]
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # a zone index names no address
    except ValueError:
        pass
    if not _NUMERIC_V4.fullmatch(host) or not host[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))  # pure: parses, no lookup
    except OSError:
        return None


def is_local_name(host: str) -> bool:
    name = host.strip().rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def refusal(address: Address, allowed: Sequence[Network] = ()) -> str | None:
    """Why the gateway must not connect to ``address`` (a word for the message), or None."""
    if any(address in network for network in allowed):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped
        if inner is None and address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            return refusal(inner, allowed)
    for reason, applies in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not public", not address.is_global),
    ):
        if applies:
            return reason
    return None


def host_refusal(host: str, allowed: Sequence[Network] = ()) -> str | None:
    """What can be said of a URL's host without DNS: a refused address or a local name."""
    if is_local_name(host):
        loopback = ipaddress.ip_address("127.0.0.1")
        return refusal(loopback, allowed)
    address = literal_address(host)
    return None if address is None else refusal(address, allowed)
