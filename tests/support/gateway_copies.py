"""A copy in a gateway inbox, as routing would have routed it, for tests of the gateway's
repository and use cases."""

from __future__ import annotations

from typing import Any

from services.gateway.records import InboxCopy
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
