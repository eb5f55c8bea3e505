"""How the registry runs: its collections, RPC methods, event handlers and HTTP app."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from services.registry import repository
from services.registry.catalog import Catalogs
from services.registry.devices import Devices
from services.registry.people import People
from services.registry.rpc import methods
from services.registry.tenants import Tenants
from shared.contracts.uploads import UploadDecided
from shared.http import install_common
from shared.messaging.topology import REGISTRY_EVENTS, REGISTRY_RPC
from shared.service import Runtime, ServiceSpec

NAME = "registry"


@dataclass(frozen=True)
class Directory:
    tenants: Tenants
    devices: Devices
    people: People
    catalogs: Catalogs


def _directory(rt: Runtime) -> Directory:
    if "directory" not in rt.state:
        rt.state["directory"] = Directory(
            Tenants(rt.store, rt.uow),
            Devices(rt.store, rt.uow, rt.settings),
            People(rt.store, rt.uow),
            Catalogs(rt.uow, rt.settings.catalog_max_items_per_call),
        )
    directory: Directory = rt.state["directory"]
    return directory


def build_app(rt: Runtime) -> FastAPI:
    app = FastAPI(title="tsdx registry", docs_url=None, redoc_url=None)
    install_common(app, NAME, rt.readiness)
    return app


SPEC = ServiceSpec(
    name=NAME,
    collections=repository.COLLECTIONS,
    port=lambda s: s.registry_port,
    build_app=build_app,
    handlers=lambda rt: {REGISTRY_EVENTS: {UploadDecided: _directory(rt).devices.remember}},
    rpc_methods=lambda rt: {
        REGISTRY_RPC: methods(
            _directory(rt).tenants,
            _directory(rt).devices,
            _directory(rt).people,
            _directory(rt).catalogs,
        )
    },
)
