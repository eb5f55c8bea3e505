"""Where the contract suite's stores live: a fresh SQLite file always, MongoDB when reachable.

MongoDB is reached through ``TSDX_TEST_MONGO_URL`` or, failing that, a testcontainers MongoDB
started as a single-node replica set when a Docker engine answers. Each test gets its own
database, dropped afterwards. Without either, the mongo cases are skipped with the reason below.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from shared.storage import Collection, Store
from shared.storage.mongo import MongoStore
from shared.storage.sqlite import SQLiteStore

MONGO_UNREACHABLE = (
    "MongoDB not reachable: set TSDX_TEST_MONGO_URL or provide a Docker engine for testcontainers"
)
# MongoDB runs transactions only on a replica set (or through mongos), never on a standalone
# server; the testcontainers server is started as a single-node replica set for that reason.
NO_TRANSACTIONS = (
    "MongoDB at TSDX_TEST_MONGO_URL is a standalone server: transactions need a replica set"
)
MONGO_IMAGE = "mongo:7.0"
REPLICA_SET = "rs0"
READY_DEADLINE_SECONDS = 60.0


@dataclass(frozen=True)
class MongoServer:
    url: str
    replica_set: bool


@dataclass
class Target:
    """One test's storage (a SQLite file or a MongoDB database); opens stores on it."""

    adapter: str
    path: Path | None = None
    mongo: MongoServer | None = None
    database: str = ""
    opened: list[Store] = field(default_factory=list)

    @property
    def transactions(self) -> bool:
        return self.mongo is None or self.mongo.replica_set

    def create(self) -> Store:
        if self.path is not None:
            return SQLiteStore(self.path)
        assert self.mongo is not None
        return MongoStore(self.mongo.url, self.database)

    async def open(self, collections: Sequence[Collection]) -> Store:
        """Open one more store on the same file or database; it is closed after the test."""
        store = self.create()
        await store.open(collections)
        self.opened.append(store)
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
        yield MongoServer(url, _is_replica_set(url))
        return
    if not _docker_engine_answers():
        yield None
        return
    container, url = _start_replica_set_container()
    try:
        yield MongoServer(url, replica_set=True)
    finally:
        container.stop()


@pytest.fixture(params=["sqlite", "mongo"])
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    if request.param == "sqlite":
        chosen = Target("sqlite", path=tmp_path / "contract.sqlite3")
    else:
        server: MongoServer | None = request.getfixturevalue("mongo_server")
        if server is None:
            pytest.skip(MONGO_UNREACHABLE)
        chosen = Target("mongo", mongo=server, database=f"tsdx_contract_{uuid.uuid4().hex}")
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


@pytest.fixture
def transactions(target: Target) -> None:
    """Skips the test where the server cannot run transactions (standalone MongoDB)."""
    if not target.transactions:
        pytest.skip(NO_TRANSACTIONS)
