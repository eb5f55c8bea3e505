"""Supplier orders as 1C sends them for the shipped ``purchase-receipt`` process, and the
fact lines a terminal sends back for them: what the bench uploads, and the tests' sample."""

from __future__ import annotations

import uuid
from typing import Any

PROCESS = "purchase-receipt"
ORDER_TYPE = "Заказ поставщику"


def order(
    lines: int = 2, *, document_id: str | None = None, number: str = "0000-000123"
) -> dict[str, Any]:
    return {
        "header": {
            "accounting_type": ORDER_TYPE,
            "id": document_id or str(uuid.uuid4()),
            "number": number,
            "date": "2026-11-28T10:15:00",
            "counterparty": "ООО «Ромашка»",
            "warehouse": "Основной склад",
        },
        "lines": [
            {
                "line_no": n,
                "product_id": f"prod-{n}",
                "name": f"Товар №{n}",
                "article": f"00001234567890{n:05d}",
                "barcodes": [f"4600000{n:06d}"],
                "unit": "шт",
                "planned_qty": str(n * 2),
            }
            for n in range(1, lines + 1)
        ],
    }


def upload_to_device(device_id: str, *documents: dict[str, Any]) -> dict[str, Any]:
    """An upload to a device picked from the base's list (no PIN typed)."""
    return {
        "request_id": uuid.uuid4().hex,
        "process": PROCESS,
        "channel": "internet",
        "target": {"kind": "device", "value": device_id},
        "documents": list(documents),
    }


def facts_as_planned(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every line scanned exactly as planned."""
    return [
        {
            "line_no": line["line_no"],
            "product_id": line["product_id"],
            "barcode": line["barcodes"][0],
            "quantity": line["planned_qty"],
        }
        for line in document["lines"]
    ]
