"""The catalog of an accounting base (справочники): products with their barcodes, warehouses
and storage cells, as 1C sends them, as the copies receive them and as terminals sync them.

Every change of a catalog item raises the catalog's version by one and stamps the item with
it; a deletion leaves a tombstone with its version, so a delta sync returns it too. A
catalog is one base's, or one trade object's («Торговый объект») of that base: ``store``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from shared.contracts.documents import Strict
from shared.contracts.envelope import Payload, message

Kind = Literal["product", "warehouse", "cell"]
KINDS: tuple[Kind, ...] = ("product", "warehouse", "cell")

# Ids and barcodes become parts of storage keys joined by the unit separator (0x1F): that one
# character and NUL are never accepted in them. The group separator of a marking code (0x1D)
# is.
_KEY_TEXT = r"^[^\x00\x1f]*$"
ItemId = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_KEY_TEXT)]
StoreName = Annotated[str, StringConstraints(max_length=200, pattern=_KEY_TEXT)]
BarcodeText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_KEY_TEXT)]

# A product with more barcodes than this is almost certainly an export gone wrong.
MAX_BARCODES_PER_PRODUCT = 100


class CatalogBarcode(Strict):
    """One barcode of a product. ``factor`` is how many units one scan counts: 1 for the
    piece, 12 for a box of twelve."""

    barcode: BarcodeText
    factor: Decimal = Field(default=Decimal(1), gt=0, max_digits=18, decimal_places=6)
    characteristic: str = Field(default="", max_length=200)
    series: str = Field(default="", max_length=200)


class CatalogProduct(Strict):
    id: ItemId
    name: str = Field(min_length=1, max_length=1000)
    article: str = Field(default="", max_length=200)
    unit: str = Field(default="", max_length=50)
    barcodes: list[CatalogBarcode] = Field(
        default_factory=list, max_length=MAX_BARCODES_PER_PRODUCT
    )


class CatalogWarehouse(Strict):
    id: ItemId
    name: str = Field(min_length=1, max_length=500)


class CatalogCell(Strict):
    """A storage cell of a warehouse; its barcode is unique in the catalog with the products'."""

    id: ItemId
    warehouse: ItemId
    name: str = Field(default="", max_length=200)
    barcode: BarcodeText | None = None


class ProductEntry(CatalogProduct):
    version: int = Field(ge=1)


class WarehouseEntry(CatalogWarehouse):
    version: int = Field(ge=1)


class CellEntry(CatalogCell):
    version: int = Field(ge=1)


class Tombstone(Strict):
    kind: Kind
    id: ItemId
    version: int = Field(ge=1)


@message
class CatalogChanged(Payload):
    """Items of one catalog at their new versions, for the copies the gateway and the LAN
    writer keep. The message covers every version from ``first`` to ``last``: each one is in
    it, or belongs to an item changed again later (which a later message carries). A batch
    from 1C is split into several such messages, each bounded in bytes."""

    TYPE = "catalog.changed"

    store: StoreName = ""
    first: int = Field(ge=1)
    last: int = Field(ge=1)
    products: list[ProductEntry] = Field(default_factory=list)
    warehouses: list[WarehouseEntry] = Field(default_factory=list)
    cells: list[CellEntry] = Field(default_factory=list)
    deleted: list[Tombstone] = Field(default_factory=list)

    def ordering_key(self) -> str:
        return _applied_in_turn(self.store)


def _applied_in_turn(store: str) -> str:
    # One catalog's messages are applied one after another by a copy: they all move the same
    # head, which concurrent transactions would only contend for.
    return f"catalog:{store}"


def _stamped(entries: list[Any], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    for entry in entries:
        if type(entry) is not dict:
            raise ValueError("every entry is an object")
        version = entry.get("version")
        if type(version) is not int or version < 1:
            raise ValueError("every entry needs its version (a whole number from 1)")
        if any(type(entry.get(name)) is not str or not entry[name] for name in fields):
            raise ValueError(f"every entry needs its {' and '.join(fields)}")
    return entries


class PlainChanges(Payload):
    """``catalog.changed`` as a copy reads it: its entries as the JSON they came in, each
    with its id and version checked, nothing more. The owner checked every item before it
    sent them, and a copy only stores them and serves them as they are: validating each
    product and barcode again cost a copy as much as storing them. Not registered as a
    message of its own: the copies' consumers read ``catalog.changed`` by it."""

    TYPE = CatalogChanged.TYPE
    VERSION = CatalogChanged.VERSION

    store: StoreName = ""
    first: int = Field(ge=1)
    last: int = Field(ge=1)
    # ``Any``, checked by the validators below: a typed entry would be copied key by key.
    products: list[Any] = Field(default_factory=list)
    warehouses: list[Any] = Field(default_factory=list)
    cells: list[Any] = Field(default_factory=list)
    deleted: list[Any] = Field(default_factory=list)

    @field_validator("products", "warehouses", "cells")
    @classmethod
    def _items_stamped(cls, entries: list[Any]) -> list[dict[str, Any]]:
        return _stamped(entries, ("id",))

    @field_validator("deleted")
    @classmethod
    def _tombstones_stamped(cls, entries: list[Any]) -> list[dict[str, Any]]:
        for entry in _stamped(entries, ("id", "kind")):
            if entry["kind"] not in KINDS:
                raise ValueError(f"unknown kind {entry['kind']!r}")
        return entries

    def ordering_key(self) -> str:
        return _applied_in_turn(self.store)
