"""A publish the broker refuses (a nack, as a quorum queue answers while it elects a new
leader) is "not sent": the publisher says so, and the outbox keeps the event to send again."""

from __future__ import annotations

import aio_pika
import pytest

from shared.contracts.results import DocumentLoaded
from shared.messaging.broker import Broker, BrokerUnavailable
from shared.messaging.topology import EVENTS_EXCHANGE
from shared.outbox import COLLECTIONS, UnitOfWork
from shared.outbox_relay import OutboxRelay
from shared.settings import Settings
from shared.storage import open_store


async def _refuse_document_loaded(settings: Settings) -> aio_pika.abc.AbstractConnection:
    """A queue that refuses every message, bound to ``document.loaded``: the broker nacks
    every publish of that type (a message is confirmed only if every queue took it)."""
    connection = await aio_pika.connect(settings.amqp_url)
    channel = await connection.channel()
    events = await channel.get_exchange(EVENTS_EXCHANGE)
    refusing = await channel.declare_queue(
        "test.refusing",
        arguments={"x-max-length": 0, "x-overflow": "reject-publish"},
        exclusive=True,  # gone with the connection that declared it
    )
    await refusing.bind(events, routing_key="document.loaded")
    return connection


async def test_a_nacked_publish_is_not_sent(broker: Broker, settings: Settings) -> None:
    refusing = await _refuse_document_loaded(settings)
    try:
        with pytest.raises(BrokerUnavailable, match=r"document\.loaded"):
            await broker.publish(DocumentLoaded(document_id="nacked"), "t")
    finally:
        await refusing.close()


async def test_the_outbox_keeps_an_event_the_broker_did_not_confirm(
    broker: Broker, settings: Settings
) -> None:
    store = await open_store(settings, "outbox-nack", COLLECTIONS)
    uow = UnitOfWork(store, relay=None)
    async with uow() as tx:
        await tx.emit(DocumentLoaded(document_id="kept"), "t")
    relay = OutboxRelay(store, broker)
    refusing = await _refuse_document_loaded(settings)
    try:
        with pytest.raises(BrokerUnavailable):
            await relay.relay_once()
        assert await store.count("outbox") == 1  # not done: sent again later
    finally:
        await refusing.close()
    # The refusing queue gone, the same row goes out and leaves the outbox.
    assert await relay.relay_once() == 1
    assert await store.count("outbox") == 0
    await store.close()
