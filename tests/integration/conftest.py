"""Fixtures for tests of shared messaging and storage on a real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared.messaging.broker import Broker
from shared.settings import Settings
from tests.support.broker import amqp_url, create_vhost, delete_vhost, require_broker


@pytest.fixture
def vhost() -> Iterator[str]:
    require_broker()
    name = create_vhost("tsdx-msg")
    yield name
    delete_vhost(name)


@pytest.fixture
def settings(vhost: str, tmp_path: Path) -> Settings:
    return Settings(
        amqp_url=amqp_url(vhost),
        data_dir=tmp_path / "data",
        retry_delays_ms=[100, 200, 300],
        rpc_timeout_seconds=1.0,
    )


@pytest.fixture
async def broker(settings: Settings) -> AsyncIterator[Broker]:
    b = Broker(settings, "test")
    await b.connect()
    yield b
    await b.close()
