"""Where catalogs are stored: the same shape at their owner (the registry) and in the copies
(the gateway, the LAN writer). The only module that touches catalog collections.

- ``catalog_items``: one row per item and catalog, at its latest version; a deleted item stays
  as a tombstone (``deleted``) so a delta sync returns the deletion. ``entry`` is the item's
  JSON text as a terminal gets it (shared.catalog.chunks); rows an older release wrote have
  ``data`` (the item's fields) instead, read alike by ``chunks.entry_of`` and ``data_of``.
- ``catalog_heads``: per catalog, the version reached. At the owner, the last version given;
  in a copy, the versions applied (shared.catalog.versions.Coverage).
- ``catalog_barcodes`` (owner only): which item has each barcode, for uniqueness.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from shared.catalog.versions import Coverage
from shared.storage import Collection, Doc, Index, Session

ITEMS = Collection("catalog_items", (Index(("tenant", "store", "version")),))
HEADS = Collection("catalog_heads", (Index(("tenant",)),))
BARCODES = Collection("catalog_barcodes")

OWNER_COLLECTIONS = (ITEMS, HEADS, BARCODES)
COPY_COLLECTIONS = (ITEMS, HEADS)

# Ids read in one query: well within every store's limit on parameters.
_IDS_PER_QUERY = 500
_SEPARATOR = "\x1f"  # refused in ids, stores and barcodes (shared.contracts.catalog)


def key(*parts: str) -> str:
    return _SEPARATOR.join(parts)


def item_key(tenant: str, store: str, kind: str, item_id: str) -> str:
    return key(tenant, store, kind, item_id)


def _prefix(tenant: str, store: str) -> str:
    """What every key of a catalog starts with (joined once per call, not once per item)."""
    return key(tenant, store) + _SEPARATOR


async def items(
    db: Session, tenant: str, store: str, refs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Doc]:
    """The stored rows of these (kind, id) items, tombstones included."""
    prefix = _prefix(tenant, store)
    keys = [f"{prefix}{kind}{_SEPARATOR}{item_id}" for kind, item_id in refs]
    found: dict[tuple[str, str], Doc] = {}
    for start in range(0, len(keys), _IDS_PER_QUERY):
        for row in await db.find(ITEMS.name, {"id": keys[start : start + _IDS_PER_QUERY]}):
            found[(row["kind"], row["item_id"])] = row
    return found


async def put_items(db: Session, tenant: str, store: str, rows: Iterable[Doc]) -> None:
    """Write rows (``kind``, ``item_id``, ``version``, ``deleted``, ``entry``; anything else
    a row carries, such as its owner's ``item``, stays out)."""
    prefix = _prefix(tenant, store)
    docs = [
        {
            "id": f"{prefix}{row['kind']}{_SEPARATOR}{row['item_id']}",
            "tenant": tenant,
            "store": store,
            "kind": row["kind"],
            "item_id": row["item_id"],
            "version": row["version"],
            "deleted": row["deleted"],
            "entry": row["entry"],
        }
        for row in rows
    ]
    await db.put_many(ITEMS.name, docs)


async def page(db: Session, tenant: str, store: str, since: int, limit: int) -> list[Doc]:
    """Rows changed after version ``since``, oldest change first."""
    return await db.find(
        ITEMS.name,
        {"tenant": tenant, "store": store},
        above=("version", since),
        order_by="version",
        limit=limit,
    )


# Heads ----------------------------------------------------------------------------------------


async def head(db: Session, tenant: str, store: str) -> Doc | None:
    return await db.get(HEADS.name, key(tenant, store))


async def coverage(db: Session, tenant: str, store: str) -> Coverage:
    found = await head(db, tenant, store)
    if found is None:
        return Coverage()
    return Coverage(found["version"], tuple((lo, hi) for lo, hi in found.get("pending", ())))


async def set_head(
    db: Session, tenant: str, store: str, version: int, expect: int | None, **extra: Any
) -> bool:
    """Move a catalog's head; ``expect`` is the version read before (None: there was none),
    so two writers racing cannot both move it from the same place."""
    doc = {"id": key(tenant, store), "tenant": tenant, "store": store, "version": version, **extra}
    if expect is None:
        await db.insert(HEADS.name, doc)
        return True
    return await db.update(
        HEADS.name, doc["id"], {"version": version, **extra}, expect={"version": expect}
    )


async def put_coverage(db: Session, tenant: str, store: str, covered: Coverage) -> None:
    await db.put(
        HEADS.name,
        {
            "id": key(tenant, store),
            "tenant": tenant,
            "store": store,
            "version": covered.version,
            "pending": [list(r) for r in covered.pending],
        },
    )


async def all_heads(db: Session) -> list[Doc]:
    return await db.find(HEADS.name, order_by="id")


async def tenant_heads(db: Session, tenant: str) -> list[Doc]:
    return await db.find(HEADS.name, {"tenant": tenant}, order_by="id")


# Barcodes (owner) ----------------------------------------------------------------------------


async def barcode_owners(
    db: Session, tenant: str, store: str, codes: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """Which (kind, id) has each of these barcodes now."""
    prefix = _prefix(tenant, store)
    keys = [prefix + code for code in codes]
    owners: dict[str, tuple[str, str]] = {}
    for start in range(0, len(keys), _IDS_PER_QUERY):
        for row in await db.find(BARCODES.name, {"id": keys[start : start + _IDS_PER_QUERY]}):
            owners[row["barcode"]] = (row["kind"], row["item_id"])
    return owners


async def claim_barcodes(
    db: Session, tenant: str, store: str, claims: Iterable[tuple[str, str, str]]
) -> None:
    """Give each (barcode, kind, item id) its item."""
    prefix = _prefix(tenant, store)
    await db.put_many(
        BARCODES.name,
        [
            {"id": prefix + code, "barcode": code, "kind": kind, "item_id": item_id}
            for code, kind, item_id in claims
        ],
    )


async def release_barcode(
    db: Session, tenant: str, store: str, code: str, kind: str, item_id: str
) -> None:
    """Free a barcode, if that item still has it (another may have claimed it since)."""
    await db.delete(
        BARCODES.name, key(tenant, store, code), expect={"kind": kind, "item_id": item_id}
    )
