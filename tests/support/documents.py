"""Sample documents as an accounting system would upload them."""

from __future__ import annotations

import uuid
from typing import Any

from tools.bench.documents import ORDER_TYPE, order
from tools.bench.documents import PROCESS as PURCHASE

__all__ = ["ORDER_TYPE", "PURCHASE", "by_device", "by_pin", "order", "upload"]


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
