"""Several broker addresses on a real RabbitMQ: the first that answers is used, a list where
none answers is an error in time, and a cluster declares its queues replicated everywhere."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from shared.messaging.broker import Broker, BrokerUnreachable
from shared.messaging.topology import WORK_QUEUES
from shared.settings import Settings
from tests.support.broker import AUTH, MANAGEMENT, amqp_url


def _closed_port() -> str:
    """An address where nothing listens (a node that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"amqp://guest:guest@127.0.0.1:{port}/"


async def test_a_service_connects_to_the_first_address_that_answers(
    vhost: str, tmp_path: Path
) -> None:
    settings = Settings(
        amqp_urls=f"{_closed_port()},{_closed_port()},{amqp_url(vhost)}",
        data_dir=tmp_path,
        quorum_group_size=0,  # one real node behind the list: let the broker size the queues
    )
    broker = Broker(settings, "test")
    await broker.connect(timeout=20)
    try:
        assert broker.connected
        # Declared on the node that answered.
        async with httpx.AsyncClient(auth=AUTH, timeout=10) as http:
            queues = (await http.get(f"{MANAGEMENT}/queues/{vhost}")).json()
        assert {q["name"] for q in queues} >= {q.name for q in WORK_QUEUES}
    finally:
        await broker.close()


async def test_no_address_answering_is_an_error_in_time(tmp_path: Path) -> None:
    settings = Settings(amqp_urls=f"{_closed_port()},{_closed_port()}", data_dir=tmp_path)
    broker = Broker(settings, "test")
    with pytest.raises(BrokerUnreachable) as unreachable:
        await broker.connect(timeout=1.5)
    assert not broker.connected
    # Named without credentials, with the time waited: what the service logs before it exits.
    assert unreachable.value.waited == 1.5
    assert len(unreachable.value.addresses) == 2
    assert all("guest" not in address for address in unreachable.value.addresses)
