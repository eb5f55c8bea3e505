"""The dashboard's queue depths from RabbitMQ's management API when it is given every node's:
a node that does not answer leaves the others to ask (a real broker's management API)."""

from __future__ import annotations

import pytest

from services.dashboard.broker_state import ManagementApi, ManagementUnavailable, vhost_of
from shared.messaging.broker import Broker
from shared.messaging.topology import ROUTING_WORK
from shared.settings import Settings
from tests.support.broker import AUTH, MANAGEMENT
from tests.support.stack import free_port

LIVE = MANAGEMENT.replace("//", f"//{AUTH[0]}:{AUTH[1]}@", 1)


def _dead() -> str:
    """A management API address nothing listens on (a node that is down)."""
    return f"http://{AUTH[0]}:s3cret@127.0.0.1:{free_port()}/api"


async def test_a_node_that_does_not_answer_leaves_the_next_to_ask(
    broker: Broker, settings: Settings
) -> None:
    management = ManagementApi((_dead(), LIVE), vhost_of(settings.amqp_url))
    try:
        depths = {d.name: d for d in await management.queue_depths()}
        # The topology the broker declared, as the live node tells it.
        assert depths[ROUTING_WORK.name].type == "quorum"
        assert (await management.queue_depths())[0].type == "quorum"  # and again
    finally:
        await management.close()


async def test_when_no_node_answers_each_is_named_without_its_password() -> None:
    first, second = _dead(), _dead()
    management = ManagementApi((first, second), "/")
    try:
        with pytest.raises(ManagementUnavailable) as unavailable:
            await management.queue_depths()
    finally:
        await management.close()
    said = str(unavailable.value)
    assert first.replace(":s3cret@", ":******@") in said
    assert second.replace(":s3cret@", ":******@") in said
    assert "s3cret" not in said
