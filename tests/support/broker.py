"""A fresh RabbitMQ virtual host per test stack, so stacks never see each other's messages.

The broker's round trips stay off the tests' way: the next vhost of a prefix is made in the
background while the test that took the last one runs, and deleting one (which waits while
the broker removes its queues, each quorum queue its own Raft group) is handed to a background
deleter. The session waits for all of it at its end (``tests/conftest.py``) and deletes the
vhosts made ahead but not taken. Only vhosts made here are deleted."""

from __future__ import annotations

import functools
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import asynccontextmanager
from urllib.parse import quote, urlparse, urlunparse

import httpx

from tests.support.waiting import eventually
from tools.cli.broker_check import broker_answers

BASE_AMQP = "amqp://guest:guest@localhost:5672/"
MANAGEMENT = "http://localhost:15672/api"
AUTH = ("guest", "guest")
# Deletions at once: enough to keep up with the tests, few enough not to crowd the broker.
DELETING_AT_ONCE = 2

_deleter = ThreadPoolExecutor(DELETING_AT_ONCE, thread_name_prefix="vhost-delete")
_deleting: dict[str, Future[None]] = {}
_maker = ThreadPoolExecutor(1, thread_name_prefix="vhost-create")
_made_ahead: dict[str, Future[str]] = {}


@functools.cache
def _management_up() -> bool:
    """Asked once a run: the management plugin is there for the whole run or not at all."""
    try:
        return httpx.get(f"{MANAGEMENT}/overview", auth=AUTH, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _rabbitmqctl(*args: str, check: bool) -> None:
    ctl = shutil.which("rabbitmqctl") or "rabbitmqctl"
    subprocess.run([ctl, *args], check=check, capture_output=True)


def _create_now(prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    if _management_up():
        # The management API grants the user who creates a vhost full permissions on it.
        httpx.put(
            f"{MANAGEMENT}/vhosts/{quote(name, safe='')}", auth=AUTH, timeout=10
        ).raise_for_status()
    else:
        _rabbitmqctl("add_vhost", name, check=True)
        _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*", check=True)
    return name


def create_vhost(prefix: str = "tsdx-test") -> str:
    """A new, empty vhost of this caller's alone, and the next one of its prefix made ahead."""
    ahead = _made_ahead.pop(prefix, None)
    # One made ahead that failed is made again here, where its error is the caller's.
    name = ahead.result() if ahead is not None and ahead.exception() is None else None
    _made_ahead[prefix] = _maker.submit(_create_now, prefix)
    return name if name is not None else _create_now(prefix)


def _delete_now(name: str) -> None:
    if _management_up():
        answer = httpx.delete(f"{MANAGEMENT}/vhosts/{quote(name, safe='')}", auth=AUTH, timeout=60)
        if answer.status_code not in (204, 404):
            answer.raise_for_status()
    else:
        _rabbitmqctl("delete_vhost", name, check=False)


def delete_vhost(name: str) -> None:
    """Hands a vhost made by :func:`create_vhost`, no longer used, to the background deleter."""
    if name not in _deleting:
        _deleting[name] = _deleter.submit(_delete_now, name)


def finish_deletions(timeout: float = 120.0) -> None:
    """Deletes the vhosts made ahead and not taken, waits for every vhost handed to
    :func:`delete_vhost`; raises naming any left behind."""
    for ahead in _made_ahead.values():
        if ahead.exception() is None:
            delete_vhost(ahead.result())
    _made_ahead.clear()
    wait(_deleting.values(), timeout)
    left = {
        name: repr(deleting.exception()) if deleting.done() else "still being deleted"
        for name, deleting in _deleting.items()
        if not deleting.done() or deleting.exception() is not None
    }
    _deleting.clear()
    if left:
        raise RuntimeError(f"RabbitMQ vhosts not deleted: {left}")


def amqp_url(vhost: str) -> str:
    parsed = urlparse(BASE_AMQP)
    return urlunparse(parsed._replace(path="/" + quote(vhost, safe="")))


def require_broker() -> None:
    if not broker_answers(BASE_AMQP):
        raise RuntimeError(
            "RabbitMQ does not answer on localhost:5672; run the test suite through "
            "scripts/test (it starts one) or start rabbitmq-server yourself"
        )


async def close_connections(vhost: str) -> int:
    """Close every client connection of ``vhost`` from the broker's side (as a lost network
    or a broker that drops clients would); how many there were."""
    async with httpx.AsyncClient(auth=AUTH, timeout=10) as http:
        listed = await http.get(f"{MANAGEMENT}/vhosts/{quote(vhost, safe='')}/connections")
        listed.raise_for_status()
        names = [c["name"] for c in listed.json()]
        for name in names:
            closed = await http.delete(f"{MANAGEMENT}/connections/{quote(name, safe='')}")
            assert closed.status_code in (204, 404), closed.text
        return len(names)


@asynccontextmanager
async def access_revoked(vhost: str) -> AsyncIterator[None]:
    """The test user's rights on ``vhost`` taken away, and its connections closed, so that they
    cannot come back (a broker whose vhost an operator locked); the rights are given back at
    the end."""
    user = AUTH[0]
    permissions = f"{MANAGEMENT}/permissions/{quote(vhost, safe='')}/{user}"
    async with httpx.AsyncClient(auth=AUTH, timeout=10) as http:
        (await http.delete(permissions)).raise_for_status()
        try:
            # The management API lists a new connection a few seconds after it opened.
            await eventually(lambda: close_connections(vhost), what="the connections closed")
            yield
        finally:
            granted = {"configure": ".*", "write": ".*", "read": ".*"}
            (await http.put(permissions, json=granted)).raise_for_status()
