"""The gateway's repository and use cases on a real SQLite store of their own, no broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.gateway import repository as repo
from shared.storage import Store
from tests.support.stores import service_store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with service_store(tmp_path, "gateway", repo.COLLECTIONS) as s:
        yield s
