"""How routing runs: its collections, the shipped processes, handlers, RPC and HTTP app."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from fastapi import FastAPI

from services.routing import directory_client, repository
from services.routing.api import ROUTERS
from services.routing.catalogue import Catalogue
from services.routing.consumers import message_handlers, rpc_handlers
from services.routing.directory_replica import DirectoryReplica
from services.routing.processes import default_processes
from services.routing.results import ResultKeeper
from services.routing.upload_decisions import UploadDecider
from shared.logging import get_logger
from shared.messaging.consumer import Handler
from shared.messaging.topology import ROUTING_WORK, WorkQueue
from shared.service import Runtime, ServiceSpec, internal_app, parts_of

NAME = "routing"
log = get_logger("tsdx.routing")


@dataclass(frozen=True)
class Parts:
    catalogue: Catalogue
    replica: DirectoryReplica


def _parts(rt: Runtime) -> Parts:
    if rt.parts is None:
        rt.parts = Parts(
            Catalogue(rt.store, default_processes()), DirectoryReplica(rt.store, rt.uow, rt.rpc)
        )
    return parts_of(rt, Parts)


def _catalogue(rt: Runtime) -> Catalogue:
    return _parts(rt).catalogue


async def _on_start(rt: Runtime) -> None:
    written = await _catalogue(rt).install_shipped()
    log.info("processes.installed", shipped=written)
    parts = _parts(rt)
    if await repository.snapshot_applied_at(rt.store) is None:
        # An empty replica fills before the first upload is taken (the registry may be starting).
        await parts.replica.keep_catching_up()
    else:
        # Events missed while down wait in routing's queue; the snapshot covers the rest.
        parts.replica.fell_behind()


async def _on_stop(rt: Runtime) -> None:
    await _parts(rt).replica.stop()


def _handlers(rt: Runtime) -> dict[WorkQueue, dict[type, Handler]]:
    uploads = UploadDecider(
        rt.store,
        rt.uow,
        partial(directory_client.fetch, rt.store, rt.rpc),
        max_documents=rt.settings.max_documents_per_upload,
        max_lines=rt.settings.max_lines_per_document,
    )
    return {ROUTING_WORK: message_handlers(uploads, ResultKeeper(rt.uow), _parts(rt).replica)}


def build_app(rt: Runtime) -> FastAPI:
    return internal_app(rt, NAME, ROUTERS)


# Declared as every service declares its ServiceSpec (shared/service.py): the five look alike
# field by field, what fills the fields is this service's own.
SPEC = ServiceSpec(
    name=NAME,
    collections=repository.COLLECTIONS,
    port=lambda s: s.routing_port,
    build_app=build_app,
    handlers=_handlers,
    rpc_methods=lambda rt: [rpc_handlers(_catalogue(rt), rt.store)],
    on_start=_on_start,
    on_stop=_on_stop,
)
