"""A catalog batch from the accounting side, checked item by item.

A batch is all-or-nothing: if any item is wrong, nothing of it is applied, and the answer
lists every wrong item (up to :data:`MAX_ERRORS`) by kind, position, id and field, so 1C can
show the storekeeper's colleague exactly what to fix. Rules that need the stored catalog (a
barcode another product already has, a cell's unknown warehouse) are checked by its owner
with the same error shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.catalog.plain_products import product_data
from shared.contracts.catalog import (
    KINDS,
    CatalogCell,
    CatalogProduct,
    CatalogWarehouse,
    Kind,
)
from shared.errors import field_path, plain
from shared.i18n import render
from shared.i18n_validation import validation_reason

# Items (upserts and deletions together) taken in one call: 1C sends larger catalogs in
# several calls (`tsdx catalog upload` does so by itself).
MAX_ITEMS_PER_CALL = 10_000
MAX_ERRORS = 100

LISTS: dict[Kind, str] = {"product": "products", "warehouse": "warehouses", "cell": "cells"}
MODELS: dict[Kind, type[BaseModel]] = {
    "product": CatalogProduct,
    "warehouse": CatalogWarehouse,
    "cell": CatalogCell,
}


@dataclass(frozen=True)
class ItemError:
    """What is wrong with one item: ``code`` names the message, ``params`` fill it."""

    kind: Kind | None
    position: int | None
    item_id: str | None
    path: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "position": self.position,
            "id": self.item_id,
            "field": self.path,
            "code": self.code,
            "params": dict(self.params),
        }


class CatalogInvalid(Exception):
    """The batch is refused whole; ``errors`` say why, item by item."""

    def __init__(self, errors: Sequence[ItemError], total: int | None = None) -> None:
        super().__init__(f"{len(errors)} wrong items")
        self.errors = list(errors[:MAX_ERRORS])
        self.total = total if total is not None else len(errors)


# An item as checked and stored: its model's JSON (``model_dump(mode="json")``).
Item = dict[str, Any]


@dataclass
class Batch:
    store: str = ""
    products: list[Item] = field(default_factory=list)
    warehouses: list[Item] = field(default_factory=list)
    cells: list[Item] = field(default_factory=list)
    deleted: dict[Kind, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    # Where each item stood in the list it came in (items wrong in shape are left out).
    positions: dict[Kind, list[int]] = field(default_factory=lambda: {k: [] for k in KINDS})

    def position(self, kind: Kind, index: int) -> int:
        known = self.positions[kind]
        return known[index] if index < len(known) else index + 1

    def upserts(self) -> Iterable[tuple[Kind, Item]]:
        yield from (("product", p) for p in self.products)
        yield from (("warehouse", w) for w in self.warehouses)
        yield from (("cell", c) for c in self.cells)

    @cached_property
    def claims(self) -> list[tuple[Kind, int, str, str]]:
        """Every barcode the batch gives (see :func:`barcodes_of`), listed once the batch is
        read: its checks against itself and against the stored catalog both walk them."""
        return list(barcodes_of(self))

    @property
    def size(self) -> int:
        return (
            len(self.products)
            + len(self.warehouses)
            + len(self.cells)
            + sum(len(ids) for ids in self.deleted.values())
        )


def read_batch(body: object, max_items: int = MAX_ITEMS_PER_CALL) -> Batch:
    """The batch in ``body`` (the native shape, see docs/catalog.md), or CatalogInvalid."""
    if not isinstance(body, dict):
        raise CatalogInvalid([_batch_error("", "catalog_not_object")])
    errors: list[ItemError] = []
    batch = Batch(store=_store(body, errors))
    lists = {kind: _list(body, LISTS[kind], errors) for kind in KINDS}
    deletions = _deletions(body.get("delete"), errors)
    total = sum(len(items) for items in lists.values()) + sum(len(i) for i in deletions.values())
    if total > max_items:
        raise CatalogInvalid([_batch_error("", "catalog_too_many_items", limit=max_items)])
    for kind, items in lists.items():
        kept: list[Item] = getattr(batch, LISTS[kind])
        positions = batch.positions[kind]
        for position, raw in enumerate(items, start=1):
            item = _item(kind, position, raw, errors)
            if item is not None:
                kept.append(item)
                positions.append(position)
    for kind, ids in deletions.items():
        for position, raw_id in enumerate(ids, start=1):
            if isinstance(raw_id, str) and raw_id.strip() and "\x1f" not in raw_id:
                batch.deleted[kind].append(raw_id.strip())
            else:
                errors.append(
                    ItemError(kind, position, None, f"delete.{LISTS[kind]}", "catalog_bad_delete")
                )
    errors.extend(duplicates(batch))
    if errors:
        raise CatalogInvalid(errors)
    return batch


def duplicates(batch: Batch) -> list[ItemError]:
    """Ids given twice in the batch, and barcodes given to two items (or twice to one)."""
    errors: list[ItemError] = []
    for kind in KINDS:
        seen: set[str] = set()
        items: list[Item] = getattr(batch, LISTS[kind])
        for index, item in enumerate(items):
            if item["id"] in seen:
                position = batch.position(kind, index)
                errors.append(ItemError(kind, position, item["id"], "id", "catalog_id_duplicate"))
            seen.add(item["id"])
        for index, item_id in enumerate(batch.deleted[kind]):
            if item_id in seen:
                path = f"delete.{LISTS[kind]}"
                errors.append(ItemError(kind, index + 1, item_id, path, "catalog_id_duplicate"))
            seen.add(item_id)
    owners: dict[str, tuple[Kind, str]] = {}
    for kind, position, item_id, code in batch.claims:
        other = owners.get(code)
        if other is not None:
            errors.append(
                ItemError(
                    kind,
                    position,
                    item_id,
                    "barcode" if kind == "cell" else "barcodes",
                    "catalog_barcode_duplicate",
                    {"barcode": code, "other": other[1]},
                )
            )
        else:
            owners[code] = (kind, item_id)
    return errors


def barcodes_of(batch: Batch) -> Iterable[tuple[Kind, int, str, str]]:
    """Every barcode the batch gives: (kind, position, item id, barcode)."""
    positions = batch.positions["product"]
    for index, product in enumerate(batch.products):
        # Once per product, not per barcode; a batch built in code has no positions.
        position = positions[index] if index < len(positions) else index + 1
        item_id = product["id"]
        for barcode in product["barcodes"]:
            yield "product", position, item_id, barcode["barcode"]
    for index, cell in enumerate(batch.cells):
        if cell.get("barcode"):
            yield "cell", batch.position("cell", index), cell["id"], cell["barcode"]


def _store(body: Mapping[str, Any], errors: list[ItemError]) -> str:
    store = body.get("store", "")
    if store is None:
        return ""
    if not isinstance(store, str) or len(store) > 200 or "\x1f" in store:
        errors.append(_batch_error("store", "catalog_field_type"))
        return ""
    return store.strip()


def _list(body: Mapping[str, Any], key: str, errors: list[ItemError]) -> list[Any]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(_batch_error(key, "catalog_not_list"))
        return []
    return value


def _deletions(value: object, errors: list[ItemError]) -> dict[Kind, list[Any]]:
    out: dict[Kind, list[Any]] = {k: [] for k in KINDS}
    if value is None:
        return out
    if not isinstance(value, dict):
        errors.append(_batch_error("delete", "catalog_not_object"))
        return out
    for kind in KINDS:
        out[kind] = _list(value, LISTS[kind], errors)
    return out


def _item(kind: Kind, position: int, raw: object, errors: list[ItemError]) -> Item | None:
    if kind == "product":
        plain = product_data(raw)
        if plain is not None:
            return plain
    item_id = _id_of(raw)
    if not isinstance(raw, dict):
        errors.append(ItemError(kind, position, None, "", "catalog_not_object"))
        return None
    try:
        return MODELS[kind].model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        errors.extend(_field_errors(kind, position, item_id, exc))
        return None


def _id_of(raw: object) -> str | None:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        text: str = raw["id"][:200]
        return text
    return None


def _field_errors(
    kind: Kind, position: int, item_id: str | None, exc: ValidationError
) -> list[ItemError]:
    out = []
    for err in exc.errors():
        path = field_path(err)
        kind_of_error = err["type"]
        if kind_of_error == "missing":
            code, params = "catalog_field_missing", {}
        elif kind_of_error == "too_long" and path == "barcodes":
            code, params = "catalog_too_many_barcodes", {"limit": err["ctx"]["max_length"]}
        elif kind_of_error.endswith("_type"):
            code, params = "catalog_field_type", {}
        elif kind_of_error == "string_too_short" and path.endswith("name"):
            code, params = "catalog_field_missing", {}
        else:
            # pydantic's kind and its rule's values too, for the reason in the reader's words.
            limits = {name: plain(value) for name, value in (err.get("ctx") or {}).items()}
            code = "catalog_field_invalid"
            params = {"reason": err["msg"], "problem": kind_of_error, "limits": limits}
        out.append(ItemError(kind, position, item_id, path, code, params))
    return out


def _batch_error(path: str, code: str, **params: Any) -> ItemError:
    return ItemError(None, None, None, path, code, params)


# Field names as a 1C person knows them.
FIELD_NAMES_RU = {
    "id": "Ид",
    "name": "Наименование",
    "article": "Артикул",
    "unit": "ЕдиницаИзмерения",
    "barcodes": "Штрихкоды",
    "barcode": "Штрихкод",
    "factor": "Коэффициент",
    "characteristic": "Характеристика",
    "series": "Серия",
    "warehouse": "Склад",
    "store": "ТорговыйОбъект",
    "products": "Товары",
    "warehouses": "Склады",
    "cells": "Ячейки",
    "delete": "Удалить",
}


def field_label(path: str, language: str) -> str:
    """``barcodes.0.factor`` as «Штрихкоды[1].Коэффициент» (ru) or ``barcodes[1].factor``."""
    parts: list[str] = []
    for part in path.split(".") if path else []:
        if part.isdigit() and parts:
            parts[-1] += f"[{int(part) + 1}]"
        else:
            parts.append(FIELD_NAMES_RU.get(part, part) if language == "ru" else part)
    return ".".join(parts)


def rendered(
    errors: Sequence[ItemError | Mapping[str, Any]], language: str
) -> list[dict[str, Any]]:
    """The errors with their messages in ``language``: what the caller reads."""
    out = []
    for error in errors:
        body = error.as_json() if isinstance(error, ItemError) else dict(error)
        params = dict(body.get("params") or {})
        params["field"] = field_label(body.get("field") or "", language)
        if "problem" in params:
            said_as = {
                "type": params["problem"],
                "ctx": params.get("limits"),
                "msg": params["reason"],
            }
            params["reason"] = validation_reason(said_as, language)
        params["item"] = item_label(
            body.get("kind"), body.get("position"), body.get("id"), language
        )
        message = render(body["code"], language, params)
        out.append({**body, "message": message})
    return out


def item_label(kind: str | None, position: int | None, item_id: str | None, language: str) -> str:
    if kind is None:
        return render("catalog_item_batch", language)
    label = render(f"catalog_item_{kind}", language, {"position": position})
    return f"{label} ({item_id})" if item_id else label
