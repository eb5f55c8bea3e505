"""How the gateway runs: its collections, handlers and the HTTP app with both APIs."""

from __future__ import annotations

from fastapi import FastAPI

from services.gateway import accounting, admin, repository, terminal
from services.gateway.handlers import GatewayHandlers
from services.gateway.notifier import Notifier
from services.gateway.pin_limit import PinGuessLimiter
from shared.http import install_common
from shared.messaging.topology import GATEWAY_WORK
from shared.service import Runtime, ServiceSpec

NAME = "gateway"


async def _on_start(rt: Runtime) -> None:
    rt.state["notifier"] = Notifier()
    rt.state["pin_limiter"] = PinGuessLimiter(rt.settings.pin_misses_per_minute)


def build_app(rt: Runtime) -> FastAPI:
    app = FastAPI(
        title="tsdx gateway",
        version="1",
        description="Terminal API and accounting API of the tsdx exchange server.",
    )
    app.state.runtime = rt
    install_common(app, NAME, rt.readiness)
    app.include_router(accounting.router)
    app.include_router(terminal.router)
    app.include_router(admin.router)
    return app


SPEC = ServiceSpec(
    name=NAME,
    collections=repository.COLLECTIONS,
    port=lambda s: s.gateway_port,
    build_app=build_app,
    handlers=lambda rt: {GATEWAY_WORK: GatewayHandlers(rt.uow, rt.state["notifier"]).table()},
    on_start=_on_start,
)
