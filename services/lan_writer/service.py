"""How the LAN writer runs: its collections, handlers and the LAN terminal and operator API."""

from __future__ import annotations

from fastapi import FastAPI

from services.lan_writer import consumers, repository
from services.lan_writer.api import ROUTERS
from services.lan_writer.broker_news import BrokerNews
from services.lan_writer.copy_changes import CopyChanges
from services.lan_writer.operator_actions import OperatorActions
from services.lan_writer.parts import LanParts, lan_parts
from services.lan_writer.user_actions import UserActions
from shared.catalog.replica import CatalogReplica
from shared.contracts.catalog import PlainChanges
from shared.limits import GuessLimit
from shared.messaging.topology import LAN_WRITER_WORK
from shared.service import Runtime, ServiceSpec, service_app

NAME = "lan_writer"


async def _on_start(rt: Runtime) -> None:
    changes = CopyChanges(rt.uow)
    rt.parts = parts = LanParts(
        users=UserActions(changes, rt.store, rt.uow),
        operators=OperatorActions(changes, rt.store),
        news=BrokerNews(changes, rt.store, rt.uow),
        login_limit=GuessLimit(rt.store, "login", rt.settings.lan_login_misses_per_minute),
        catalog=CatalogReplica(rt.uow, rt.rpc, rt.settings.catalog_check_seconds),
    )
    parts.catalog.start()


async def _on_stop(rt: Runtime) -> None:
    await lan_parts(rt).catalog.stop()


def build_app(rt: Runtime) -> FastAPI:
    return service_app(
        rt,
        NAME,
        title="tsdx LAN writer",
        description="The LAN base: terminals on the local network log in as users and work "
        "on the documents assigned to them, their groups or everyone.",
        routers=ROUTERS,
        terminal_app="lan",
    )


# Declared as every service declares its ServiceSpec (shared/service.py): the five look alike
# field by field, what fills the fields is this service's own.
SPEC = ServiceSpec(
    name=NAME,
    collections=repository.COLLECTIONS,
    port=lambda s: s.lan_port,
    build_app=build_app,
    handlers=lambda rt: {
        LAN_WRITER_WORK: {
            **consumers.table(lan_parts(rt).news),
            PlainChanges: lan_parts(rt).catalog.changed,
        }
    },
    on_start=_on_start,
    on_stop=_on_stop,
)
