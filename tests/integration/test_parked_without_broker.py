"""An operator's look at the parked messages while the broker cannot be reached: a clear
"broker unavailable" (the dashboard's 503), not an internal error; and working again once the
broker is back."""

from __future__ import annotations

import pytest

from services.dashboard.broker_state import ParkedMessages
from shared.messaging.broker import Broker, BrokerUnavailable
from shared.messaging.parking import list_parked, replay
from shared.messaging.topology import ROUTING_WORK
from tests.support.broker import access_revoked
from tests.support.waiting import eventually


async def test_parked_messages_say_the_broker_is_unavailable_until_it_is_back(
    broker: Broker, vhost: str
) -> None:
    parked = ParkedMessages(broker)
    assert await parked.list() == []
    async with access_revoked(vhost):
        await eventually(lambda: _connected(broker), until=lambda up: not up, what="cut off")
        with pytest.raises(BrokerUnavailable):
            await parked.list()
        with pytest.raises(BrokerUnavailable):
            await list_parked(broker, ROUTING_WORK)
        with pytest.raises(BrokerUnavailable):
            await replay(broker, ROUTING_WORK)
    await eventually(lambda: _connected(broker), until=lambda up: up, what="reconnected")
    assert await parked.list() == []


async def _connected(broker: Broker) -> bool:
    return broker.connected
