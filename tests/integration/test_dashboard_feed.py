"""The dashboard's live feed (services/dashboard/consumers.py) on a real RabbitMQ: events reach
its view, one it cannot read is skipped, and it keeps reading after its connection is lost
and after its queue is deleted under it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aio_pika
import pytest
from pamqp.commands import Basic

from services.dashboard.activity import Activity
from services.dashboard.consumers import FeedListener
from shared.contracts.directory import DeviceView
from shared.contracts.documents import Target
from shared.contracts.results import DeliveryProgressed
from shared.contracts.uploads import UploadDecided
from shared.messaging.broker import Broker, BrokerUnavailable
from shared.messaging.topology import EVENTS_EXCHANGE
from tests.support.broker import close_connections
from tests.support.waiting import eventually


def _decided() -> UploadDecided:
    return UploadDecided(
        request_id=uuid.uuid4().hex,
        process="order",
        channel="internet",
        target=Target(kind="device", value="d1"),
        outcome="accepted",
        requested_at=datetime.now(UTC),
    )


@pytest.fixture
async def feed(broker: Broker) -> AsyncIterator[tuple[FeedListener, Activity]]:
    activity = Activity()
    listener = FeedListener(broker, activity, "dashboard")
    await listener.start()
    yield listener, activity
    await listener.stop()


async def _publish_until_counted(broker: Broker, activity: Activity, what: str) -> None:
    """Decisions published until the view counted one more: one published before the feed is
    subscribed again is lost (a live view), so each probe publishes another."""
    before = activity.counters["accepted"]

    async def published_and_counted() -> bool:
        counted = activity.counters["accepted"] > before
        with contextlib.suppress(BrokerUnavailable):  # reconnecting still
            await broker.publish(_decided(), "sklad")
        return counted

    await eventually(published_and_counted, what=what)


async def test_events_reach_the_view_and_one_not_understood_is_skipped(
    broker: Broker, feed: tuple[FeedListener, Activity]
) -> None:
    listener, activity = feed
    assert listener.alive
    activity.seed_devices([_device("d1")])
    events = await broker.consume_channel.get_exchange(EVENTS_EXCHANGE)
    await events.publish(aio_pika.Message(b"not json"), routing_key="upload.decided")
    await broker.publish(_decided(), "sklad")
    download = DeliveryProgressed(delivery_id="c1", channel="internet", state="downloaded", by="d1")
    sighted = await broker.publish(download, "sklad")

    def last_seen() -> str | None:
        [device] = activity.devices(datetime.now(UTC))
        seen: str | None = device["last_seen"]
        return seen

    await eventually(
        lambda: asyncio.sleep(0, last_seen()), what="the terminal's download as a sighting"
    )
    assert datetime.fromisoformat(last_seen() or "") == sighted.time
    assert activity.counters["accepted"] == 1  # the unreadable message before it skipped
    [entry] = activity.feed("en")
    assert entry["outcome"] == "accepted"


def _device(device_id: str) -> DeviceView:
    return DeviceView(
        id=device_id,
        tenant="sklad",
        pin="5546",
        name="EDA50",
        model="EDA50",
        hardware_id="@HW",
        mode="online",
        status="active",
    )


async def test_the_feed_reads_on_after_its_connection_is_lost(
    broker: Broker, feed: tuple[FeedListener, Activity], vhost: str
) -> None:
    listener, activity = feed
    await _publish_until_counted(broker, activity, "a decision before")
    await eventually(lambda: close_connections(vhost), what="the connection closed")
    await _publish_until_counted(broker, activity, "a decision after the reconnection")
    assert listener.alive


async def test_the_feed_reads_on_after_its_queue_is_deleted(
    broker: Broker, feed: tuple[FeedListener, Activity]
) -> None:
    listener, activity = feed
    await _publish_until_counted(broker, activity, "a decision before")
    # Exclusive: only its own connection may delete it (an operator's tool on the broker could).
    await broker.consume_channel.queue_delete(listener.queue_name)
    await _publish_until_counted(broker, activity, "a decision after the queue came back")
    assert listener.alive


async def test_the_feed_reads_on_when_subscribing_after_a_reconnection_fails(
    broker: Broker, feed: tuple[FeedListener, Activity], vhost: str
) -> None:
    listener, activity = feed
    await _publish_until_counted(broker, activity, "a decision before")
    subscribe = listener._subscribe
    failed: list[str] = []

    async def failing_once() -> None:
        if not failed:
            failed.append("the channel went again while it subscribed")
            raise RuntimeError(failed[0])
        await subscribe()

    listener._subscribe = failing_once  # type: ignore[method-assign]
    await eventually(lambda: close_connections(vhost), what="the connection closed")
    await _publish_until_counted(broker, activity, "a decision after the failed subscribe")
    assert failed  # the reopening's subscribe failed, and another one followed
    assert listener.alive


async def test_one_resubscribe_at_a_time_and_stop_cancels_it(
    broker: Broker, feed: tuple[FeedListener, Activity]
) -> None:
    listener, _activity = feed
    subscribes: list[asyncio.Future[None]] = []

    async def subscribe_held_up() -> None:
        subscribes.append(asyncio.get_running_loop().create_future())
        await subscribes[-1]

    listener._subscribe = subscribe_held_up  # type: ignore[method-assign]
    listener._tag = "first"
    listener._cancelled(Basic.Cancel(consumer_tag="first"))
    await eventually(lambda: asyncio.sleep(0, subscribes), what="the resubscribe under way")
    first = listener._resubscribing
    listener._tag = "second"  # cancelled again before the first resubscribe is done
    listener._cancelled(Basic.Cancel(consumer_tag="second"))
    assert first is not None and listener._resubscribing is first  # left to the one under way
    await listener.stop()
    assert first.cancelled()
    assert len(subscribes) == 1
