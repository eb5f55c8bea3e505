"""SQLite adapter: one file per service, WAL, one table of JSON documents per collection.

Indexes are expression indexes on ``json_extract``; queries use the same expressions so SQLite
picks them. One connection serves the process; an asyncio lock keeps transactions apart.

Statements run on the event loop's own thread: a statement on a local WAL file takes
microseconds, far less than handing it to a worker thread and back. The one thing that could
block is waiting for another process's write lock, so SQLite is told not to wait at all and the
wait happens here instead, asynchronously (see :class:`_Connection`). The other is a WAL
checkpoint, which syncs the disk: it runs on a worker thread (see checkpoints.py).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson

from shared.storage.checkpoints import BACKSTOP_PAGES, Checkpointer
from shared.storage.port import (
    OWNED_INDEX_PREFIX,
    Attempts,
    Collection,
    Doc,
    DuplicateKeyError,
    GuardedSession,
    Index,
    JsonText,
    Migration,
    Session,
    StorageError,
    TransactionConflict,
    Where,
    check_above,
    check_changes,
    check_field,
    check_limit,
    check_where,
)
from shared.storage.retrying import retry_conflicts
from shared.storage.schema import bring_in_step

T = TypeVar("T")


def _path(field: str) -> str:
    return f"json_extract(doc, '$.{check_field(field)}')"


@functools.lru_cache(maxsize=256)
def _table(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad collection name: {name!r}")
    return f'"c_{name}"'


def _sql_value(value: Any) -> Any:
    # json_extract yields 1/0 for JSON booleans and TEXT for strings.
    if isinstance(value, bool):
        return int(value)
    return value


def _expr(field: str) -> str:
    return "id" if field == "id" else _path(field)


def _where_sql(where: Where | None) -> tuple[str, list[Any]]:
    where = check_where(where)
    if not where:
        return "", []
    clauses: list[str] = []
    params: list[Any] = []
    for field, value in where.items():
        expr = _expr(field)
        if isinstance(value, list | tuple | set | frozenset):
            values = [v for v in value if v is not None]
            # IN never matches NULL; "any of" including None must, as it does for a plain None.
            with_null = len(values) < len(value)
            any_of = f"{expr} IN ({','.join('?' * len(values))})" if values else "0"
            clauses.append(f"({any_of} OR {expr} IS NULL)" if with_null else any_of)
            params.extend(_sql_value(v) for v in values)
        elif value is None:
            clauses.append(f"{expr} IS NULL")
        else:
            clauses.append(f"{expr} = ?")
            params.append(_sql_value(value))
    return " WHERE " + " AND ".join(clauses), params


def _index_name(collection: str, index: Index) -> str:
    # SQLite's index names are global to the file: the collection's name comes first.
    return f"{collection}_{index.name}"


def _index_sql(table: str, collection: str, index: Index) -> str:
    exprs = ", ".join(_path(f) for f in index.fields)
    unique = "UNIQUE " if index.unique else ""
    name = _index_name(collection, index)
    sql = f'CREATE {unique}INDEX IF NOT EXISTS "{name}" ON {table} ({exprs})'
    conds = [f"{_path(k)} = {_literal(v)}" for k, v in sorted(index.where.items())]
    if index.sparse:
        # SQLite uses such an index for "<expr> = ?", which implies "<expr> IS NOT NULL".
        conds += [f"{_path(f)} IS NOT NULL" for f in index.fields]
    if conds:
        sql += f" WHERE {' AND '.join(conds)}"
    return sql


def _literal(value: Any) -> str:
    # Partial-index conditions must be literals; values come from code, never from input.
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _embedded(value: Any) -> orjson.Fragment:
    if isinstance(value, JsonText):
        return orjson.Fragment(value.data)
    raise TypeError(f"not storable as JSON: {type(value).__name__}")


def _dumps(doc: Doc) -> bytes:
    # Bound as bytes and cast to TEXT by SQLite (see _DOC): the JSON is never made a Python
    # str, which for non-ASCII text (Cyrillic names) takes two or four bytes a character and
    # another UTF-8 copy when bound: a large document's row cost some four times its size.
    # A JsonText value goes in as the JSON it is, neither parsed nor escaped.
    return orjson.dumps(doc, default=_embedded)


# A document's JSON (UTF-8 bytes from _dumps) stored as TEXT, so that SQLite's JSON functions
# read it (a BLOB would be taken for JSONB by newer SQLite releases). The cast reads the bytes
# in the database's text encoding: UTF-8, as every file the store creates is.
_DOC = "CAST(? AS TEXT)"


def find_sql(
    collection: str,
    where: Where | None = None,
    *,
    order_by: str | None = None,
    descending: bool = False,
    limit: int | None = None,
    above: tuple[str, int | str] | None = None,
) -> tuple[str, list[Any]]:
    """The SELECT a ``find`` runs, with its parameters (also what tests EXPLAIN); it takes
    port.Session.find's parameters, so their list repeats here."""
    clause, params = _where_sql(where)
    if above is not None:
        check_above(above)
        clause += f"{' AND' if clause else ' WHERE'} {_expr(above[0])} > ?"
        params.append(above[1])
    sql = f"SELECT doc FROM {_table(collection)}{clause}"
    if order_by is not None:
        sql += f" ORDER BY {_expr(order_by)} {'DESC' if descending else 'ASC'}"
    if limit is not None:
        check_limit(limit)
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params


