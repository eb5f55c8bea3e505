"""The catalog as 1C writes it to JSON, turned into the native batch (docs/catalog.md).

Accepted shapes:

- a structure (``ЗаписатьJSON`` of a ``Структура``) with Russian or English keys:
  ``{"ТорговыйОбъект": …, "Товары": […], "Склады": […], "Ячейки": […], "Удалить": {…}}``;
- an array of products (``ЗаписатьJSON`` of a ``Массив``);
- XDTO objects (``СериализаторXDTO.ЗаписатьJSON``) of catalogs, alone or in an array:
  ``CatalogObject.Номенклатура`` (products), ``CatalogObject.Склады`` (warehouses),
  ``CatalogObject.СкладскиеЯчейки`` (cells); ``DeletionMark`` true deletes the item.

UTF-8 with or without a byte order mark; numbers are read as exact decimals. Keys no rule
names are ignored (an export carries many); what is wrong with an item is reported by
:func:`shared.catalog.batch.read_batch`, item by item.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.i18n_validation import OBJECT_OR_ARRAY_EXPECTED
from shared.onec.errors import OneCImportError, decode_utf8
from shared.onec.json_import import parse_1c_json

# Each native field and the keys 1C may give it under, first present wins.
_TOP = {
    "store": ("store", "ТорговыйОбъект", "Магазин"),
    "products": ("products", "Товары", "Номенклатура"),
    "warehouses": ("warehouses", "Склады"),
    "cells": ("cells", "Ячейки", "СкладскиеЯчейки"),
    "delete": ("delete", "Удалить", "Удаленные"),
}
_PRODUCT = {
    "id": ("id", "Ид", "Ссылка", "Ref", "УникальныйИдентификатор", "GUID", "Код", "Code"),
    "name": ("name", "Наименование", "Description", "НаименованиеПолное"),
    "article": ("article", "Артикул"),
    "unit": ("unit", "ЕдиницаИзмерения", "Единица"),
    "barcodes": ("barcodes", "Штрихкоды"),
}
_BARCODE = {
    "barcode": ("barcode", "Штрихкод"),
    "factor": ("factor", "Коэффициент", "КоличествоВУпаковке"),
    "characteristic": ("characteristic", "Характеристика"),
    "series": ("series", "Серия"),
}
_WAREHOUSE = {
    "id": _PRODUCT["id"],
    "name": ("name", "Наименование", "Description"),
}
_CELL = {
    "id": _PRODUCT["id"],
    "warehouse": ("warehouse", "Склад", "Owner", "Владелец"),
    "name": ("name", "Наименование", "Description"),
    "barcode": ("barcode", "Штрихкод"),
}
_XDTO_KINDS = {
    "CatalogObject.Номенклатура": "products",
    "CatalogObject.Склады": "warehouses",
    "CatalogObject.СкладскиеЯчейки": "cells",
}
_FIELDS = {"products": _PRODUCT, "warehouses": _WAREHOUSE, "cells": _CELL}
_DELETION_MARKS = ("DeletionMark", "ПометкаУдаления")
_PRESENTATIONS = ("Наименование", "Представление", "Description")
_REFERENCES = ("Ссылка", "Ref", "#value")


def read_catalog_json(data: bytes | str) -> dict[str, Any]:
    """The native batch in a 1C (or native) JSON export."""
    parsed = parse_1c_json(decode_utf8(data))
    if isinstance(parsed, dict) and not _is_xdto(parsed):
        return _structure(parsed)
    items = parsed
    if isinstance(parsed, dict):  # one XDTO object, or an XDTO array
        items = parsed["#value"] if isinstance(parsed.get("#value"), list) else [parsed]
    if not isinstance(items, list):
        raise OneCImportError("onec_not_json", json_error=OBJECT_OR_ARRAY_EXPECTED)
    return _from_list(items)


def _is_xdto(value: Mapping[str, Any]) -> bool:
    return "#type" in value


def _structure(body: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for target, keys in _TOP.items():
        value = _first(body, keys)
        if value is None:
            continue
        if target in _FIELDS and isinstance(value, list):
            value = [_item(item, _FIELDS[target]) for item in value]
        elif target == "delete" and isinstance(value, dict):
            value = {
                native: _first(value, keys)
                for native, keys in _TOP.items()
                if native in _FIELDS and _first(value, keys) is not None
            }
        elif target == "store":
            value = _text(value)
        out[target] = value
    return out


def _from_list(items: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"products": [], "warehouses": [], "cells": []}
    deleted: dict[str, list[Any]] = {"products": [], "warehouses": [], "cells": []}
    for raw in items:
        kind, body = "products", raw
        if isinstance(raw, dict) and _is_xdto(raw):
            type_name = str(raw["#type"]).rpartition(":")[2]
            kind = _XDTO_KINDS.get(type_name, "products")
            body = raw.get("#value")
        if isinstance(body, dict) and _first(body, _DELETION_MARKS) is True:
            deleted[kind].append(_reference(_first(body, _FIELDS[kind]["id"])))
            continue
        out[kind].append(_item(body, _FIELDS[kind]))
    if any(deleted.values()):
        out["delete"] = deleted
    return out


def _item(raw: object, fields: Mapping[str, tuple[str, ...]]) -> object:
    """The item with native keys; anything but an object stays as it is (reported later)."""
    if not isinstance(raw, dict):
        return raw
    if raw.keys() <= fields.keys() and _native_barcodes(raw.get("barcodes")):
        return raw  # the native shape already: a large catalog is not copied item by item
    item: dict[str, Any] = {}
    for target, keys in fields.items():
        value = _first(raw, keys)
        if value is None:
            continue
        if target == "barcodes" and isinstance(value, list):
            value = [_barcode(code) for code in value]
        elif target in ("id", "warehouse"):
            value = _reference(value)
        elif target == "unit":
            value = _text(value)
        item[target] = value
    return item


def _native_barcodes(value: object) -> bool:
    if not isinstance(value, list):
        return True
    return all(isinstance(code, dict) and code.keys() <= _BARCODE.keys() for code in value)


def _barcode(raw: object) -> object:
    """A barcode given as text stands for itself with factor 1."""
    if isinstance(raw, str):
        return {"barcode": raw}
    if isinstance(raw, dict):
        return {t: v for t, keys in _BARCODE.items() if (v := _first(raw, keys)) is not None}
    return raw


def _text(value: object) -> object:
    """A reference as 1C nests it collapses to its presentation (or its GUID)."""
    if isinstance(value, dict):
        return _first(value, _PRESENTATIONS) or _first(value, _REFERENCES)
    return value


def _reference(value: object) -> object:
    """An item's own id, or the item a field points to: the GUID of a nested reference."""
    if isinstance(value, dict):
        return _first(value, _REFERENCES) or _first(value, _PRESENTATIONS)
    return value


def _first(body: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = body.get(key)
        if value is not None:
            return value
    return None
