"""Catalog batches and a terminal's full sync, as the catalog tests need them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Page = Callable[..., Awaitable[dict[str, Any]]]


def product(n: int, *, box: int | None = None, name: str | None = None) -> dict[str, Any]:
    barcodes: list[dict[str, Any]] = [{"barcode": f"46000000{n:05d}"}]
    if box is not None:
        barcodes.append({"barcode": f"14600000{n:05d}", "factor": box})
    return {
        "id": f"p-{n}",
        "name": name or f"Товар {n}",
        "article": f"A-{n}",
        "unit": "шт",
        "barcodes": barcodes,
    }


async def sync_all(page: Page, since: int = 0, limit: int = 5000) -> dict[str, Any]:
    """Every page from ``since``, merged as a terminal keeps them: items by kind and id,
    deletions applied; ``version`` is where the next sync starts."""
    items: dict[tuple[str, str], dict[str, Any]] = {}
    deleted: list[tuple[str, str]] = []
    pages = 0
    while True:
        body = await page(since=since, limit=limit)
        pages += 1
        for kind, key in (("product", "products"), ("warehouse", "warehouses"), ("cell", "cells")):
            for item in body[key]:
                items[(kind, item["id"])] = item
        for gone in body["deleted"]:
            items.pop((gone["kind"], gone["id"]), None)
            deleted.append((gone["kind"], gone["id"]))
        since = body["version"]
        if not body["more"]:
            return {"items": items, "deleted": deleted, "version": since, "pages": pages}
