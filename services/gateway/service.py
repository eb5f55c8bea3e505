"""How the gateway runs: its collections, handlers, background pushes and the HTTP app."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI

from services.gateway import (
    accounting,
    admin,
    admin_processes,
    barcode_settings,
    catalog,
    journeys,
    repository,
    terminal,
    terminal_created,
    webhooks,
)
from services.gateway.auth import RecentlyRefused
from services.gateway.credentials import ACCESS_EXCHANGE, AccessNews, CredentialCache
from services.gateway.handlers import GatewayHandlers
from services.gateway.notifier import Notifier
from services.gateway.presence import Presence
from services.gateway.rate_limit import RateLimiter
from shared.api_docs import documented_app
from shared.catalog.replica import CatalogReplica
from shared.contracts.catalog import CatalogChanged
from shared.http import install_common
from shared.limits import GuessLimit
from shared.logging import get_logger
from shared.messaging.broadcast import Broadcast
from shared.messaging.topology import GATEWAY_WORK
from shared.metrics import DEVICES_ONLINE
from shared.secret_box import load_box
from shared.service import Runtime, ServiceSpec
from shared.terminal_web import mount_terminal_app

NAME = "gateway"

log = get_logger("tsdx.gateway")


async def _on_start(rt: Runtime) -> None:
    settings = rt.settings
    notifier = Notifier()
    rt.state["notifier"] = notifier
    access = AccessNews(CredentialCache(settings.credential_cache_size), notifier)
    rt.state["credentials"] = access.cache
    rt.state["access"] = access
    broadcast = Broadcast(
        rt.broker,
        ACCESS_EXCHANGE,
        access.heard,
        access.missed_some,
        settings.publish_timeout_seconds,
    )
    await broadcast.start()
    access.attach(broadcast)
    rt.state["access_broadcast"] = broadcast
    rt.state["refused_hashes"] = RecentlyRefused()
    rt.state["pin_limit"] = GuessLimit(rt.store, "pin", settings.pin_misses_per_minute)
    rt.state["rate_limiter"] = RateLimiter(
        settings.rate_limit_per_second, settings.rate_limit_burst
    )
    presence = Presence()
    presence.seed(await rt.store.find(repository.DEVICES.name))
    rt.state["presence"] = presence
    DEVICES_ONLINE.set_function(lambda: presence.online(datetime.now(UTC)))
    box = load_box(settings.secret_keys, settings.data_dir)
    rt.state["secret_box"] = box
    resealed = await webhooks.reseal_secrets(rt.store, box)
    if resealed:
        log.info("webhook.secrets_resealed", count=resealed)
    sender = webhooks.WebhookSender(rt, notifier)
    sender.start()
    rt.state["webhook_sender"] = sender
    replica = CatalogReplica(rt.uow, rt.rpc, settings.catalog_check_seconds)
    replica.start()
    rt.state["catalog"] = replica


async def _on_stop(rt: Runtime) -> None:
    sender: webhooks.WebhookSender = rt.state["webhook_sender"]
    await sender.stop()
    broadcast: Broadcast = rt.state["access_broadcast"]
    await broadcast.stop()
    replica: CatalogReplica = rt.state["catalog"]
    await replica.stop()


def build_app(rt: Runtime) -> FastAPI:
    app = documented_app(
        title="tsdx gateway",
        version="1",
        description="Terminal API and accounting API of the tsdx exchange server.",
    )
    app.state.runtime = rt
    install_common(app, NAME, rt.readiness, max_body_bytes=rt.settings.max_body_bytes)
    # Routes are matched in order: the terminals' calls, by far the most frequent, come first.
    app.include_router(terminal.router)
    app.include_router(terminal_created.router)
    app.include_router(catalog.terminal_router)
    app.include_router(accounting.router)
    app.include_router(catalog.accounting_router)
    app.include_router(webhooks.router)
    app.include_router(barcode_settings.router)
    app.include_router(admin.router)
    app.include_router(admin_processes.router)
    app.include_router(journeys.router)
    mount_terminal_app(app, "internet")
    return app


SPEC = ServiceSpec(
    name=NAME,
    collections=repository.COLLECTIONS,
    port=lambda s: s.gateway_port,
    build_app=build_app,
    handlers=lambda rt: {
        GATEWAY_WORK: {
            **GatewayHandlers(rt.uow, rt.state["notifier"], rt.state["access"]).table(),
            CatalogChanged: rt.state["catalog"].changed,
        }
    },
    on_start=_on_start,
    on_stop=_on_stop,
)
