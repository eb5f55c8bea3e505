"""MongoDB adapter on PyMongo's async API (``AsyncMongoClient``), one database per service.

Compare-and-set is one ``update_one`` whose filter carries the expectation; transactions use a
client session. MongoDB runs transactions only on a replica set (or a sharded cluster), never on
a standalone server: the deployment runs one, a single-node replica set at the least.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, CollectionInvalid, OperationFailure, PyMongoError
from pymongo.errors import DuplicateKeyError as MongoDuplicateKeyError

from shared.storage.port import (
    Collection,
    Doc,
    DuplicateKeyError,
    GuardedSession,
    Session,
    StorageError,
    Where,
    check_above,
    check_changes,
    check_field,
    check_limit,
    check_where,
)

_NAMESPACE_EXISTS = 48


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
    return {"_id": doc["id"], **{k: v for k, v in doc.items() if k != "id"}}


def _from_mongo(doc: Doc) -> Doc:
    doc = dict(doc)
    doc["id"] = doc.pop("_id")
    return doc


class _Ops:
    def __init__(self, db: AsyncDatabase[Doc], session: AsyncClientSession | None) -> None:
        self._db = db
        self._s = session

    async def insert(self, collection: str, doc: Doc) -> None:
        try:
            await self._db[collection].insert_one(_to_mongo(doc), session=self._s)
        except MongoDuplicateKeyError as exc:
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
        except (MongoDuplicateKeyError, BulkWriteError) as exc:
            raise DuplicateKeyError(f"{collection}: {exc}") from exc

    async def delete(self, collection: str, id: str, *, expect: Where | None = None) -> bool:
        result = await self._db[collection].delete_one(
            find_filter({**(expect or {}), "id": id}), session=self._s
        )
        return result.deleted_count == 1


class MongoStore(GuardedSession):
    def __init__(self, url: str, database: str) -> None:
        self._client: AsyncMongoClient[Doc] = AsyncMongoClient(
            url, serverSelectionTimeoutMS=5000, tz_aware=True
        )
        self._db: AsyncDatabase[Doc] = self._client[database]
        self._ops = _Ops(self._db, None)

    async def open(self, collections: Sequence[Collection]) -> None:
        try:
            existing = set(await self._db.list_collection_names())
            for coll in collections:
                # Collections exist before any transaction touches them.
                if coll.name not in existing:
                    await self._create_collection(coll.name)
                # create_index is idempotent for an identical definition.
                for index in coll.indexes:
                    options: dict[str, Any] = {"name": index.name, "unique": index.unique}
                    if index.where:
                        options["partialFilterExpression"] = dict(index.where)
                    await self._db[coll.name].create_index(
                        [(f, ASCENDING) for f in index.fields], **options
                    )
        except PyMongoError as exc:
            raise StorageError(f"cannot open {self._db.name}: {exc}") from exc

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
            async with (
                self._client.start_session() as session,
                await session.start_transaction(),
            ):
                yield _Ops(self._db, session)
        except (DuplicateKeyError, StorageError):
            raise
        except PyMongoError as exc:
            raise StorageError(str(exc)) from exc

    async def _run(self, op: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await getattr(self._ops, op)(*args, **kwargs)
        except DuplicateKeyError:
            raise
        except PyMongoError as exc:
            raise StorageError(str(exc)) from exc
