"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.broker import finish_deletions
from tests.support.stack import ADMIN_TOKEN, running_stack
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient


@pytest.fixture(autouse=True, scope="session")
def _vhosts_deleted() -> Iterator[None]:
    """Tests hand their RabbitMQ vhosts to a background deleter, and the next vhost is made
    ahead: the run ends once every one is deleted (set up first, so torn down after every
    other session fixture)."""
    yield
    finish_deletions()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One stack for the tests that only need it running (each test makes its own tenant)."""
    with running_stack(tmp_path_factory.mktemp("stack")) as s:
        yield s


@pytest.fixture
def fresh_stack(tmp_path: Path) -> Iterator[Stack]:
    """A stack of the test's own, for tests that kill or restart parts of it."""
    with running_stack(tmp_path) as s:
        yield s


@pytest.fixture
async def admin(stack: Stack) -> AsyncIterator[AdminClient]:
    async with AdminClient(stack.url("gateway"), ADMIN_TOKEN) as client:
        yield client


@pytest.fixture
async def tenant(admin: AdminClient) -> dict[str, str]:
    """A new accounting base: its id, API key and connection code."""
    import uuid

    return await admin.create_tenant(f"Склад {uuid.uuid4().hex[:6]}")


@pytest.fixture
async def accounting(stack: Stack, tenant: dict[str, str]) -> AsyncIterator[AccountingClient]:
    async with AccountingClient(stack.url("gateway"), tenant["api_key"]) as client:
        yield client


@pytest.fixture(autouse=True, scope="session")
def _patient_browser_assertions() -> None:
    """A loaded machine renders slower than a quiet one: every browser assertion may wait up to
    20 s (Playwright's default is 5 s). It still passes the moment its condition holds."""
    try:
        from playwright.async_api import expect
    except ImportError:  # the browser tests skip themselves then
        return
    expect.set_options(timeout=20_000)
