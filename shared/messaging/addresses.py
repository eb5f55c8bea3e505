"""Broker addresses of a RabbitMQ cluster: the list, the order they are tried in, the pause
between attempts, and the replication size of quorum queues (pure rules, no I/O).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import SplitResult, urlsplit

# A quorum of three replicas survives the loss of one node; more replicas cost every write.
MAX_QUORUM_GROUP = 3


class BadAddressList(ValueError):
    """The configured broker addresses cannot be used."""


def parse_addresses(urls: str | None, url: str) -> tuple[str, ...]:
    """The broker addresses to use: ``urls`` (comma-separated) when given, else the single
    ``url``. Blank entries are skipped; a repeated address is kept once, in its first place."""
    return _address_list(
        urls,
        url,
        ("amqp", "amqps"),
        ("an AMQP address", "amqp://user:password@host:port/vhost", "broker"),
    )


def parse_api_addresses(urls: str | None, url: str) -> tuple[str, ...]:
    """The management API addresses to ask, one per node, by the same rules as
    :func:`parse_addresses`."""
    return _address_list(
        urls,
        url,
        ("http", "https"),
        ("a management API address", "http://user:password@host:15672/api", "management API"),
    )


def _address_list(
    urls: str | None, url: str, schemes: tuple[str, ...], words: tuple[str, str, str]
) -> tuple[str, ...]:
    kind, example, what = words  # as the refusals name them
    raw = [u.strip() for u in (urls or "").split(",") if u.strip()] if urls else [url.strip()]
    found: list[str] = []
    for address in raw:
        parts = urlsplit(address)
        if parts.scheme not in schemes or not parts.hostname or not _port_readable(parts):
            raise BadAddressList(f"not {kind}: {without_password(address)!r} (expected {example})")
        if address not in found:
            found.append(address)
    if not found:
        raise BadAddressList(f"no {what} address given")
    return tuple(found)


def _port_readable(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018 (read for its check: a port that is not a number)
    except ValueError:
        return False
    return True


def without_password(address: str) -> str:
    """The address as it may be shown: its password starred."""
    parts = urlsplit(address)
    if parts.password is None:
        return address
    return address.replace(f":{parts.password}@", ":******@", 1)


def quorum_group_size(configured: int | None, addresses: int) -> int | None:
    """How many replicas a quorum queue is declared with (``x-quorum-initial-group-size``).

    ``configured`` wins when given (0: leave it to the broker). Otherwise one address means one
    broker (or a balancer in front of a cluster): the broker decides, as before. Several
    addresses mean a cluster of that many nodes: as many replicas, at most three.
    """
    if configured is not None:
        return configured or None
    if addresses <= 1:
        return None
    return min(addresses, MAX_QUORUM_GROUP)


class AddressRing:
    """Addresses taken in turn, so that after losing a node the next attempt goes to another,
    and a pause that grows only once every address has been tried and none answered."""

    def __init__(
        self, addresses: Sequence[str], *, first_pause: float = 0.1, max_pause: float = 5.0
    ) -> None:
        if not addresses:
            raise BadAddressList("no broker address given")
        self.addresses = tuple(addresses)
        self._next = 0
        self._failures = 0
        self._first_pause = first_pause
        self._max_pause = max_pause
        self.current = self.addresses[0]

    def take(self) -> str:
        """The address for the next connection attempt."""
        self.current = self.addresses[self._next % len(self.addresses)]
        self._next += 1
        return self.current

    def failed(self) -> None:
        self._failures += 1

    def connected(self) -> None:
        self._failures = 0

    @property
    def pause(self) -> float:
        """Seconds to wait before the next attempt."""
        return reconnect_pause(
            self._failures, len(self.addresses), self._first_pause, self._max_pause
        )


def reconnect_pause(failures: int, addresses: int, first: float, cap: float) -> float:
    """A short pause while untried addresses remain in this round; after each full round of
    failures, twice the pause of the round before, up to ``cap``."""
    rounds = failures // max(addresses, 1)
    return float(min(first * (2**rounds), cap))
