"""Sample documents as an accounting system would upload them."""

from __future__ import annotations

import uuid
from typing import Any

PURCHASE = "purchase-receipt"
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
                "article": f"00001234567890{n:04d}",
                "barcodes": [f"46000000{n:05d}"],
                "unit": "шт",
                "planned_qty": str(n * 2),
            }
            for n in range(1, lines + 1)
        ],
    }


def upload(
    target: dict[str, Any],
    *documents: dict[str, Any],
    process: str = PURCHASE,
    channel: str = "internet",
    request_id: str | None = None,
) -> dict[str, Any]:
    return {
        "request_id": request_id or uuid.uuid4().hex,
        "process": process,
        "channel": channel,
        "target": target,
        "documents": list(documents) or [order()],
    }


def by_pin(pin: str) -> dict[str, Any]:
    return {"kind": "pin", "value": pin}


def by_device(device_id: str) -> dict[str, Any]:
    return {"kind": "device", "value": device_id}
