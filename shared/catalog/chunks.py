"""Catalog items cut into messages bounded in bytes.

Items travel as stored rows (``kind``, ``item_id``, ``version``, ``deleted``, ``data``),
ordered by version. Each message says which versions it covers (``first``..``last``), so the
copies know what they hold however the messages arrive (shared.catalog.versions).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from shared.contracts.catalog import CatalogChanged

# About the ``max_message_bytes`` of a broker's usual frame budget, and what a copy applies in
# one short transaction.
MESSAGE_BYTES = 1 << 20
# What a message costs beyond its items: envelope and field names.
_OVERHEAD = 512

Row = dict[str, Any]


def row_size(row: Row) -> int:
    """The bytes an item takes in a message (its JSON, plus its version and kind)."""
    return len(orjson.dumps(row.get("data"))) + 48


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
    """The items of :func:`message`, as plain JSON, straight from stored rows: a message's
    items, and a terminal's sync page."""
    body: dict[str, list[dict[str, Any]]] = {
        "products": [],
        "warehouses": [],
        "cells": [],
        "deleted": [],
    }
    for row in rows:
        if row["deleted"]:
            body["deleted"].append(
                {"kind": row["kind"], "id": row["item_id"], "version": row["version"]}
            )
        else:
            body[_LISTS[row["kind"]]].append({**row["data"], "version": row["version"]})
    return body


def rows_of(changed: CatalogChanged) -> list[Row]:
    """The stored rows a message carries (what a copy writes)."""
    # One dump of the whole message: far cheaper than one per entry.
    body = changed.model_dump(mode="json", include={"products", "warehouses", "cells"})
    rows: list[Row] = []
    for kind, key in (("product", "products"), ("warehouse", "warehouses"), ("cell", "cells")):
        for data in body[key]:
            version = data.pop("version")
            rows.append(item_row(kind, data["id"], version, data))
    for gone in changed.deleted:
        rows.append(item_row(gone.kind, gone.id, gone.version, None))
    return rows


def item_row(kind: str, item_id: str, version: int, data: dict[str, Any] | None) -> Row:
    return {
        "kind": kind,
        "item_id": item_id,
        "version": version,
        "deleted": data is None,
        "data": data,
    }


_LISTS = {"product": "products", "warehouse": "warehouses", "cell": "cells"}
