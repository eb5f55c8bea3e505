"""A RabbitMQ cluster of a few nodes on this machine, from the installed ``rabbitmq-server``.

For developers and tests: every node has its own name, ports and directories under one base
directory, and an Erlang cookie of its own, so nothing here can reach the machine's own broker
(``rabbit@<host>``), and removing the base directory removes everything. Nodes run detached;
their pid files are how they are found, killed and stopped again.

    up:     start the nodes, join them to the first, wait until every one runs
    kill:   kill -9 one node (a crash); ``start`` brings it back, and it rejoins the cluster
    down:   kill every node and remove the base directory
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from tools.cli.parse_errors import whole_number

# Debian installs the real scripts here; /usr/sbin's wrappers switch to the rabbitmq user and
# its HOME (the machine's cookie), which is what these nodes must not use.
_RABBIT_BIN = "/usr/lib/rabbitmq/bin"
STATE_FILE = "cluster.json"
USER = ("guest", "guest")  # the default user, allowed from loopback only


class ClusterError(RuntimeError):
    """The cluster could not be started, joined or reached."""


def rabbit_tool(name: str) -> str:
    found = shutil.which(name, path=f"{_RABBIT_BIN}:{os.environ.get('PATH', '')}")
    if found is None:
        raise ClusterError(f"{name} is not installed (Debian: apt-get install rabbitmq-server)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Node:
    name: str  # e.g. tsdx-3f9a1c-1@localhost
    amqp_port: int
    dist_port: int
    management_port: int
    directory: str

    @property
    def pid_file(self) -> Path:
        return Path(self.directory) / "pid"

    def amqp_url(self, vhost: str = "/") -> str:
        return f"amqp://{USER[0]}:{USER[1]}@localhost:{self.amqp_port}/{quote(vhost, safe='')}"

    @property
    def management_url(self) -> str:
        return f"http://localhost:{self.management_port}/api"

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        pid = self.pid()
        return pid is not None and _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed child of ours stays a zombie until reaped: not alive.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class LocalCluster:
    """Nodes described in ``base``/cluster.json, so another process (``down``) finds them."""

    def __init__(self, base: Path, nodes: list[Node], cookie: str) -> None:
        self.base = base
        self.nodes = nodes
        self._cookie = cookie

    # -- creation and state ---------------------------------------------------------------

    @classmethod
    def create(cls, base: Path, size: int = 3) -> LocalCluster:
        """Describe a new cluster of ``size`` nodes with free ports (nothing started yet)."""
        base = base.resolve()
        if (base / STATE_FILE).exists():
            raise ClusterError(f"a cluster is already described in {base}; take it down first")
        tag = secrets.token_hex(3)
        nodes = []
        for n in range(1, size + 1):
            directory = base / f"node{n}"
            nodes.append(
                Node(
                    name=f"tsdx-{tag}-{n}@localhost",
                    amqp_port=free_port(),
                    dist_port=free_port(),
                    management_port=free_port(),
                    directory=str(directory),
                )
            )
        cluster = cls(base, nodes, secrets.token_hex(20))
        cluster._write_files()
        return cluster

    @classmethod
    def load(cls, base: Path) -> LocalCluster:
        try:
            state = json.loads((base / STATE_FILE).read_text())
        except OSError:
            raise ClusterError(f"no cluster described in {base}") from None
        return cls(base, [Node(**n) for n in state["nodes"]], state["cookie"])

    def _write_files(self) -> None:
        home = self.base / "home"
        home.mkdir(parents=True, exist_ok=True)
        cookie = home / ".erlang.cookie"
        cookie.write_text(self._cookie)
        cookie.chmod(0o400)
        (self.base / "enabled_plugins").write_text("[rabbitmq_management].\n")
        (self.base / "rabbitmq-env.conf").write_text("")
        for node in self.nodes:
            directory = Path(node.directory)
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "rabbitmq.conf").write_text(
                f"listeners.tcp.1 = 127.0.0.1:{node.amqp_port}\n"
                f"management.tcp.ip = 127.0.0.1\n"
                f"management.tcp.port = {node.management_port}\n"
                # Fewer, larger statistics updates: the nodes share a small machine.
                "collect_statistics_interval = 10000\n"
            )
        state = {"cookie": self._cookie, "nodes": [asdict(n) for n in self.nodes]}
        (self.base / STATE_FILE).write_text(json.dumps(state, indent=2))

    def _env(self, node: Node) -> dict[str, str]:
        directory = Path(node.directory)
        return {
            **os.environ,
            "HOME": str(self.base / "home"),
            "RABBITMQ_NODENAME": node.name,
            "RABBITMQ_NODE_PORT": str(node.amqp_port),
            "RABBITMQ_DIST_PORT": str(node.dist_port),
            "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"),
            "RABBITMQ_LOG_BASE": str(directory / "log"),
            "RABBITMQ_PID_FILE": str(node.pid_file),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(directory / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            # One scheduler, no busy waiting, distribution on loopback only: several nodes
            # share a small machine with other work.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": (
                "+S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none "
                "-kernel inet_dist_use_interface {127,0,0,1}"
            ),
        }

    # -- one node -------------------------------------------------------------------------

    def ctl(self, node: Node, *args: str, timeout: float = 60.0) -> str:
        """Run ``rabbitmqctl`` against one of this cluster's nodes; its output."""
        return self._tool("rabbitmqctl", node, *args, timeout=timeout)

    def queues_tool(self, node: Node, *args: str, timeout: float = 60.0) -> str:
        """Run ``rabbitmq-queues`` against one of this cluster's nodes; its output."""
        return self._tool("rabbitmq-queues", node, *args, timeout=timeout)

    def _tool(self, tool: str, node: Node, *args: str, timeout: float) -> str:
        done = subprocess.run(
            [rabbit_tool(tool), "-n", node.name, *args],
            env=self._env(node),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise ClusterError(f"{tool} {' '.join(args)} on {node.name}: {done.stderr.strip()}")
        return done.stdout

    def start(self, node: Node, *, wait: float = 90.0) -> None:
        """Start a node (again): a member of the cluster rejoins it by itself."""
        if node.running():
            return
        node.pid_file.unlink(missing_ok=True)
        subprocess.run(
            [rabbit_tool("rabbitmq-server"), "-detached"],
            env=self._env(node),
            # Erlang writes crash dumps (MnesiaCore.*) where the node runs: in its own directory.
            cwd=self.base,
            capture_output=True,
            check=True,
            timeout=30,
        )
        if wait:
            self.wait_running(node, wait)

    def wait_running(self, node: Node, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not node.pid_file.exists():
            if time.monotonic() > deadline:
                raise ClusterError(f"{node.name} wrote no pid file in {timeout}s")
            time.sleep(0.2)
        left = max(1, int(deadline - time.monotonic()))
        self.ctl(node, "wait", str(node.pid_file), "--timeout", str(left), timeout=left + 10)

    def kill(self, node: Node, sig: int = signal.SIGKILL, timeout: float = 30.0) -> None:
        """Signal a node's process (kill -9 by default) and wait until it is gone."""
        pid = node.pid()
        if pid is None or not _alive(pid):
            return
        os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while _alive(pid):
            if time.monotonic() > deadline:
                raise ClusterError(f"{node.name} (pid {pid}) still running after {timeout}s")
            time.sleep(0.05)

    # -- the cluster ----------------------------------------------------------------------

    def up(self, timeout: float = 120.0) -> None:
        """Start every node, join the others to the first, and wait until all run together."""
        for node in self.nodes:
            self.start(node, wait=0)
        for node in self.nodes:
            self.wait_running(node, timeout)
        first, *others = self.nodes
        for node in others:
            self.ctl(node, "stop_app")
            self.ctl(node, "join_cluster", first.name)
            self.ctl(node, "start_app")
        self.wait_members(len(self.nodes), timeout)

    def running_nodes(self, via: Node | None = None) -> list[str]:
        """The nodes running in the cluster, as a live node sees them."""
        for node in [via] if via else self.live_nodes():
            status = json.loads(self.ctl(node, "cluster_status", "--formatter", "json"))
            return sorted(status.get("running_nodes", []))
        return []

    def wait_members(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if len(self.running_nodes()) == count:
                    return
            except ClusterError:
                pass
            if time.monotonic() > deadline:
                raise ClusterError(f"{count} running nodes not reached in {timeout}s")
            time.sleep(0.3)

    def live_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.running()]

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise ClusterError(f"no node named {name!r} in this cluster")

    def amqp_urls(self, vhost: str = "/") -> str:
        """Every node's address, comma-separated: the value of ``TSDX_AMQP_URLS``."""
        return ",".join(n.amqp_url(vhost) for n in self.nodes)

    def api_urls(self) -> list[str]:
        """Every node's management API with the user in it: the entries of
        ``TSDX_RABBITMQ_API_URLS``."""
        return [n.management_url.replace("//", f"//{USER[0]}:{USER[1]}@", 1) for n in self.nodes]

    def _asked(self, path: str, what: str) -> Any:
        """The answer of the first live node's management API to ``GET path``."""
        for node in self.live_nodes():
            try:
                response = httpx.get(f"{node.management_url}{path}", auth=USER, timeout=5)
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                return response.json()
        raise ClusterError(f"no live node answers for {what}")

    def quorum_queues(self, vhost: str = "/") -> dict[str, dict[str, Any]]:
        """Every quorum queue of a virtual host: its leader, members and online members."""
        queues = self._asked(f"/queues/{quote(vhost, safe='')}", f"the queues of {vhost!r}")
        return {
            str(q["name"]): {
                "leader": q.get("leader"),
                "members": sorted(q.get("members", [])),
                "online": sorted(q.get("online", [])),
            }
            for q in queues
            if q.get("type") == "quorum"
        }

    def queue_info(self, queue: str, vhost: str = "/") -> dict[str, Any]:
        """A queue as the management API of a live node shows it (leader, members, online)."""
        info: dict[str, Any] = self._asked(
            f"/queues/{quote(vhost, safe='')}/{quote(queue)}", f"queue {queue!r}"
        )
        return info

    def connection_nodes(self, vhost: str = "/") -> set[str]:
        """The nodes that the clients of a virtual host are connected to."""
        connections = self._asked(
            f"/vhosts/{quote(vhost, safe='')}/connections", f"the connections of {vhost!r}"
        )
        return {str(c["node"]) for c in connections}

    def leader_of(self, queue: str, vhost: str = "/") -> Node:
        """The node that leads a quorum queue now."""
        return self.node(str(self.queue_info(queue, vhost)["leader"]))

    def down(self) -> None:
        """Kill every node and remove the base directory."""
        for node in self.nodes:
            self.kill(node)
        shutil.rmtree(self.base, ignore_errors=True)

    def status(self) -> list[dict[str, Any]]:
        return [
            {"node": n.name, "running": n.running(), "amqp": n.amqp_url(), "api": n.management_url}
            for n in self.nodes
        ]


DEFAULT_BASE = Path(os.environ.get("TMPDIR", "/tmp")) / "tsdx-rabbit-cluster"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="scripts/rabbit-cluster",
        description="A local RabbitMQ cluster for development: its own nodes, ports and "
        "directories, never the machine's own broker.",
    )
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument(
        "--nodes", type=whole_number, default=3, help="how many nodes (up; default 3)"
    )
    parser.add_argument(
        "--dir", type=Path, default=DEFAULT_BASE, help=f"base directory (default {DEFAULT_BASE})"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            if args.nodes < 1:
                parser.error("--nodes must be at least 1")
            cluster = LocalCluster.create(args.dir, args.nodes)
            try:
                cluster.up()
            except BaseException:
                cluster.down()
                raise
            print(f"TSDX_AMQP_URLS={cluster.amqp_urls()}")
            print(f"TSDX_RABBITMQ_API_URLS={','.join(cluster.api_urls())}")
        elif args.command == "down":
            LocalCluster.load(args.dir).down()
            print(f"cluster in {args.dir} removed")
        else:
            cluster = LocalCluster.load(args.dir)
            for row in cluster.status():
                state = "running" if row["running"] else "down"
                print(f"{row['node']:32} {state:8} {row['amqp']}  {row['api']}")
            if cluster.live_nodes():
                print("cluster members running:", ", ".join(cluster.running_nodes()))
            print(f"TSDX_AMQP_URLS={cluster.amqp_urls()}")
    except ClusterError as exc:
        print(f"rabbit-cluster: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
