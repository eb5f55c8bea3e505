"""A copy in a gateway inbox as routing would have routed it, and the gateway's copies of a
device and a base, for tests of the gateway's repository and use cases."""

from __future__ import annotations

from typing import Any

from services.gateway.records import DeviceCopy, InboxCopy, PolledCopy, TenantCopy
from shared.contracts.copies import CopyState

DOCUMENT: dict[str, Any] = {"header": {"id": "doc-1"}, "lines": []}


def a_copy(**changes: Any) -> InboxCopy:
    """A waiting copy of ``doc-1`` for ``dev-1`` of base ``trade``, with ``changes``."""
    fields: dict[str, Any] = {
        "id": "dl-1",
        "tenant": "trade",
        "device_id": "dev-1",
        "document_id": "doc-1",
        "version": 1,
        "settings": {"terminal_type": "receipt"},
        "header": {"accounting_type": "receipt", "number": "42", "date": "2026-12-01"},
        "lines_count": 3,
        "state": CopyState.DELIVERED,
        "routed_at": "2026-12-01T10:00:00+00:00",
        "process": "receipt",
        "request_id": "req-1",
        **changes,
    }
    return InboxCopy(**fields)


def a_polled_copy(**changes: Any) -> PolledCopy:
    """:func:`a_copy` as the inbox poll reads it."""
    copy = a_copy(**changes)
    return PolledCopy(
        copy.id,
        copy.document_id,
        copy.version,
        copy.header,
        copy.settings,
        copy.lines_count,
        copy.state,
        copy.withdrawn_reason,
        copy.last_refusal,
    )


def a_device(**changes: Any) -> DeviceCopy:
    """An active online device ``dev-1`` of base ``trade``, with ``changes``."""
    fields: dict[str, Any] = {
        "id": "dev-1",
        "tenant": "trade",
        "pin": "1234",
        "name": "ТСД 1",
        "model": "EDA50",
        "hardware_id": "hw-1",
        "mode": "online",
        "status": "active",
        "credential_hash": "h1",
        "revision": 1,
        **changes,
    }
    return DeviceCopy(**fields)


def a_tenant(**changes: Any) -> TenantCopy:
    """The active base ``trade``, with ``changes``."""
    fields: dict[str, Any] = {
        "id": "trade",
        "name": "Склад",
        "api_key_hash": "k1",
        "status": "active",
        "revision": 1,
        "barcodes": {},
        **changes,
    }
    return TenantCopy(**fields)
