"""How the registry runs: its collections, RPC methods, event handlers and HTTP app."""

from __future__ import annotations

from fastapi import FastAPI

from services.registry import repository
from services.registry.directory import Directory
from services.registry.rpc import methods
from shared.contracts.uploads import UploadDecided
from shared.http import install_common
from shared.messaging.topology import REGISTRY_EVENTS, REGISTRY_RPC
from shared.service import Runtime, ServiceSpec

NAME = "registry"


def _directory(rt: Runtime) -> Directory:
    if "directory" not in rt.state:
        rt.state["directory"] = Directory(rt.store, rt.uow, rt.settings)
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
    handlers=lambda rt: {REGISTRY_EVENTS: {UploadDecided: _directory(rt).remember_devices}},
    rpc_methods=lambda rt: {REGISTRY_RPC: methods(_directory(rt))},
)
