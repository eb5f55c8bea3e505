"""MongoDB adapter on PyMongo's async API (``AsyncMongoClient``), one database per service.

Compare-and-set is one ``update_one`` whose filter carries the expectation; transactions use a
client session. MongoDB runs transactions only on a replica set (or a sharded cluster), never on
a standalone server: the deployment runs one, a single-node replica set at the least.

Transactions follow PyMongo's ``with_transaction`` rules: an error labelled
``TransientTransactionError`` (a write conflict with another transaction, a lost primary) aborts
the attempt and ``run_transaction`` runs the whole unit of work again; a commit that ended in
``UnknownTransactionCommitResult`` is committed again, and the work is not re-run.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReplaceOne, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, CollectionInvalid, OperationFailure, PyMongoError
from pymongo.errors import DuplicateKeyError as MongoDuplicateKeyError

from shared.storage import retrying
from shared.storage.port import (
    OWNED_INDEX_PREFIX,
    Attempts,
    Collection,
    Doc,
    DuplicateKeyError,
    GuardedSession,
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
from shared.storage.schema import bring_in_step

T = TypeVar("T")

_NAMESPACE_EXISTS = 48
_INDEX_NOT_FOUND = 27
_MAX_TIME_EXPIRED = 50
_DUPLICATE_KEY = 11000
TRANSIENT = "TransientTransactionError"
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"


def _max_time_expired(exc: PyMongoError) -> bool:
    # PyMongo's rule: a commit that ran out of its own time is not retried.
    if isinstance(exc, OperationFailure):
        if exc.code == _MAX_TIME_EXPIRED:
            return True
        details = exc.details or {}
        return bool(details.get("writeConcernError", {}).get("code") == _MAX_TIME_EXPIRED)
    return False


def only_duplicate_keys(exc: BulkWriteError) -> bool:
    """Whether a batch failed on taken keys alone (the port's DuplicateKeyError). A validation
    error, an oversized document or a transient transaction error (to be retried with the
    whole transaction) is not one: it is mapped as any other error of the adapter."""
    errors = (exc.details or {}).get("writeErrors") or []
    return (
        bool(errors)
        and all(error.get("code") == _DUPLICATE_KEY for error in errors)
        and not exc.has_error_label(TRANSIENT)
    )


def find_filter(where: Where | None) -> dict[str, Any]:
    """The MongoDB filter for a where clause (also what tests ``explain()``)."""
    result: dict[str, Any] = {}
    for field, value in check_where(where).items():
        key = "_id" if field == "id" else field
        if isinstance(value, list | tuple | set | frozenset):
            result[key] = {"$in": list(value)}
        else:
            result[key] = value
    return result


def _to_mongo(doc: Doc) -> Doc:
    # A JsonText value is kept as its text (BSON has no place for JSON as it is).
    return {
        "_id": doc["id"],
        **{
            k: v.data.decode() if isinstance(v, JsonText) else v
            for k, v in doc.items()
            if k != "id"
        },
    }


def _from_mongo(doc: Doc) -> Doc:
    doc = dict(doc)
    doc["id"] = doc.pop("_id")
    return doc


class _Ops:
    """The port's operations in MongoDB, in a session or not. Implements port.Session
    (signatures as declared there; sqlite.py's ``_Ops`` is the other adapter)."""

    def __init__(self, db: AsyncDatabase[Doc], session: AsyncClientSession | None) -> None:
        self._db = db
        self._s = session

    async def insert(self, collection: str, doc: Doc) -> None:
        try:
            await self._db[collection].insert_one(_to_mongo(doc), session=self._s)
        except MongoDuplicateKeyError as exc:
            raise DuplicateKeyError(f"{collection}: {exc}") from exc

    async def insert_many(self, collection: str, docs: Sequence[Doc]) -> None:
        if not docs:
            return  # PyMongo refuses an empty batch
        try:
            # Ordered: the batch stops at the first taken id, as SQLite's executemany does.
            await self._db[collection].insert_many(
                [_to_mongo(d) for d in docs], ordered=True, session=self._s
            )
        except MongoDuplicateKeyError as exc:
            raise DuplicateKeyError(f"{collection}: {exc}") from exc
        except BulkWriteError as exc:
            if not only_duplicate_keys(exc):
                raise
            raise DuplicateKeyError(f"{collection}: {exc}") from exc

    async def get(self, collection: str, id: str) -> Doc | None:
        doc = await self._db[collection].find_one({"_id": id}, session=self._s)
        return _from_mongo(doc) if doc else None

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
        check_limit(limit)
        query = find_filter(where)
        if above is not None:
            check_above(above)
            name = "_id" if above[0] == "id" else above[0]
            query[name] = {"$gt": above[1]}
        cursor = self._db[collection].find(query, session=self._s)
        if order_by is not None:
            key = "_id" if order_by == "id" else check_field(order_by)
            cursor = cursor.sort(key, DESCENDING if descending else ASCENDING)
        if limit == 0:
            return []  # MongoDB reads limit(0) as "no limit"
        if limit is not None:
            cursor = cursor.limit(limit)
        return [_from_mongo(d) async for d in cursor]

    async def count(self, collection: str, where: Where | None = None) -> int:
        return await self._db[collection].count_documents(find_filter(where), session=self._s)

    async def update(
        self, collection: str, id: str, changes: Doc, *, expect: Where | None = None
    ) -> bool:
        try:
            # The id goes last so that an expectation can never retarget the update.
            result = await self._db[collection].update_one(
                find_filter({**(expect or {}), "id": id}),
                {"$set": check_changes(changes)},
                session=self._s,
            )
        except MongoDuplicateKeyError as exc:
            raise DuplicateKeyError(f"{collection}: {exc}") from exc
        return result.matched_count == 1

    async def put(self, collection: str, doc: Doc) -> None:
        try:
            await self._db[collection].replace_one(
                {"_id": doc["id"]}, _to_mongo(doc), upsert=True, session=self._s
            )
        except MongoDuplicateKeyError as exc:
            raise DuplicateKeyError(f"{collection}: {exc}") from exc

    async def put_many(self, collection: str, docs: Sequence[Doc]) -> None:
        if not docs:
            return
        try:
            await self._db[collection].bulk_write(
                [ReplaceOne({"_id": d["id"]}, _to_mongo(d), upsert=True) for d in docs],
                session=self._s,
            )
        except MongoDuplicateKeyError as exc:
            raise DuplicateKeyError(f"{collection}: {exc}") from exc
        except BulkWriteError as exc:
            if not only_duplicate_keys(exc):
                raise
            raise DuplicateKeyError(f"{collection}: {exc}") from exc

    async def delete(self, collection: str, id: str, *, expect: Where | None = None) -> bool:
        result = await self._db[collection].delete_one(
            find_filter({**(expect or {}), "id": id}), session=self._s
        )
        return result.deleted_count == 1

    async def add_attempt(
        self, collection: str, key: str, *, now_ms: int, window_ms: int
    ) -> Attempts:
        # One findOneAndUpdate with an update pipeline: both fields are computed from the
        # document as it was, so a window that has ended starts over at 1 (a missing ``ends``
        # sorts below any number, so the first attempt starts one too).
        ended = {"$lte": ["$ends", now_ms]}
        update = [
            {
                "$set": {
                    "count": {"$cond": [ended, 1, {"$add": ["$count", 1]}]},
                    "ends": {"$cond": [ended, now_ms + window_ms, "$ends"]},
                }
            }
        ]
        for attempt in range(2):
            try:
                doc = await self._db[collection].find_one_and_update(
                    {"_id": key},
                    update,
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                    session=self._s,
                )
            except MongoDuplicateKeyError:
                if attempt:  # two first attempts raced to insert: the second one updates
                    raise
                continue
            assert doc is not None  # upserted
            return Attempts(int(doc["count"]), int(doc["ends"]))
        raise AssertionError("unreachable")

    async def take_back_attempt(self, collection: str, key: str, *, window_ends_ms: int) -> bool:
        result = await self._db[collection].update_one(
            {"_id": key, "ends": window_ends_ms, "count": {"$gt": 0}},
            {"$inc": {"count": -1}},
            session=self._s,
        )
        return result.matched_count == 1


class MongoStore(GuardedSession):
    def __init__(self, url: str, database: str) -> None:
        self._client: AsyncMongoClient[Doc] = AsyncMongoClient(
            url, serverSelectionTimeoutMS=5000, tz_aware=True
        )
        self._db: AsyncDatabase[Doc] = self._client[database]
        self._ops = _Ops(self._db, None)

    async def open(
        self, collections: Sequence[Collection], migrations: Sequence[Migration] = ()
    ) -> None:
        try:
            await bring_in_step(self, self._db.name, collections, migrations)
        except PyMongoError as exc:
            raise StorageError(f"cannot open {self._db.name}: {exc}") from exc

    # --- the schema mechanism's operations (shared.storage.schema) ---------------------------

    async def ensure_collections(self, collections: Sequence[Collection]) -> None:
        existing = set(await self._db.list_collection_names())
        for coll in collections:
            # Collections exist before any transaction touches them.
            if coll.name not in existing:
                await self._create_collection(coll.name)

    async def drop_undeclared_indexes(self, collections: Sequence[Collection]) -> list[str]:
        dropped: list[str] = []
        for coll in collections:
            declared = {index.name for index in coll.indexes}
            for name in await self._db[coll.name].index_information():
                if name.startswith(OWNED_INDEX_PREFIX) and name not in declared:
                    try:
                        await self._db[coll.name].drop_index(name)
                    except OperationFailure as exc:
                        if exc.code != _INDEX_NOT_FOUND:  # another replica dropped it first
                            raise
                    dropped.append(f"{coll.name}.{name}")
        return dropped

    async def create_declared_indexes(self, collections: Sequence[Collection]) -> list[str]:
        created: list[str] = []
        for coll in collections:
            existing = await self._db[coll.name].index_information()
            for index in coll.indexes:
                if index.name in existing:
                    continue
                options: dict[str, Any] = {"name": index.name, "unique": index.unique}
                covers: dict[str, Any] = dict(index.where)
                if index.sparse:
                    # A query for a value implies the field exists, so MongoDB uses the index.
                    covers.update({f: {"$exists": True} for f in index.fields})
                if covers:
                    options["partialFilterExpression"] = covers
                # Idempotent for an identical definition: replicas may race here.
                await self._db[coll.name].create_index(
                    [(f, ASCENDING) for f in index.fields], **options
                )
                created.append(f"{coll.name}.{index.name}")
        return created

    async def _create_collection(self, name: str) -> None:
        # Another process opening the same database may create it first; that is fine.
        try:
            await self._db.create_collection(name)
        except CollectionInvalid:
            pass
        except OperationFailure as exc:
            if exc.code != _NAMESPACE_EXISTS:
                raise

    async def close(self) -> None:
        await self._client.close()

    async def ping(self) -> bool:
        try:
            await self._client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    async def drop(self) -> None:
        await self._client.drop_database(self._db.name)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        try:
            # Needs a replica set: a standalone server refuses to start the transaction.
            async with self._client.start_session() as session:
                await session.start_transaction()
                try:
                    yield _Ops(self._db, session)
                except BaseException:
                    if session.in_transaction:
                        await session.abort_transaction()
                    raise
                await self._commit_until_known(session)
        except (DuplicateKeyError, StorageError):
            raise
        except PyMongoError as exc:
            if exc.has_error_label(TRANSIENT):
                raise TransactionConflict(str(exc)) from exc
            raise StorageError(str(exc)) from exc

    async def run_transaction(self, work: Callable[[Session], Awaitable[T]]) -> T:
        async def attempt() -> T:
            async with self.transaction() as tx:
                return await work(tx)

        return await retrying.retry_conflicts(attempt, self._db.name)

    async def _commit_until_known(self, session: AsyncClientSession) -> None:
        deadline = time.monotonic() + retrying.MAX_SECONDS
        for number in range(1, retrying.MAX_ATTEMPTS + 1):
            try:
                await self._commit(session)
                return
            except PyMongoError as exc:
                retry = (
                    exc.has_error_label(UNKNOWN_COMMIT)
                    and not _max_time_expired(exc)
                    and number < retrying.MAX_ATTEMPTS
                    and time.monotonic() < deadline
                )
                if not retry:
                    raise

    async def _commit(self, session: AsyncClientSession) -> None:
        # The seam where the server answers the commit (tests inject its failures here).
        await session.commit_transaction()

    async def _run(self, op: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await getattr(self._ops, op)(*args, **kwargs)
        except DuplicateKeyError:
            raise
        except PyMongoError as exc:
            raise StorageError(str(exc)) from exc
