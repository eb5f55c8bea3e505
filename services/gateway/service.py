"""How the gateway runs: its collections, handlers, background pushes and the HTTP app."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from services.gateway import consumers, repository, webhooks
from services.gateway.api import ROUTERS, inbox_route, upload_route
from services.gateway.auth import RecentlyRefused
from services.gateway.credentials import ACCESS_EXCHANGE, AccessNews, CredentialCache
from services.gateway.inbox import Inbox
from services.gateway.inbox_summaries import InboxSummaries
from services.gateway.inbox_watch import INBOX_EXCHANGE, InboxWatch
from services.gateway.notifier import Notifier
from services.gateway.parts import GatewayParts, gateway_parts
from services.gateway.presence import Presence
from services.gateway.rate_limit import RateLimiter
from services.gateway.sightings import SightingWriter
from services.gateway.webhook_sender import WebhookSender
from shared.catalog.replica import CatalogReplica
from shared.clock import now
from shared.contracts.catalog import PlainChanges
from shared.contracts.copies import CopyState
from shared.limits import GuessLimit
from shared.logging import get_logger
from shared.messaging.broadcast import Broadcast
from shared.messaging.topology import GATEWAY_WORK
from shared.metrics import DEVICES_ONLINE
from shared.secret_box import load_box
from shared.service import Runtime, ServiceSpec, service_app

NAME = "gateway"

log = get_logger("tsdx.gateway")


async def _on_start(rt: Runtime) -> None:
    settings = rt.settings
    notifier = Notifier()
    polls = InboxWatch(
        lambda devices: repository.devices_with_copies(
            rt.store, devices, (CopyState.DELIVERED, CopyState.WITHDRAWN)
        ),
        summaries=InboxSummaries(settings.inbox_summaries_size, settings.inbox_summaries_seconds),
    )
    inbox_broadcast = Broadcast(
        rt.broker, INBOX_EXCHANGE, polls.heard, polls.missed_some, settings.publish_timeout_seconds
    )
    await inbox_broadcast.start()
    polls.start(inbox_broadcast)
    access = AccessNews(CredentialCache(settings.credential_cache_size), polls)
    broadcast = Broadcast(
        rt.broker,
        ACCESS_EXCHANGE,
        access.heard,
        access.missed_some,
        settings.publish_timeout_seconds,
    )
    await broadcast.start()
    access.attach(broadcast)
    # Not ready while either is down: revocations must be heard and told (docs/deploy.md).
    rt.broadcasts.extend((inbox_broadcast, broadcast))
    presence = Presence(timedelta(seconds=settings.sighting_precision_seconds))
    presence.seed(await repository.devices(rt.store))
    DEVICES_ONLINE.set_function(lambda: presence.online(now()))
    box = load_box(settings.secret_keys, settings.data_dir)
    parts = GatewayParts(
        notifier=notifier,
        polls=polls,
        inbox_broadcast=inbox_broadcast,
        access=access,
        access_broadcast=broadcast,
        refused_hashes=RecentlyRefused(),
        pin_limit=GuessLimit(rt.store, "pin", settings.pin_misses_per_minute),
        rate_limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
        presence=presence,
        sightings=SightingWriter(rt.uow, presence),
        secret_box=box,
        catalog=CatalogReplica(rt.uow, rt.rpc, settings.catalog_check_seconds),
    )
    rt.parts = parts
    resealed = await webhooks.reseal_secrets(rt.store, box)
    if resealed:
        log.info("webhook.secrets_resealed", count=resealed)
    parts.webhook_sender = WebhookSender(rt, parts.notifier, box=box)
    parts.webhook_sender.start()
    parts.catalog.start()
    parts.sightings.start()


async def _on_stop(rt: Runtime) -> None:
    parts = gateway_parts(rt)
    if parts.webhook_sender is not None:
        await parts.webhook_sender.stop()
    await parts.sightings.stop()
    await parts.access_broadcast.stop()
    await parts.polls.stop()
    await parts.inbox_broadcast.stop()
    await parts.catalog.stop()


def build_app(rt: Runtime) -> FastAPI:
    app = service_app(
        rt,
        NAME,
        title="tsdx gateway",
        description="Terminal API and accounting API of the tsdx exchange server.",
        routers=ROUTERS,
        terminal_app="internet",
    )
    inbox_route.install(app, rt)
    upload_route.install(app, rt)
    return app


# Declared as every service declares its ServiceSpec (shared/service.py): the five look alike
# field by field, what fills the fields is this service's own.
SPEC = ServiceSpec(
    name=NAME,
    collections=repository.COLLECTIONS,
    port=lambda s: s.gateway_port,
    build_app=build_app,
    handlers=lambda rt: {
        GATEWAY_WORK: {
            **consumers.table(
                Inbox(
                    rt.uow,
                    gateway_parts(rt).notifier,
                    gateway_parts(rt).polls,
                    gateway_parts(rt).access,
                )
            ),
            PlainChanges: gateway_parts(rt).catalog.changed,
        }
    },
    rpc_methods=lambda rt: [consumers.rpc_handlers(rt.store)],
    on_start=_on_start,
    on_exit=lambda rt: gateway_parts(rt).polls.release_all(),
    on_stop=_on_stop,
)
