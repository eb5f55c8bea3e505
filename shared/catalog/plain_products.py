"""A product as 1C usually sends it, checked without building a model.

A shop's catalog is 100,000 products, almost all of them plain: text fields already trimmed,
whole-number factors, no ``null``. For such a product this check gives exactly what
``CatalogProduct.model_validate(raw).model_dump(mode="json")`` gives, several times faster.
Anything it is not sure of (a field to trim, a ``null``, a decimal factor, a key it does not
know, a value out of bounds) it leaves to the model, so every wrong item is still named by the
model's own rules and messages (shared.catalog.batch); the two may never disagree on what is
accepted, which tests/unit/shared/test_plain_products.py checks against the model.
"""

from __future__ import annotations

from typing import Any

from shared.contracts.catalog import MAX_BARCODES_PER_PRODUCT
from shared.plain_text import plain_text

_PRODUCT_KEYS = frozenset(("id", "name", "article", "unit", "barcodes"))
_BARCODE_KEYS = frozenset(("barcode", "factor", "characteristic", "series"))
# A whole-number factor within CatalogBarcode's digits (18, of which 6 after the point).
_FACTOR_LIMIT = 10**12


def _key_text(value: object) -> bool:
    """An id or a barcode: 1-200 characters, no NUL or unit separator (storage keys)."""
    return plain_text(value, 200, 1) and "\x00" not in value and "\x1f" not in value  # type: ignore[operator]


def _barcode(raw: object) -> dict[str, Any] | None:
    if type(raw) is not dict or not raw.keys() <= _BARCODE_KEYS:
        return None
    if not _key_text(raw.get("barcode")):
        return None
    factor = raw.get("factor", 1)
    if type(factor) is not int or not 0 < factor < _FACTOR_LIMIT:
        return None
    characteristic = raw.get("characteristic", "")
    series = raw.get("series", "")
    # Mostly left out: the check of an empty text is skipped.
    if (characteristic != "" and not plain_text(characteristic, 200)) or (
        series != "" and not plain_text(series, 200)
    ):
        return None
    return {
        "barcode": raw["barcode"],
        "factor": str(factor),
        "characteristic": characteristic,
        "series": series,
    }


def product_data(raw: object) -> dict[str, Any] | None:
    """The product's stored data when it is plainly right, or None: let the model decide."""
    if type(raw) is not dict or not raw.keys() <= _PRODUCT_KEYS:
        return None
    name = raw.get("name")
    article = raw.get("article", "")
    unit = raw.get("unit", "")
    codes = raw.get("barcodes", [])
    if not (
        _key_text(raw.get("id"))
        and plain_text(name, 1000, 1)
        and plain_text(article, 200)
        and plain_text(unit, 50)
        and type(codes) is list
        and len(codes) <= MAX_BARCODES_PER_PRODUCT
    ):
        return None
    barcodes = []
    for code in codes:
        checked = _barcode(code)
        if checked is None:
            return None
        barcodes.append(checked)
    return {"id": raw["id"], "name": name, "article": article, "unit": unit, "barcodes": barcodes}
