"""What the LAN writer takes from the broker: LAN copies, their withdrawals, refused results,
and its bases' barcode settings (from ``tenant.changed``), each to one use case of the desk."""

from __future__ import annotations

from services.lan_writer.desk import LanDesk
from shared.contracts.directory import TenantChanged
from shared.contracts.results import ResultRefused
from shared.contracts.uploads import DocumentRouted, DocumentWithdrawn
from shared.messaging.consumer import Handler


def table(desk: LanDesk) -> dict[type, Handler]:
    return {
        DocumentRouted: desk.routed,
        DocumentWithdrawn: desk.withdraw,
        ResultRefused: desk.result_refused,
        TenantChanged: desk.tenant_changed,
    }
