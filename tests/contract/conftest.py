"""Where the contract suite's stores live: a fresh SQLite file always, MongoDB when reachable,
and the MongoDB adapter against a MongoDB wire-protocol stand-in.

MongoDB is reached through ``TSDX_TEST_MONGO_URL`` or, failing that, a testcontainers MongoDB
started as a single-node replica set when a Docker engine answers. Each test gets its own
database, dropped afterwards. Without either, the mongo cases are skipped with the reason below.

The stand-in, nx-27017 (a MongoDB wire-protocol server on SQLite; NOT MongoDB), lets the MongoDB
adapter's real PyMongo calls run on every machine. It is started for the session from its own
environment (``.venv-nx``, made by ``scripts/setup.sh --test``, which pins its version). Each
case declares the server capabilities it needs (``@pytest.mark.needs(...)``); a case needing
one the stand-in lacks is skipped, naming it. Everything else must pass on it. A real MongoDB
has them all.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from shared.storage import Collection, Migration, Store
from shared.storage.mongo import MongoStore
from shared.storage.sqlite import SQLiteStore

MONGO_UNREACHABLE = (
    "MongoDB not reachable: set TSDX_TEST_MONGO_URL or provide a Docker engine for testcontainers"
)
# MongoDB runs transactions only on a replica set (or through mongos), never on a standalone
# server; the testcontainers server is started as a single-node replica set for that reason.
STANDALONE = "MongoDB at TSDX_TEST_MONGO_URL (a standalone server: transactions need a replica set)"
STANDIN = "MongoDB wire-protocol stand-in (nx-27017), not MongoDB"
STANDIN_ID = "mongo-wire-standin-nx27017-not-mongodb"
STANDIN_BIN = Path(__file__).resolve().parents[2] / ".venv-nx" / "bin" / "nx-27017"
STANDIN_MISSING = f"{STANDIN} not installed at {STANDIN_BIN}: scripts/setup.sh --test installs it"

# What a server can do that some contract cases rely on.
CAPABILITIES = {
    "query_plans": "explain() shows MongoDB's own plans (IXSCAN, COLLSCAN)",
    "named_indexes": "indexes keep the names they were created with",
    "partial_indexes": "partialFilterExpression limits what an index covers",
    "null_semantics": "{field: null} in find() matches a missing field as well as a null one",
    "transactions": "multi-document transactions that commit or roll back whole",
    "concurrent_transactions": (
        "several transactions open at once, each unseen by the others until it commits, a "
        "conflicting writer refused (write conflict)"
    ),
    "replica_set": "the server is a replica set member",
    "abort_on_any_connection": (
        "a transaction whose command was cut off mid-flight (its connection dropped by a "
        "cancelled await) is still undone by abortTransaction sent on another connection"
    ),
    "update_pipelines": "an update given as an aggregation pipeline ($set with $cond, $add …)",
}
ALL_CAPABILITIES = frozenset(CAPABILITIES)
# Found by running the suite on it: it has the rest.
STANDIN_LACKS = frozenset(
    {
        "query_plans",
        "named_indexes",
        "partial_indexes",
        "null_semantics",
        "concurrent_transactions",
        "replica_set",
        "update_pipelines",
        "abort_on_any_connection",
    }
)
MONGO_IMAGE = "mongo:7.0"
REPLICA_SET = "rs0"
READY_DEADLINE_SECONDS = 60.0


@dataclass(frozen=True)
class MongoServer:
    url: str
    capabilities: frozenset[str]
    label: str = "MongoDB"


@dataclass
class Target:
    """One test's storage (a SQLite file or a MongoDB database); opens stores on it."""

    adapter: str
    path: Path | None = None
    mongo: MongoServer | None = None
    database: str = ""
    opened: list[Store] = field(default_factory=list)

    @property
    def capabilities(self) -> frozenset[str]:
        return ALL_CAPABILITIES if self.mongo is None else self.mongo.capabilities

    def create(self) -> Store:
        if self.path is not None:
            return SQLiteStore(self.path)
        assert self.mongo is not None
        return MongoStore(self.mongo.url, self.database)

    async def open(
        self, collections: Sequence[Collection], migrations: Sequence[Migration] = ()
    ) -> Store:
        """Open one more store on the same file or database; it is closed after the test."""
        store = self.create()
        self.opened.append(store)  # closed after the test even if opening fails
        await store.open(collections, migrations)
        return store

    async def dispose(self) -> None:
        for store in self.opened:
            await store.close()
        if self.mongo is not None:
            cleaner = MongoStore(self.mongo.url, self.database)
            try:
                await cleaner.drop()
            finally:
                await cleaner.close()


def _server_at(url: str) -> MongoServer:
    """A real MongoDB has every capability; a standalone one has no transactions."""
    if _is_replica_set(url):
        return MongoServer(url, ALL_CAPABILITIES)
    lacks = {"transactions", "concurrent_transactions", "replica_set"}
    return MongoServer(url, ALL_CAPABILITIES - lacks, STANDALONE)


def _is_replica_set(url: str) -> bool:
    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        hello = client.admin.command("hello")
    finally:
        client.close()
    return "setName" in hello or hello.get("msg") == "isdbgrid"


