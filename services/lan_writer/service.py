"""How the LAN writer runs: its collections, handlers and the LAN terminal and operator API."""

from __future__ import annotations

from fastapi import FastAPI

from services.lan_writer import admin, catalog, created, repository, terminal
from services.lan_writer.base import LanBase
from services.lan_writer.handlers import LanHandlers
from shared.api_docs import documented_app
from shared.catalog.replica import CatalogReplica
from shared.contracts.catalog import CatalogChanged
from shared.http import install_common
from shared.limits import GuessLimit
from shared.messaging.topology import LAN_WRITER_WORK
from shared.service import Runtime, ServiceSpec
from shared.terminal_web import mount_terminal_app

NAME = "lan_writer"


async def _on_start(rt: Runtime) -> None:
    rt.state["base"] = LanBase(rt.store, rt.uow)
    rt.state["login_limit"] = GuessLimit(rt.store, "login", rt.settings.lan_login_misses_per_minute)
    replica = CatalogReplica(rt.uow, rt.rpc, rt.settings.catalog_check_seconds)
    replica.start()
    rt.state["catalog"] = replica


async def _on_stop(rt: Runtime) -> None:
    replica: CatalogReplica = rt.state["catalog"]
    await replica.stop()


def build_app(rt: Runtime) -> FastAPI:
    app = documented_app(
        title="tsdx LAN writer",
        version="1",
        description="The LAN base: terminals on the local network log in as users and work "
        "on the documents assigned to them, their groups or everyone.",
    )
    app.state.runtime = rt
    install_common(app, NAME, rt.readiness, max_body_bytes=rt.settings.max_body_bytes)
    app.include_router(terminal.router)
    app.include_router(created.router)
    app.include_router(catalog.router)
    app.include_router(admin.router)
    mount_terminal_app(app, "lan")
    return app


SPEC = ServiceSpec(
    name=NAME,
    collections=repository.COLLECTIONS,
    port=lambda s: s.lan_port,
    build_app=build_app,
    handlers=lambda rt: {
        LAN_WRITER_WORK: {
            **LanHandlers(rt.uow, rt.state["base"]).table(),
            CatalogChanged: rt.state["catalog"].changed,
        }
    },
    on_start=_on_start,
    on_stop=_on_stop,
)
