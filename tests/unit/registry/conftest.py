"""The registry's use cases on a real SQLite store of their own, with no broker: events go to
the outbox and stay there (no relay)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.registry import repository as repo
from services.registry.devices import Devices
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
def devices(store: Store, settings: Settings) -> Devices:
    return Devices(store, UnitOfWork(store, None), settings)


@pytest.fixture
def people(store: Store) -> People:
    return People(store, UnitOfWork(store, None))


@pytest.fixture
async def base(tenants: Tenants) -> dict[str, str]:
    """A base (tenant) with its API key and connection code."""
    created: dict[str, str] = await tenants.create("Склад на Ленина", "sklad")
    return created
