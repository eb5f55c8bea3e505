"""The registry's use cases on a real SQLite store of their own, with no broker: events go to
the outbox and stay there (no relay). The pure parts are tested without any store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.registry import repository as repo
from services.registry.device_life import DeviceLife
from services.registry.known_devices import KnownDevices
from services.registry.pairing import Pairing, PinIssuer
from services.registry.people import People
from services.registry.tenants import Tenants
from shared.outbox import UnitOfWork
from shared.settings import Settings
from shared.storage import Store
from tests.support.stores import service_store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with service_store(tmp_path, "registry", repo.COLLECTIONS) as s:
        yield s


@pytest.fixture
def tenants(store: Store) -> Tenants:
    return Tenants(store, UnitOfWork(store, None))


@pytest.fixture
def pin_issuer(settings: Settings) -> PinIssuer:
    return PinIssuer(settings)


@pytest.fixture
def pairing(store: Store, pin_issuer: PinIssuer) -> Pairing:
    return Pairing(store, UnitOfWork(store, None), pin_issuer)


@pytest.fixture
def device_life(store: Store, pin_issuer: PinIssuer) -> DeviceLife:
    return DeviceLife(store, UnitOfWork(store, None), pin_issuer)


@pytest.fixture
def known_devices(store: Store) -> KnownDevices:
    return KnownDevices(store, UnitOfWork(store, None))


@pytest.fixture
def people(store: Store) -> People:
    return People(store, UnitOfWork(store, None))


@pytest.fixture
async def base(tenants: Tenants) -> dict[str, str]:
    """A base (tenant) with its API key and connection code."""
    created: dict[str, str] = await tenants.create("Склад на Ленина", "sklad")
    return created


@pytest.fixture
async def other_base(tenants: Tenants) -> dict[str, str]:
    """A second base, for what must stay within one."""
    created: dict[str, str] = await tenants.create("Склад на Мира", "mira")
    return created
