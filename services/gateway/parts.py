"""The gateway's own parts, built once at start (service.py) and read typed by the routers,
the request dependencies and the webhook sender: ``parts_of(rt, GatewayParts)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.gateway.credentials import AccessNews
from services.gateway.inbox_watch import InboxWatch
from services.gateway.notifier import Notifier
from services.gateway.presence import Presence
from services.gateway.rate_limit import RateLimiter
from services.gateway.sightings import SightingWriter
from shared.catalog.replica import CatalogReplica
from shared.limits import GuessLimit
from shared.messaging.broadcast import Broadcast
from shared.secret_box import SecretBox
from shared.service import Runtime, parts_of

if TYPE_CHECKING:  # auth.py and webhooks.py read these parts
    from services.gateway.auth import RecentlyRefused
    from services.gateway.webhook_sender import WebhookSender


@dataclass
class GatewayParts:
    notifier: Notifier
    # The long polls waiting here, woken by news of their inboxes (and that news's broadcast).
    polls: InboxWatch
    inbox_broadcast: Broadcast
    # Credentials held in memory, and the news that tells every instance to forget one.
    access: AccessNews
    access_broadcast: Broadcast
    refused_hashes: RecentlyRefused
    pin_limit: GuessLimit
    rate_limiter: RateLimiter
    presence: Presence
    # Writes the sightings due in batches (last_seen and device.seen).
    sightings: SightingWriter
    secret_box: SecretBox
    # The copy of the base's catalog terminals sync from, kept by catalog.changed.
    catalog: CatalogReplica
    # Started once the parts are in place (it reads the secret box from them).
    webhook_sender: WebhookSender | None = None


def gateway_parts(rt: Runtime) -> GatewayParts:
    return parts_of(rt, GatewayParts)
