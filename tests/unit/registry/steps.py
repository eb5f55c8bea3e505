"""Steps the registry's use-case tests take: pairing a terminal, and answering an upload."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from services.registry.known_devices import KnownDevices
from services.registry.pairing import Pairing
from shared.contracts import Envelope
from shared.contracts.documents import Target, TargetKind
from shared.contracts.envelope import wrap
from shared.contracts.uploads import Delivery, UploadDecided


async def pair(pairing: Pairing, base: dict[str, str], hardware_id: str) -> dict[str, Any]:
    """Pair a terminal with the base; the device as the registry shows it."""
    paired = await pairing.pair(
        base["connection_code"], hardware_id, "EDA50", f"ТСД {hardware_id}", "online"
    )
    device: dict[str, Any] = paired["device"]
    return device


def decided(
    reached: list[tuple[TargetKind, str]],
    *,
    at: datetime = datetime(2026, 12, 5, 9, tzinfo=UTC),
    outcome: Literal["accepted", "refused"] = "accepted",
    channel: Literal["internet", "lan"] = "internet",
) -> UploadDecided:
    """Routing's answer to an upload requested at ``at``, one copy per (target kind, value)."""
    return UploadDecided(
        request_id=f"r-{at.isoformat()}",
        process="order",
        channel=channel,
        target=Target(kind="device"),
        outcome=outcome,
        deliveries=[
            Delivery(
                delivery_id=f"c-{n}",
                document_id=f"doc-{n}",
                channel=channel,
                target=Target(kind=kind, value=value),
            )
            for n, (kind, value) in enumerate(reached)
        ],
        requested_at=at,
    )


async def remember(
    known_devices: KnownDevices,
    tenant: str | None,
    answer: UploadDecided,
    *,
    same_event: Envelope | None = None,
) -> Envelope:
    """Hand the base's ``upload.decided`` to the device list, as the registry's consumer does."""
    envelope = same_event or wrap(answer, tenant)
    await known_devices.remember(envelope, answer)
    return envelope
