"""RabbitMQ nodes of a test's own, from the installed ``rabbitmq-server``: a three-node cluster
for the node-loss tests, one node for tests that restart the broker. Never the machine's own
broker: these nodes have their own names, ports, cookie and directories, and are killed and
removed afterwards, whatever happened in the test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tools.cli.local_cluster import USER, ClusterError, LocalCluster, Node, rabbit_tool


def require_rabbitmq_installed() -> None:
    try:
        rabbit_tool("rabbitmq-server")
    except ClusterError as exc:
        pytest.skip(str(exc))
    if shutil.which("erl") is None and not Path("/usr/lib/erlang/bin/erl").exists():
        pytest.skip("Erlang is not installed")


@contextmanager
def local_cluster(base: Path, size: int = 3) -> Iterator[LocalCluster]:
    """Start ``size`` nodes joined in one cluster; kill them and remove their files at the end."""
    require_rabbitmq_installed()
    cluster = LocalCluster.create(base, size)
    try:
        cluster.up()
        yield cluster
    finally:
        cluster.down()


def add_vhost(cluster: LocalCluster, name: str) -> None:
    """A virtual host on the cluster, through a live node's management API."""
    node: Node = cluster.live_nodes()[0]
    httpx.put(f"{node.management_url}/vhosts/{quote(name, safe='')}", auth=USER, timeout=30)
    httpx.put(
        f"{node.management_url}/permissions/{quote(name, safe='')}/{USER[0]}",
        auth=USER,
        json={"configure": ".*", "write": ".*", "read": ".*"},
        timeout=30,
    ).raise_for_status()


def stack_env(cluster: LocalCluster, vhost: str) -> dict[str, str]:
    """What a stack needs to run on the cluster: every node's address and management API."""
    apis = cluster.api_urls()
    return {
        "TSDX_AMQP_URLS": cluster.amqp_urls(vhost),
        "TSDX_RABBITMQ_API_URL": apis[0],  # the tests' own checks ask the first node
        "TSDX_RABBITMQ_API_URLS": ",".join(apis),  # the dashboard asks them all in turn
    }
