"""The whole stack for a test: every service in its own process, a fresh vhost and data dir."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.broker import amqp_url, create_vhost, delete_vhost, require_broker
from tools.cli.stack import SERVICES, Stack, available_services

ADMIN_TOKEN = "test-admin-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _on_mongo() -> bool:
    return os.environ.get("TSDX_STORE") == "mongo"


def _db_prefix(vhost: str | None) -> str:
    """A stack's own databases on a shared MongoDB server: by its vhost, or (a cluster of the
    test's own, no vhost made here) by a name of its own."""
    return f"tsdx_{(vhost or uuid.uuid4().hex[:8]).replace('-', '_')}"


@contextmanager
def running_stack(
    tmp: Path, services: tuple[str, ...] | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    cluster_urls = (extra_env or {}).get("TSDX_AMQP_URLS")
    if cluster_urls:
        # A broker (cluster) of the test's own: its first address stands for it where one
        # address is read (the fault witness, the checks).
        vhost = None
        url = cluster_urls.split(",")[0]
    else:
        require_broker()
        vhost = create_vhost()
        url = amqp_url(vhost)
    env = {
        "TSDX_AMQP_URL": url,
        "TSDX_DATA_DIR": str(tmp / "data"),
        "TSDX_ADMIN_TOKEN": ADMIN_TOKEN,
        "TSDX_LOG_FORMAT": "json",
        "TSDX_RETRY_DELAYS_MS": "[200, 500, 1000]",
        # Under TSDX_STORE=mongo (scripts/test-mongo) stacks share one server: databases of
        # their own, as a data directory of their own gives them under SQLite.
        "TSDX_DB_PREFIX": _db_prefix(vhost) if _on_mongo() else "tsdx",
        **(extra_env or {}),
    }
    # TSDX_TEST_SERVICES=registry,routing,gateway runs a subset while developing.
    only = tuple(filter(None, os.environ.get("TSDX_TEST_SERVICES", "").split(",")))
    stack = Stack(
        env=env,
        ports={s: free_port() for s in SERVICES},
        services=services or only or available_services(),
        log_dir=tmp / "logs",
    )
    stack.env = {**env, "TSDX_TEST_VHOST": vhost or ""}
    try:
        stack.start_all()
        stack.wait_ready(timeout=60)
        yield stack
    finally:
        stack.stop_all()
        if vhost is not None:
            delete_vhost(vhost)