def _docker_engine_answers() -> bool:
    # One cheap ping; any failure (no SDK config, no socket, engine down) means "no Docker".
    try:
        import docker

        client = docker.from_env(timeout=3)
    except Exception:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


def _start_replica_set_container() -> tuple[Any, str]:
    try:
        from testcontainers.community.mongodb import MongoDbContainer
    except ImportError:  # testcontainers before the community package split
        from testcontainers.mongodb import MongoDbContainer

    class ReplicaSetMongo(MongoDbContainer):
        def _configure(self) -> None:
            # No root user: with authentication on, a replica set also needs a key file.
            pass

    container = ReplicaSetMongo(MONGO_IMAGE).with_command(f"--replSet {REPLICA_SET} --bind_ip_all")
    container.start()
    host, port = container.get_container_host_ip(), container.get_exposed_port(27017)
    # A direct connection: the member's own name (localhost:27017) means nothing to this host.
    url = f"mongodb://{host}:{port}/?directConnection=true"
    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=10000)
    try:
        client.admin.command(
            "replSetInitiate",
            {"_id": REPLICA_SET, "members": [{"_id": 0, "host": "localhost:27017"}]},
        )
        deadline = time.monotonic() + READY_DEADLINE_SECONDS
        while not client.admin.command("hello").get("isWritablePrimary"):
            if time.monotonic() > deadline:
                container.stop()
                raise RuntimeError("the MongoDB replica set elected no primary in time")
            time.sleep(0.2)  # polling the election, bounded by the deadline above
    finally:
        client.close()
    return container, url


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[MongoServer | None]:
    """The MongoDB server for the session, or None; probed once, only if a mongo case runs."""
    url = os.environ.get("TSDX_TEST_MONGO_URL")
    if url:
        yield _server_at(url)
        return
    if not _docker_engine_answers():
        yield None
        return
    container, url = _start_replica_set_container()
    try:
        yield MongoServer(url, ALL_CAPABILITIES)
    finally:
        container.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def standin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer | None]:
    """nx-27017 on a free port for the session (data in a temporary directory), or None."""
    if not STANDIN_BIN.exists():
        yield None
        return
    home = tmp_path_factory.mktemp("nx27017")
    port = _free_port()
    with (home / "server.out").open("wb") as out:
        process = subprocess.Popen(
            [
                str(STANDIN_BIN),
                *("--host", "127.0.0.1", "--port", str(port)),
                *("--data-dir", str(home / "data")),
                *("--log-file", str(home / "server.log"), "--pid-file", str(home / "pid")),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    try:
        _wait_until_it_answers(url, process, home / "server.out")
        yield MongoServer(url, ALL_CAPABILITIES - STANDIN_LACKS, STANDIN)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_it_answers(url: str, process: subprocess.Popen[bytes], output: Path) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=500)
    deadline = time.monotonic() + READY_DEADLINE_SECONDS
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{STANDIN} exited: {output.read_text()[-2000:]}")
            try:
                client.admin.command("ping")
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
    finally:
        client.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs(*capabilities): server capabilities a contract case relies on; "
        f"one of {', '.join(sorted(CAPABILITIES))}",
    )


def _needed(request: pytest.FixtureRequest) -> set[str]:
    needed: set[str] = set()
    for marker in request.node.iter_markers("needs"):
        unknown = set(marker.args) - ALL_CAPABILITIES
        if unknown:
            raise ValueError(f"unknown capabilities {sorted(unknown)}: see CAPABILITIES")
        needed.update(marker.args)
    return needed


@pytest.fixture(
    params=[
        "sqlite",
        "mongo",
        pytest.param("standin", id=STANDIN_ID),
    ]
)
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    if request.param == "sqlite":
        chosen = Target("sqlite", path=tmp_path / "contract.sqlite3")
    else:
        fixture = "mongo_server" if request.param == "mongo" else "standin_server"
        server: MongoServer | None = request.getfixturevalue(fixture)
        if server is None:
            pytest.skip(MONGO_UNREACHABLE if request.param == "mongo" else STANDIN_MISSING)
        lacking = sorted(_needed(request) - server.capabilities)
        if lacking:
            pytest.skip(
                f"{server.label} lacks {', '.join(lacking)}: "
                + "; ".join(CAPABILITIES[name] for name in lacking)
            )
        chosen = Target(request.param, mongo=server, database=f"tsdx_contract_{uuid.uuid4().hex}")
    try:
        yield chosen
    finally:
        await chosen.dispose()


@pytest.fixture
def collections() -> Sequence[Collection]:
    """The collections ``store`` declares; a test module overrides this fixture."""
    return ()


@pytest.fixture
async def store(target: Target, collections: Sequence[Collection]) -> Store:
    """A store opened with the declared collections; closed (and its data removed) after."""
    return await target.open(collections)


# --- the stand-in lane's own count, printed with pytest's closing lines ------------------------

_standin_outcomes: dict[str, int] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if STANDIN_ID not in report.nodeid:
        return
    # A case counts once: by its call, or by its setup when that skipped or failed it.
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = "error" if report.when == "setup" and report.failed else report.outcome
        _standin_outcomes[outcome] = _standin_outcomes.get(outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _standin_outcomes:
        return
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(_standin_outcomes.items()))
    terminalreporter.write_sep("=", f"storage contract on the {STANDIN}: {counts}")
