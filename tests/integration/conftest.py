"""Fixtures for tests of shared messaging and storage on a real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared.messaging.broker import Broker
from shared.messaging.rpc import RpcClient
from shared.settings import Settings
from tests.support.broker import amqp_url, create_vhost, delete_vhost, require_broker
from tools.cli.stack import Stack


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


@pytest.fixture
async def rpc(stack: Stack) -> AsyncIterator[RpcClient]:
    """An RPC client on the stack's broker, asking as routing and the LAN writer do."""
    broker = Broker(Settings(amqp_url=stack.env["TSDX_AMQP_URL"]), "test")
    await broker.connect()
    client = RpcClient(broker, "test", timeout=15)
    await client.start()
    yield client
    await broker.close()
