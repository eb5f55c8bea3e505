"""How routing runs: its collections, the shipped processes, handlers, RPC and HTTP app."""

from __future__ import annotations

from fastapi import FastAPI

from services.routing import repository
from services.routing.catalogue import Catalogue
from services.routing.processes import default_processes
from services.routing.results import ResultKeeper
from services.routing.rpc import methods
from services.routing.uploads import UploadRouter
from shared.contracts.results import DeliveryProgressed, DocumentLoaded, ResultSubmitted
from shared.contracts.uploads import UploadRequested
from shared.http import install_common
from shared.logging import get_logger
from shared.messaging.consumer import Handler
from shared.messaging.topology import ROUTING_RPC, ROUTING_WORK, WorkQueue
from shared.service import Runtime, ServiceSpec

NAME = "routing"
log = get_logger("tsdx.routing")


def _catalogue(rt: Runtime) -> Catalogue:
    if "catalogue" not in rt.state:
        rt.state["catalogue"] = Catalogue(rt.store, default_processes())
    catalogue: Catalogue = rt.state["catalogue"]
    return catalogue


async def _on_start(rt: Runtime) -> None:
    written = await _catalogue(rt).install_shipped()
    log.info("processes.installed", shipped=written)


def _handlers(rt: Runtime) -> dict[WorkQueue, dict[type, Handler]]:
    uploads = UploadRouter(
        rt.store,
        rt.uow,
        rt.rpc,
        max_documents=rt.settings.max_documents_per_upload,
        max_lines=rt.settings.max_lines_per_document,
    )
    results = ResultKeeper(rt.uow)
    return {
        ROUTING_WORK: {
            UploadRequested: uploads.handle,
            ResultSubmitted: results.submitted,
            DeliveryProgressed: results.progressed,
            DocumentLoaded: results.loaded,
        }
    }


def build_app(rt: Runtime) -> FastAPI:
    app = FastAPI(title="tsdx routing", docs_url=None, redoc_url=None)
    install_common(app, NAME, rt.readiness)
    return app


SPEC = ServiceSpec(
    name=NAME,
    collections=repository.COLLECTIONS,
    port=lambda s: s.routing_port,
    build_app=build_app,
    handlers=_handlers,
    rpc_methods=lambda rt: {ROUTING_RPC: methods(_catalogue(rt), rt.store)},
    on_start=_on_start,
)
