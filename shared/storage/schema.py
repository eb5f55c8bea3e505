"""The one start-up migration mechanism of a store: data upgrades and indexes alike.

On ``open`` every store, whatever its adapter, goes through :func:`bring_in_step`:

1. reads the schema version it records (a store written before versions were recorded, or a
   new one, is version 1) and refuses to start on data newer than the code (``StoreTooNew``);
2. drops the indexes tsdx owns (named ``ix_...``) that the code no longer declares, so an old
   unique index stops refusing what the new code allows; indexes anyone else made stay;
3. runs each forward-only step newer than the stored version in a transaction of its own, which
   also records the step's version, and logs it;
4. creates the declared indexes that are missing, after the data steps (a step may first make
   the data fit a new unique index).

Several replicas may start at once: every change is idempotent or conditional. A step re-reads
the version inside its transaction and does nothing if another replica got there first (SQLite
serialises the two; in MongoDB the second writer of the version document meets a write
conflict, and its transaction runs again and finds the step done); creating an index that exists
and dropping one that is gone are no-ops.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from shared.logging import get_logger
from shared.storage.port import (
    Collection,
    DuplicateKeyError,
    Migration,
    Session,
    StoreTooNew,
)

T = TypeVar("T")

log = get_logger("tsdx.storage")

SCHEMA = Collection("tsdx_schema")
SCHEMA_ID = "schema"
# Data written before the version was recorded has the shape of version 1.
FIRST_VERSION = 1


class SchemaTarget(Protocol):
    """What an adapter offers the mechanism, besides the port's own operations."""

    async def get(self, collection: str, id: str) -> dict[str, object] | None: ...

    async def insert(self, collection: str, doc: dict[str, object]) -> None: ...

    async def run_transaction(self, work: Callable[[Session], Awaitable[T]]) -> T: ...

    async def ensure_collections(self, collections: Sequence[Collection]) -> None: ...

    async def drop_undeclared_indexes(self, collections: Sequence[Collection]) -> list[str]:
        """Drop owned indexes of these collections that they no longer declare; their names."""
        ...

    async def create_declared_indexes(self, collections: Sequence[Collection]) -> list[str]:
        """Create the declared indexes that are missing; the names of those created."""
        ...


def code_version(migrations: Sequence[Migration]) -> int:
    """The schema version this code writes: that of its last step, or 1 without any."""
    expected = FIRST_VERSION + 1
    for step in migrations:
        if step.version != expected:
            raise ValueError(f"migration versions must run 2, 3, ... without gaps: {step}")
        expected += 1
    return expected - 1


def _version_of(doc: dict[str, object] | None) -> int:
    if doc is None:
        return FIRST_VERSION
    version = doc.get("version")
    if not isinstance(version, int):
        raise ValueError(f"the schema record is damaged: {doc!r}")
    return version


async def stored_version(store: SchemaTarget) -> int:
    return _version_of(await store.get(SCHEMA.name, SCHEMA_ID))


def _record(version: int, description: str) -> dict[str, object]:
    return {
        "id": SCHEMA_ID,
        "version": version,
        "description": description,
        "at": datetime.now(UTC).isoformat(),
    }


async def _run_step(store: SchemaTarget, step: Migration) -> bool:
    async def work(tx: Session) -> bool:
        if _version_of(await tx.get(SCHEMA.name, SCHEMA_ID)) >= step.version:
            return False  # another replica ran it meanwhile
        await step.apply(tx)
        await tx.put(SCHEMA.name, _record(step.version, step.description))
        return True

    return await store.run_transaction(work)


async def bring_in_step(
    store: SchemaTarget,
    where: str,
    collections: Sequence[Collection],
    migrations: Sequence[Migration],
) -> None:
    known = code_version(migrations)
    await store.ensure_collections([SCHEMA])
    stored = await stored_version(store)
    if stored > known:
        raise StoreTooNew(where, stored, known)
    await store.ensure_collections(collections)
    for name in await store.drop_undeclared_indexes(collections):
        log.info("storage.index_dropped", store=where, index=name)
    for step in migrations:
        if step.version > stored and await _run_step(store, step):
            log.info("storage.upgraded", store=where, version=step.version, step=step.description)
    for name in await store.create_declared_indexes(collections):
        log.info("storage.index_created", store=where, index=name)
    if await store.get(SCHEMA.name, SCHEMA_ID) is None:
        # Record the version once, so that a later release knows what it opens; another
        # replica may record it first.
        with suppress(DuplicateKeyError):
            await store.insert(SCHEMA.name, _record(known, "versions recorded"))
