"""The outbound rule: which addresses a webhook may reach (table-tested, no I/O)."""

from __future__ import annotations

import pytest

from shared.outbound import NetworksInvalid, allowed_networks, host_refusal

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.10", "private"),
    ("fd00::1", "private"),  # IPv6 unique-local
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("100.64.0.1", "not public"),  # carrier-grade NAT
    ("240.0.0.1", "private"),  # reserved for future use (Python files it as private too)
    ("192.0.2.1", "private"),  # documentation
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
    ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
    ("2130706433", "loopback"),  # 127.0.0.1 as one decimal number
    ("017700000001", "loopback"),  # ... as one octal number
    ("0x7f000001", "loopback"),  # ... as one hex number
    ("0177.0.0.1", "loopback"),  # octal parts
    ("0x7f.1", "loopback"),  # hex, two parts
    ("127.1", "loopback"),  # short form
    ("0xa9.0xfe.0xa9.0xfe", "link-local"),  # 169.254.169.254 in hex
    ("127.0.0.1.", "loopback"),  # the root of DNS
    ("localhost", "loopback"),
    ("LOCALHOST.", "loopback"),
    ("api.localhost", "loopback"),
]

ALLOWED = [
    "8.8.8.8",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "1c.example.ru",  # a name: checked, resolved, when a push connects
    "localhost.example.ru",
    "1.2.3.4.5",  # not an address: a name
]


@pytest.mark.parametrize(("host", "reason"), REFUSED)
def test_local_private_and_reserved_addresses_are_refused(host: str, reason: str) -> None:
    assert host_refusal(host) == reason


@pytest.mark.parametrize("host", ALLOWED)
def test_public_addresses_and_names_pass(host: str) -> None:
    assert host_refusal(host) is None


@pytest.mark.parametrize(
    ("host", "networks", "refused"),
    [
        ("10.1.2.3", "10.1.0.0/16", None),
        ("10.2.0.1", "10.1.0.0/16", "private"),
        ("::ffff:10.1.2.3", "10.1.0.0/16", None),
        ("127.0.0.1", "127.0.0.0/8", None),
        ("localhost", "127.0.0.0/8", None),
        ("2130706433", "127.0.0.1/32", None),
        ("fd00:1::5", "fd00:1::/64, 10.1.0.0/16", None),
        ("fd00:2::5", "fd00:1::/64 10.1.0.0/16", "private"),
    ],
)
def test_an_operator_allows_named_networks_only(
    host: str, networks: str, refused: str | None
) -> None:
    assert host_refusal(host, allowed_networks(networks)) == refused


@pytest.mark.parametrize("text", ["10.1.0.0/33", "intranet", "10.1.0.0/16,,fd00::/300"])
def test_a_network_that_cannot_be_read_is_refused(text: str) -> None:
    with pytest.raises(NetworksInvalid):
        allowed_networks(text)