# How long a statement waits for another process's write lock before the store gives up.
BUSY_TIMEOUT_SECONDS = 10.0


def _busy(exc: sqlite3.OperationalError) -> bool:
    message = str(exc)
    return "database is locked" in message or "database is busy" in message


def _storage_error(exc: sqlite3.OperationalError) -> StorageError:
    # Another process kept the write lock past the wait: the whole unit may run again.
    if _busy(exc):
        return TransactionConflict(str(exc))
    return StorageError(str(exc))


class _Connection:
    """A stdlib connection whose statements wait for a busy database without blocking the
    event loop. A statement either runs whole or not at all, so cancelling the caller never
    leaves a statement half done."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout=0")

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        pause = 0.001
        while True:
            try:
                return self._db.execute(sql, params)
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        pause = 0.001
        while True:
            try:
                self._db.executemany(sql, rows)
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)

    def close(self) -> None:
        self._db.close()


class _Ops:
    """The port's operations on one connection; the caller holds the lock. Implements
    port.Session (signatures as declared there; mongo.py's ``_Ops`` is the other adapter)."""

    def __init__(self, db: _Connection) -> None:
        self._db = db

    async def insert(self, collection: str, doc: Doc) -> None:
        try:
            await self._db.execute(
                f"INSERT INTO {_table(collection)} (id, doc) VALUES (?, {_DOC})",
                (doc["id"], _dumps(doc)),
            )
        except sqlite3.IntegrityError as exc:
            raise DuplicateKeyError(f"{collection}: {exc}") from exc

    async def insert_many(self, collection: str, docs: Sequence[Doc]) -> None:
        try:
            await self._db.executemany(
                f"INSERT INTO {_table(collection)} (id, doc) VALUES (?, {_DOC})",
                [(doc["id"], _dumps(doc)) for doc in docs],
            )
        except sqlite3.IntegrityError as exc:
            raise DuplicateKeyError(f"{collection}: {exc}") from exc

    async def get(self, collection: str, id: str) -> Doc | None:
        cur = await self._db.execute(f"SELECT doc FROM {_table(collection)} WHERE id = ?", (id,))
        row = cur.fetchone()
        return orjson.loads(row[0]) if row else None

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
        sql, params = find_sql(
            collection, where, order_by=order_by, descending=descending, limit=limit, above=above
        )
        cur = await self._db.execute(sql, params)
        return [orjson.loads(r[0]) for r in cur.fetchall()]

    async def count(self, collection: str, where: Where | None = None) -> int:
        clause, params = _where_sql(where)
        cur = await self._db.execute(f"SELECT COUNT(*) FROM {_table(collection)}{clause}", params)
        row = cur.fetchone()
        return int(row[0]) if row else 0

    async def update(
        self, collection: str, id: str, changes: Doc, *, expect: Where | None = None
    ) -> bool:
        sets = ", ".join(f"'$.{k}', json(?)" for k in check_changes(changes))
        params: list[Any] = [orjson.dumps(v).decode() for v in changes.values()]
        # The id goes last so that an expectation can never retarget the update.
        if expect:
            clause, where_params = _where_sql({**expect, "id": id})
        else:  # what _where_sql gives for the id alone, without taking it apart
            clause, where_params = " WHERE id = ?", [id]
        try:
            cur = await self._db.execute(
                f"UPDATE {_table(collection)} SET doc = json_set(doc, {sets}){clause}",
                params + where_params,
            )
        except sqlite3.IntegrityError as exc:
            raise DuplicateKeyError(f"{collection}: {exc}") from exc
        return cur.rowcount == 1

    async def put(self, collection: str, doc: Doc) -> None:
        await self.put_many(collection, [doc])

    async def put_many(self, collection: str, docs: Sequence[Doc]) -> None:
        # Outside a transaction each document is written on its own, as ``put`` writes it;
        # inside one they stand or fall with it.
        try:
            await self._db.executemany(
                f"INSERT INTO {_table(collection)} (id, doc) VALUES (?, {_DOC}) "
                "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
                [(doc["id"], _dumps(doc)) for doc in docs],
            )
        except sqlite3.IntegrityError as exc:
            raise DuplicateKeyError(f"{collection}: {exc}") from exc

    async def delete(self, collection: str, id: str, *, expect: Where | None = None) -> bool:
        clause, params = _where_sql({**(expect or {}), "id": id})
        cur = await self._db.execute(f"DELETE FROM {_table(collection)}{clause}", params)
        return cur.rowcount == 1

    async def add_attempt(
        self, collection: str, key: str, *, now_ms: int, window_ms: int
    ) -> Attempts:
        # One upsert: SQLite's write lock makes it atomic across every process on the file.
        ends = now_ms + window_ms
        cur = await self._db.execute(
            f"INSERT INTO {_table(collection)} (id, doc) "
            "VALUES (?1, json_object('id', ?1, 'count', 1, 'ends', ?3)) "
            "ON CONFLICT(id) DO UPDATE SET doc = CASE "
            "WHEN json_extract(doc, '$.ends') <= ?2 "
            "THEN json_object('id', ?1, 'count', 1, 'ends', ?3) "
            "ELSE json_set(doc, '$.count', json_extract(doc, '$.count') + 1) END "
            "RETURNING json_extract(doc, '$.count'), json_extract(doc, '$.ends')",
            (key, now_ms, ends),
        )
        count, window_ends = cur.fetchone()
        return Attempts(int(count), int(window_ends))

    async def take_back_attempt(self, collection: str, key: str, *, window_ends_ms: int) -> bool:
        cur = await self._db.execute(
            f"UPDATE {_table(collection)} "
            "SET doc = json_set(doc, '$.count', json_extract(doc, '$.count') - 1) "
            "WHERE id = ? AND json_extract(doc, '$.ends') = ? "
            "AND json_extract(doc, '$.count') > 0",
            (key, window_ends_ms),
        )
        return cur.rowcount == 1


# The operations outside a transaction that commit a write of their own.
_WRITES = frozenset(
    (
        "insert",
        "insert_many",
        "update",
        "put",
        "put_many",
        "delete",
        "add_attempt",
        "take_back_attempt",
    )
)


class SQLiteStore(GuardedSession):
    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: _Connection | None = None
        self._lock = asyncio.Lock()
        self._ops: _Ops | None = None
        # The task inside ``transaction()``: the lock is not reentrant, so that task using the
        # store itself (not the session) would wait for itself forever; it is refused instead.
        self._tx_task: asyncio.Task[Any] | None = None
        self._checkpoints: Checkpointer | None = None

    async def open(
        self, collections: Sequence[Collection], migrations: Sequence[Migration] = ()
    ) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # Auto-commit mode: transactions are begun explicitly (BEGIN IMMEDIATE).
        try:
            db = _Connection(self._path)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open {self._path}: {exc}") from exc
        self._db = db
        self._ops = _Ops(db)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process; only an OS crash may lose the last
            # commit.
            await db.execute("PRAGMA synchronous=NORMAL")
            await bring_in_step(self, str(self._path), collections, migrations)
            # Checkpoints on a worker thread (checkpoints.py); SQLite's own only as a backstop.
            await db.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            self._checkpoints = Checkpointer(self._path, self._lock)
        except BaseException as exc:
            await self.close()
            if isinstance(exc, sqlite3.OperationalError):
                raise StorageError(f"cannot open {self._path}: {exc}") from exc
            raise

    # --- the schema mechanism's operations (shared.storage.schema) ---------------------------

    async def ensure_collections(self, collections: Sequence[Collection]) -> None:
        # IF NOT EXISTS makes opening idempotent: reopening keeps the data.
        await self._ddl(
            lambda existing: [
                f"CREATE TABLE IF NOT EXISTS {_table(c.name)} "
                "(id TEXT PRIMARY KEY, doc TEXT NOT NULL)"
                for c in collections
            ]
        )

    async def drop_undeclared_indexes(self, collections: Sequence[Collection]) -> list[str]:
        dropped: list[str] = []

        def statements(existing: dict[str, set[str]]) -> list[str]:
            for coll in collections:
                declared = {_index_name(coll.name, i) for i in coll.indexes}
                owned = f"{coll.name}_{OWNED_INDEX_PREFIX}"
                dropped.extend(
                    sorted(
                        name
                        for name in existing.get(f"c_{coll.name}", set())
                        if name.startswith(owned) and name not in declared
                    )
                )
            return [f'DROP INDEX IF EXISTS "{name}"' for name in dropped]

        await self._ddl(statements)
        return dropped

    async def create_declared_indexes(self, collections: Sequence[Collection]) -> list[str]:
        created: list[str] = []

        def statements(existing: dict[str, set[str]]) -> list[str]:
            result: list[str] = []
            for coll in collections:
                table = _table(coll.name)
                have = existing.get(f"c_{coll.name}", set())
                for index in coll.indexes:
                    if _index_name(coll.name, index) not in have:
                        created.append(_index_name(coll.name, index))
                        result.append(_index_sql(table, coll.name, index))
            return result

        await self._ddl(statements)
        return created

    async def _ddl(self, statements: Callable[[dict[str, set[str]]], list[str]]) -> None:
        """Schema statements decided on the indexes as they are, in one write transaction:
        another process starting at the same time waits and then decides on the result."""
        async with self.transaction() as _:
            assert self._db is not None
            cur = await self._db.execute(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index'"
            )
            existing: dict[str, set[str]] = {}
            for table, name in cur.fetchall():
                existing.setdefault(table, set()).add(name)
            for sql in statements(existing):
                await self._db.execute(sql)

    async def close(self) -> None:
        self._ops = None
        if self._checkpoints is not None:
            await self._checkpoints.close()
            self._checkpoints = None
        if self._db is not None:
            self._db.close()
            self._db = None

    async def ping(self) -> bool:
        if self._db is None:
            return False
        try:
            async with self._lock:
                await self._db.execute("SELECT 1")
        except (sqlite3.Error, ValueError):
            return False
        return True

    def _require(self) -> _Ops:
        if self._ops is None:
            raise StorageError("store is not open")
        if self._tx_task is not None and self._tx_task is asyncio.current_task():
            raise RuntimeError("inside a transaction, use the session it yields, not the store")
        return self._ops

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        ops = self._require()
        async with self._lock:
            try:
                await self._statement("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise _storage_error(exc) from exc
            self._tx_task = asyncio.current_task()
            try:
                yield ops
                await self._commit()
            except BaseException as exc:
                await self._rollback()
                if isinstance(exc, sqlite3.OperationalError):
                    raise _storage_error(exc) from exc
                raise
            finally:
                self._tx_task = None
            self._wrote()

    async def run_transaction(self, work: Callable[[Session], Awaitable[T]]) -> T:
        async def attempt() -> T:
            async with self.transaction() as tx:
                return await work(tx)

        return await retry_conflicts(attempt, str(self._path))

    async def _commit(self) -> None:
        # The seam where a commit meets another process's lock (tests inject that here).
        await self._statement("COMMIT")

    async def _statement(self, sql: str) -> None:
        assert self._db is not None
        await self._db.execute(sql)

    async def _rollback(self) -> None:
        assert self._db is not None
        if self._db.in_transaction:
            await self._statement("ROLLBACK")

    async def _run(self, op: str, *args: Any, **kwargs: Any) -> Any:
        ops = self._require()
        async with self._lock:
            try:
                result = await getattr(ops, op)(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                raise StorageError(str(exc)) from exc
        if op in _WRITES:
            self._wrote()
        return result

    def _wrote(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.wrote()
