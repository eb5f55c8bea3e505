"""Catalog items cut into messages bounded in bytes.

Items travel as stored rows (``kind``, ``item_id``, ``version``, ``deleted``, ``entry``),
ordered by version. ``entry`` is the item's JSON text as a terminal gets it (its fields and its
version; a tombstone's kind, id and version), written once by whoever stores the row: a sync
page joins these texts, and a copy stores a message's entries without taking them apart.

Each message says which versions it covers (``first``..``last``), so the copies know what they
hold however the messages arrive (shared.catalog.versions).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from shared.contracts.catalog import CatalogChanged, PlainChanges

# About the ``max_message_bytes`` of a broker's usual frame budget, and what a copy applies in
# one short transaction.
MESSAGE_BYTES = 1 << 20
# What a message costs beyond its items: envelope and field names.
_OVERHEAD = 512

Row = dict[str, Any]


def row_size(row: Row) -> int:
    """The bytes an item takes in a message (its JSON, plus its kind and field names)."""
    return len(entry_of(row).encode()) + 48


def cut(rows: Sequence[Row], cap: int = MESSAGE_BYTES) -> Iterator[Sequence[Row]]:
    """``rows`` in consecutive runs each within ``cap`` bytes; an item larger than the cap
    goes alone (never dropped)."""
    start, size = 0, _OVERHEAD
    for i, row in enumerate(rows):
        weight = row_size(row)
        if i > start and size + weight > cap:
            yield rows[start:i]
            start, size = i, _OVERHEAD
        size += weight
    if start < len(rows):
        yield rows[start:]


def messages(
    store: str, rows: Sequence[Row], first: int, last: int, cap: int = MESSAGE_BYTES
) -> list[CatalogChanged]:
    """Messages carrying ``rows`` (ordered by version) that together cover ``first``..``last``."""
    return [CatalogChanged.model_validate(p) for p in payloads(store, rows, first, last, cap)]


def payloads(
    store: str, rows: Sequence[Row], first: int, last: int, cap: int = MESSAGE_BYTES
) -> list[dict[str, Any]]:
    """What :func:`messages` carry, as their JSON, built straight from stored rows (which were
    checked when they were written): the owner emits these without a model round trip, which
    cost it more than a third of an upload call."""
    if not rows:
        return [payload(store, (), first, last)] if last >= first else []
    out: list[dict[str, Any]] = []
    start = first
    runs = list(cut(rows, cap))
    for n, run in enumerate(runs):
        end = last if n == len(runs) - 1 else run[-1]["version"]
        out.append(payload(store, run, start, max(end, run[-1]["version"])))
        start = out[-1]["last"] + 1
    return out


def message(store: str, rows: Sequence[Row], first: int, last: int) -> CatalogChanged:
    return CatalogChanged.model_validate(payload(store, rows, first, last))


def payload(store: str, rows: Sequence[Row], first: int, last: int) -> dict[str, Any]:
    return {"store": store, "first": first, "last": last, **body_of(rows)}


def body_of(rows: Sequence[Row]) -> dict[str, list[dict[str, Any]]]:
    """The items of :func:`message`, as plain JSON, from stored rows."""
    body: dict[str, list[dict[str, Any]]] = {key: [] for key in _BODY_LISTS}
    for row in rows:
        if row["deleted"]:
            body["deleted"].append(
                {"kind": row["kind"], "id": row["item_id"], "version": row["version"]}
            )
        else:
            item = row.get("item") or {**data_of(row), "version": row["version"]}
            body[_LISTS[row["kind"]]].append(item)
    return body


def page_of(rows: Sequence[Row]) -> dict[str, list[orjson.Fragment]]:
    """The items of a terminal's sync page: the rows' stored JSON, not parsed or built again."""
    body: dict[str, list[orjson.Fragment]] = {key: [] for key in _BODY_LISTS}
    for row in rows:
        key = "deleted" if row["deleted"] else _LISTS[row["kind"]]
        body[key].append(orjson.Fragment(entry_of(row)))
    return body


def rows_of(changed: CatalogChanged | PlainChanges) -> list[Row]:
    """The stored rows a message carries (what a copy writes)."""
    if isinstance(changed, CatalogChanged):
        # One dump of the whole message: far cheaper than one per entry.
        body = changed.model_dump(mode="json", include={"products", "warehouses", "cells"})
        body["deleted"] = [gone.model_dump(mode="json") for gone in changed.deleted]
    else:
        body = {key: getattr(changed, key) for key in _BODY_LISTS}
    rows: list[Row] = []
    for kind, key in (("product", "products"), ("warehouse", "warehouses"), ("cell", "cells")):
        for entry in body[key]:
            rows.append(_copied(kind, entry["id"], entry["version"], False, entry))
    for gone in body["deleted"]:
        rows.append(_copied(gone["kind"], gone["id"], gone["version"], True, gone))
    return rows


def _copied(kind: str, item_id: str, version: int, deleted: bool, entry: Any) -> Row:
    text = orjson.dumps(entry).decode()
    return {"kind": kind, "item_id": item_id, "version": version, "deleted": deleted, "entry": text}


def item_row(kind: str, item_id: str, version: int, data: dict[str, Any] | None) -> Row:
    """A row as its owner writes it; ``data`` and the entry as JSON values (``item``) stay
    beside it for the checks and the messages (not stored)."""
    item: dict[str, Any] = (
        {"kind": kind, "id": item_id, "version": version}
        if data is None
        else {**data, "version": version}
    )
    return {
        "kind": kind,
        "item_id": item_id,
        "version": version,
        "deleted": data is None,
        "entry": orjson.dumps(item).decode(),
        "data": data,
        "item": item,
    }


def stored(row: Row) -> Row:
    """What is stored of a row (an owner's ``data`` and ``item`` stay out)."""
    return {
        "kind": row["kind"],
        "item_id": row["item_id"],
        "version": row["version"],
        "deleted": row["deleted"],
        "entry": row["entry"],
    }


def entry_of(row: Row) -> str:
    """The row's item as a terminal gets it, as JSON text."""
    entry: str | None = row.get("entry")
    if entry is not None:
        return entry
    # A row stored before entries were (its ``data`` only).
    if row["deleted"]:
        gone = {"kind": row["kind"], "id": row["item_id"], "version": row["version"]}
        return orjson.dumps(gone).decode()
    return orjson.dumps({**row["data"], "version": row["version"]}).decode()


def data_of(row: Row) -> dict[str, Any]:
    """A live row's item, without its version: what its owner compares a new one with."""
    data: dict[str, Any] | None = row.get("data")
    if data is not None:
        return data
    data = orjson.loads(row["entry"])
    del data["version"]
    return data


_LISTS = {"product": "products", "warehouse": "warehouses", "cell": "cells"}
_BODY_LISTS = ("products", "warehouses", "cells", "deleted")
