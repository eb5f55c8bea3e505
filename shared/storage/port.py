"""The storage port: named collections of JSON documents, each keyed by ``id``.

It is deliberately small. Queries are equality matches on declared index fields (a list value
means "any of"), optionally with one field strictly above a value (``above``: the pages of a
versioned collection); state transitions are compare-and-set (``update(..., expect=...)``),
which each adapter does natively: one conditional ``UPDATE`` in SQLite, one ``update_one`` with the
expectation in its filter in MongoDB. Several writes that must stand or fall together go in
``run_transaction(work)``: the unit of work is a callable so that an adapter can run it again
when the database aborted it for a conflict (see :mod:`shared.storage.retrying`).

On ``open`` a store brings its schema in step with the code (:mod:`shared.storage.schema`):
data upgrades first, then the declared indexes.

Guess limits shared by every instance count attempts with ``add_attempt``/``take_back_attempt``:
an atomic increment with an expiry, native in each adapter.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

Doc = dict[str, Any]
Where = Mapping[str, Any]
T = TypeVar("T")


class JsonText:
    """A top-level field's value that is JSON already (UTF-8 bytes, as orjson wrote it), written
    without making it a Python str: SQLite embeds it in the row as that JSON, MongoDB keeps it
    as its text. So it reads back as a JSON value from SQLite and as a string from MongoDB; a
    reader takes either (``shared.outbox.Outgoing.from_row``). Not for ``update``, nor nested
    in a field (MongoDB would refuse it). The bytes must be what ``orjson.dumps`` wrote: SQLite
    stores them unchecked, and a row that is not JSON could not be read back. (A plain
    class, not a dataclass: orjson would write a dataclass as an object of its fields.)"""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


# A field is a plain identifier or a dotted path of them: nothing an adapter could read as
# SQL, a JSON-path operator or a MongoDB operator ("$..."), so names never need escaping.
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
# Values a where clause may compare with; a mapping would be an operator document in MongoDB.
_SCALARS = (str, int, float, bool, type(None))


class StorageError(Exception):
    """The store could not be reached or refused the operation; worth retrying later."""


class DuplicateKeyError(StorageError):
    """An insert broke a unique index (the id or a declared unique index)."""


class TransactionConflict(StorageError):
    """The database aborted a transaction because another one touched the same data; running
    the whole unit of work again may succeed (``run_transaction`` does, a bounded number of
    times)."""


class StoreTooNew(StorageError):
    """The store was written by a newer release than this code: starting would misread it."""

    # What a service exits with on it: restarting will not help, running the newer release will.
    EXIT_CODE = 4

    def __init__(self, where: str, stored: int, known: int) -> None:
        super().__init__(
            f"{where}: the stored data has schema version {stored}, this release knows "
            f"versions up to {known}; run the newer release (or restore a backup made by "
            "this one)"
        )
        self.where = where
        self.stored = stored
        self.known = known


@dataclass(frozen=True)
class Index:
    fields: tuple[str, ...]
    unique: bool = False
    # A partial index covers only documents whose fields equal these values,
    # e.g. a PIN is unique among *active* devices only.
    where: Mapping[str, Any] = field(default_factory=dict)
    # A sparse index covers only documents that have each of its fields: a field most
    # documents lack then costs their writes nothing. A query for a value uses it; a query for
    # null (or a missing field) cannot. The stores differ on a field stored as null (SQLite
    # leaves the document out, MongoDB keeps it in), so no null is stored in such a field
    # (routing's journey, the one user, leaves out a step's detail that is None) and a sparse
    # index is never unique, where the difference would show (SQLite would allow any number of
    # nulls, MongoDB one).
    sparse: bool = False

    def __post_init__(self) -> None:
        if not self.fields:
            raise ValueError("an index needs at least one field")
        if self.unique and self.sparse:
            raise ValueError(
                f"index on {', '.join(self.fields)}: a sparse index cannot be unique "
                "(SQLite and MongoDB would not agree on which nulls it covers)"
            )
        for name in (*self.fields, *self.where):
            check_field(name)

    @property
    def name(self) -> str:
        parts = "_".join(f.replace(".", "_") for f in self.fields)
        suffix = "_".join(f"{k}_{v}" for k, v in sorted(self.where.items()))
        kind = ("u_" if self.unique else "") + ("s_" if self.sparse else "")
        return f"ix_{kind}{parts}{'_' + suffix if suffix else ''}"


# Every index tsdx declares is named "ix_..."; only such indexes are dropped when no longer
# declared, never one somebody else made.
OWNED_INDEX_PREFIX = "ix_"


@dataclass(frozen=True)
class Attempts:
    """Attempts counted for one key in its current window, the one just added included."""

    count: int
    window_ends_ms: int  # epoch milliseconds when the window ends and counting starts over


@dataclass(frozen=True)
class Collection:
    name: str
    indexes: tuple[Index, ...] = ()


@dataclass(frozen=True)
class Migration:
    """One forward-only upgrade of stored data, from ``version - 1`` to ``version``.

    ``apply`` runs in one transaction together with recording the new version, so a step is
    done whole or not at all. It must be idempotent (safe to run on data it already changed):
    a step interrupted by a crash before its commit runs again.
    """

    version: int
    description: str
    apply: Callable[[Session], Awaitable[None]]


class Session(Protocol):
    """Operations on collections, outside (auto-commit) or inside a transaction."""

    # The contract: GuardedSession below and the ``_Ops`` of sqlite.py and mongo.py implement
    # it, so their signatures repeat these on purpose.

    async def insert(self, collection: str, doc: Doc) -> None: ...

    async def insert_many(self, collection: str, docs: Sequence[Doc]) -> None:
        """``insert`` each document, in one statement or bulk write: new rows that must not
        exist yet (a taken id raises DuplicateKeyError, never overwrites). Inside a transaction
        they stand or fall with it; outside one, those before a duplicate may stay written."""
        ...

    async def get(self, collection: str, id: str) -> Doc | None: ...

    async def find(
        self,
        collection: str,
        where: Where | None = None,
        *,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        above: tuple[str, int | str] | None = None,
    ) -> list[Doc]:
        """Documents matching ``where`` (and, with ``above=(field, value)``, whose field is
        greater than the value), in ``order_by`` order, at most ``limit``."""
        ...

    async def count(self, collection: str, where: Where | None = None) -> int: ...

    async def update(
        self, collection: str, id: str, changes: Doc, *, expect: Where | None = None
    ) -> bool:
        """Set ``changes`` (top-level fields) if the document exists and matches ``expect``."""
        ...

    async def put(self, collection: str, doc: Doc) -> None:
        """Insert or wholly replace the document with ``doc['id']``."""
        ...

    async def put_many(self, collection: str, docs: Sequence[Doc]) -> None:
        """``put`` each document, in one statement or bulk write: a batch of thousands (a
        catalog's) costs one round trip, not thousands."""
        ...

    async def delete(self, collection: str, id: str, *, expect: Where | None = None) -> bool: ...

    async def add_attempt(
        self, collection: str, key: str, *, now_ms: int, window_ms: int
    ) -> Attempts:
        """Count one attempt for ``key``, atomically: in its current window, or in a new one
        of ``window_ms`` starting now when there is none or it has ended."""
        ...

    async def take_back_attempt(self, collection: str, key: str, *, window_ends_ms: int) -> bool:
        """Uncount one attempt of ``key``, if the window it was counted in is still the current
        one (an attempt never comes off a later window)."""
        ...


class Store(Session, Protocol):
    async def open(
        self, collections: Sequence[Collection], migrations: Sequence[Migration] = ()
    ) -> None:
        """Create what is missing, upgrade older data by ``migrations``, reconcile indexes.

        Raises :class:`StoreTooNew` if the data is newer than the last migration known here.
        """
        ...

    async def close(self) -> None: ...

    async def ping(self) -> bool: ...

    def transaction(self) -> AbstractAsyncContextManager[Session]:
        """One attempt at a transaction; a conflict ends it with ``TransactionConflict``."""
        ...

    async def run_transaction(self, work: Callable[[Session], Awaitable[T]]) -> T:
        """Run ``work`` in a transaction, again (whole) if the database aborted it for a
        conflict; its result once committed."""
        ...


class GuardedSession:
    """A session whose operations all pass through one ``_run``: where an adapter guards
    every call outside a transaction in one place (its lock, its errors as StorageError).
    Its methods repeat Session's signatures: it implements that contract by forwarding."""

    async def _run(self, op: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def insert(self, collection: str, doc: Doc) -> None:
        await self._run("insert", collection, doc)

    async def insert_many(self, collection: str, docs: Sequence[Doc]) -> None:
        await self._run("insert_many", collection, docs)

    async def get(self, collection: str, id: str) -> Doc | None:
        result: Doc | None = await self._run("get", collection, id)
        return result

    async def find(
        self,
        collection: str,
        where: Where | None = None,
        *,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        above: tuple[str, int | str] | None = None,
    ) -> list[Doc]:
        result: list[Doc] = await self._run(
            "find",
            collection,
            where,
            order_by=order_by,
            descending=descending,
            limit=limit,
            above=above,
        )
        return result

    async def count(self, collection: str, where: Where | None = None) -> int:
        result: int = await self._run("count", collection, where)
        return result

    async def update(
        self, collection: str, id: str, changes: Doc, *, expect: Where | None = None
    ) -> bool:
        result: bool = await self._run("update", collection, id, changes, expect=expect)
        return result

    async def put(self, collection: str, doc: Doc) -> None:
        await self._run("put", collection, doc)

    async def put_many(self, collection: str, docs: Sequence[Doc]) -> None:
        await self._run("put_many", collection, docs)

    async def delete(self, collection: str, id: str, *, expect: Where | None = None) -> bool:
        result: bool = await self._run("delete", collection, id, expect=expect)
        return result

    async def add_attempt(
        self, collection: str, key: str, *, now_ms: int, window_ms: int
    ) -> Attempts:
        result: Attempts = await self._run(
            "add_attempt", collection, key, now_ms=now_ms, window_ms=window_ms
        )
        return result

    async def take_back_attempt(self, collection: str, key: str, *, window_ends_ms: int) -> bool:
        result: bool = await self._run(
            "take_back_attempt", collection, key, window_ends_ms=window_ends_ms
        )
        return result


def check_field(field: str) -> str:
    """Return ``field`` if it is a plain (possibly dotted) field name; raise ValueError if not."""
    if not _plain_field(field):
        raise ValueError(f"bad field name: {field!r}")
    return field


@functools.lru_cache(maxsize=1024)
def _plain_field(field: str) -> bool:
    # Every statement checks its few field names, the same ones over and over.
    return _FIELD.fullmatch(field) is not None


def check_where(where: Where | None) -> Where:
    """Validate a where clause: plain field names; scalar values or lists of them ("any of")."""
    for name, value in (where or {}).items():
        check_field(name)
        values = value if isinstance(value, list | tuple | set | frozenset) else (value,)
        for item in values:
            if not isinstance(item, _SCALARS):
                raise ValueError(f"bad value for {name!r}: {type(item).__name__}")
    return where or {}


def check_changes(changes: Doc) -> Doc:
    """Validate an update: at least one change, plain field names, and never the id."""
    if not changes:
        raise ValueError("update needs at least one change")
    for name in changes:
        if check_field(name) == "id":
            raise ValueError("update cannot change the id")
    return changes


def check_above(above: tuple[str, int | str] | None) -> None:
    """Validate a lower bound: a plain field name and a number or text (never a bool)."""
    if above is None:
        return
    name, value = above
    check_field(name)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"bad bound for {name!r}: {type(value).__name__}")


def check_limit(limit: int | None) -> None:
    if limit is not None and limit < 0:
        raise ValueError(f"bad limit: {limit}")
