"""How the registry runs: its collections, RPC methods, event handlers and HTTP app."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from services.registry import repository
from services.registry.api import ROUTERS
from services.registry.catalog import Catalogs
from services.registry.consumers import rpc_handlers
from services.registry.device_life import DeviceLife
from services.registry.known_devices import KnownDevices, RoutedDecision
from services.registry.pairing import Pairing, PinIssuer
from services.registry.people import People
from services.registry.tenants import Tenants
from shared.contracts.uploads import DocumentRoutedV1, UploadDecided
from shared.messaging.topology import REGISTRY_EVENTS
from shared.service import Runtime, ServiceSpec, internal_app, parts_of

NAME = "registry"


@dataclass(frozen=True)
class Directory:
    tenants: Tenants
    pairing: Pairing
    device_life: DeviceLife
    known_devices: KnownDevices
    people: People
    catalogs: Catalogs


def _directory(rt: Runtime) -> Directory:
    if rt.parts is None:
        pin_issuer = PinIssuer(rt.settings)
        rt.parts = Directory(
            Tenants(rt.store, rt.uow),
            Pairing(rt.store, rt.uow, pin_issuer),
            DeviceLife(rt.store, rt.uow, pin_issuer),
            KnownDevices(rt.store, rt.uow),
            People(rt.store, rt.uow),
            Catalogs(rt.uow, rt.settings.catalog_max_items_per_call),
        )
    return parts_of(rt, Directory)


def build_app(rt: Runtime) -> FastAPI:
    return internal_app(rt, NAME, ROUTERS)


# Declared as every service declares its ServiceSpec (shared/service.py): the five look alike
# field by field, what fills the fields is this service's own.
SPEC = ServiceSpec(
    name=NAME,
    collections=repository.COLLECTIONS,
    port=lambda s: s.registry_port,
    build_app=build_app,
    handlers=lambda rt: {
        REGISTRY_EVENTS: {
            UploadDecided: _directory(rt).known_devices.remember,
            RoutedDecision: _directory(rt).known_devices.remember_routed,
            DocumentRoutedV1: _directory(rt).known_devices.routed_v1,
        }
    },
    rpc_methods=lambda rt: [
        rpc_handlers(
            rt.store,
            _directory(rt).tenants,
            _directory(rt).pairing,
            _directory(rt).device_life,
            _directory(rt).known_devices,
            _directory(rt).people,
            _directory(rt).catalogs,
        )
    ],
)
