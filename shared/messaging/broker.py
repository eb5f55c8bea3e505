"""One robust AMQP connection per process, a confirming publisher and consumer channels.

The connection knows every node of a RabbitMQ cluster (``TSDX_AMQP_URLS``). aio-pika's robust
connection restores channels, the topology and consumers after a reconnection, but always to
the one address it was given; :class:`FailoverConnection` makes each connection attempt take
the next address in turn, so losing a node means reconnecting to another one.

What the reconnection does not cover is handled here and in the consumer:

- a publish waiting on a dead connection or on a quorum that lost its majority would wait for
  ever: every publish has a timeout, and a timeout or a nack (``DeliveryError``, answered while a
  new quorum leader is elected) is :class:`BrokerUnavailable`: "not sent, send again later";
- a message delivered on the lost connection can no longer be acknowledged on it: the broker
  delivers it again, and handlers are idempotent (see :mod:`shared.messaging.acks`);
- after a quorum queue's leader is lost, a channel that published to it may go on being
  refused (nacked) although the queue has a new leader (seen on RabbitMQ 3.10); a nack
  therefore also replaces the publishing channel, so the next attempt starts from a fresh one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aio_pika.exceptions import DeliveryError
from aio_pika.robust_connection import RobustConnection
from pamqp.commands import Basic
from yarl import URL

from shared.contracts import Envelope, Payload, encode, wrap
from shared.logging import get_logger
from shared.messaging import tracing
from shared.messaging.addresses import AddressRing
from shared.messaging.coalesced_writes import CoalescingTransportFactory
from shared.messaging.topology import declare_events_exchange, declare_topology
from shared.settings import Settings

log = get_logger("tsdx.messaging")


# Processes starting at once declare the same queues. RabbitMQ may then answer one of them
# that a queue another is creating at that moment is "down or inaccessible" (and close the
# channel); the same declaration a moment later succeeds.
TOPOLOGY_ATTEMPTS = 5


def declared_too_soon(exc: BaseException) -> bool:
    """The broker's answer to a declaration that met a queue still being created."""
    return isinstance(
        exc, aio_pika.exceptions.ChannelNotFoundEntity
    ) and "is down or inaccessible" in str(exc)


class BrokerUnavailable(Exception):
    """A publish was not confirmed by the broker, or the connection is down; nothing can be
    assumed delivered."""


class BrokerUnreachable(Exception):
    """No broker address answered within the time a service gives itself to start."""

    def __init__(self, addresses: tuple[str, ...], waited: float) -> None:
        self.addresses = [_shown(address) for address in addresses]
        self.waited = waited
        super().__init__(f"no broker answered at {', '.join(self.addresses)} within {waited:g} s")


# How long an operator's request waits for a channel of its own.
OWN_CHANNEL_SECONDS = 10.0
# What a channel's operations raise when the connection is gone under them.
_CONNECTION_LOST = (
    ConnectionError,
    aiormq.exceptions.AMQPConnectionError,
    aiormq.exceptions.ChannelInvalidStateError,
)


# The seam FailoverConnection wraps; without it (another aio-pika) failover would silently not
# happen, so the process refuses to start instead.
_ATTEMPT = "_RobustConnection__connect_transport"
if not callable(getattr(RobustConnection, _ATTEMPT, None)):
    raise ImportError(f"aio-pika's RobustConnection has no {_ATTEMPT}: failover cannot work")


class FailoverConnection(RobustConnection):
    """A robust connection over several broker addresses, tried in turn.

    aio-pika makes every (re)connection attempt in one private method; this class wraps that one
    method (its name-mangled name is the seam) to point the attempt at the next address first,
    and it paces attempts: quickly through the addresses not yet tried, then backing off.
    """

    def __init__(self, ring: AddressRing, **kwargs: Any) -> None:
        self.ring = ring
        # Never give up at the first refusal: the next address may answer.
        super().__init__(URL(ring.addresses[0]), fail_fast="false", **kwargs)
        # aio-pika hands its kwargs on to aiormq's connection at every (re)connection: each
        # socket then sends the frames of one loop turn in one write (coalesced_writes.py).
        self.sockets = CoalescingTransportFactory()
        self.kwargs["transport_factory"] = self.sockets

    @property
    def reconnect_interval(self) -> float:
        return self.ring.pause

    @reconnect_interval.setter
    def reconnect_interval(self, _: float) -> None:
        """aio-pika sets its fixed interval here; the ring's pause is used instead."""

    async def _RobustConnection__connect_transport(self) -> None:
        self.url = URL(self.ring.take())
        try:
            await super()._RobustConnection__connect_transport()  # type: ignore[misc]
        except BaseException as exc:
            self.ring.failed()
            # Why, as far as the client knows (refused, a wrong password, a vhost closed to it).
            reason = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("broker.connect_failed", address=_shown(self.ring.current), reason=reason)
            raise
        self.ring.connected()
        log.info("broker.connected", address=_shown(self.ring.current))


def _nacked(exc: BaseException) -> bool:
    """The broker refused the message (a negative confirm), as opposed to returning it."""
    return isinstance(exc, DeliveryError) and isinstance(exc.frame, Basic.Nack)


def _shown(address: str) -> str:
    """An address for the log: host, port and vhost, never the credentials."""
    return address.rsplit("@", 1)[-1]


async def connect_failover(
    addresses: tuple[str, ...], *, timeout: float, **kwargs: Any
) -> FailoverConnection:
    """Connect to the first address that answers, trying each in turn until ``timeout``."""
    connection = FailoverConnection(AddressRing(addresses), **kwargs)
    try:
        try:
            await asyncio.wait_for(connection.connect(), timeout)
        except TimeoutError:
            raise BrokerUnreachable(addresses, timeout) from None
        if not connection.sockets.opened:  # another aio-pika, not handing the factory on
            raise RuntimeError("aio-pika did not open the broker's socket with tsdx's factory")
    except BaseException:
        await connection.close()
        raise
    return connection


class Broker:
    def __init__(self, settings: Settings, service: str) -> None:
        self._settings = settings
        self._service = service
        self._connection: AbstractRobustConnection | None = None
        self._topology_channel: AbstractChannel | None = None
        self._publish_channel: AbstractChannel | None = None
        self._consume_channel: AbstractChannel | None = None
        self._events: AbstractExchange | None = None
        # Which publishing channel is current: a nack replaces it once, not once per message.
        self._publish_generation = 0
        self._renewing = asyncio.Lock()

    async def connect(self, *, timeout: float = 30.0) -> None:
        self._connection = await connect_failover(
            self._settings.amqp_addresses,
            timeout=timeout,
            client_properties={"connection_name": self._service},
        )
        # First, and kept open: after a reconnection, a robust channel declares again what it
        # declared, so the topology is there before the other channels are restored.
        self._topology_channel = await self._declared_topology(self._connection)
        await self._open_publish_channel()
        self._consume_channel = await self._connection.channel(publisher_confirms=False)
        await self._consume_channel.set_qos(prefetch_count=self._settings.prefetch)

    async def _open_publish_channel(self) -> None:
        # Confirms on every publish; a message no queue takes comes back as an error.
        channel = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
        self._events = await declare_events_exchange(channel)
        self._publish_channel = channel
        self._publish_generation += 1

    async def _renew_publish_channel(self, refused_on: int) -> None:
        """Replace the publishing channel a nack came back on (unless that is done already)."""
        async with self._renewing:
            if refused_on != self._publish_generation or self._connection is None:
                return
            old = self._publish_channel
            try:
                await self._open_publish_channel()
            except Exception as exc:  # the connection is down: its recovery reopens channels
                log.warning("broker.publish_channel_not_renewed", error=repr(exc))
                return
            log.warning("broker.publish_channel_renewed", reason="nack")
            if old is not None:
                with suppress(Exception):
                    await old.close()

    async def _declared_topology(self, connection: AbstractRobustConnection) -> AbstractChannel:
        """A channel on which the whole topology is declared, retried while the broker answers
        that a queue is still being created by another process."""
        attempt = 1
        while True:
            channel = await connection.channel()
            try:
                await declare_topology(
                    channel,
                    quorum=self._settings.quorum_queues,
                    replicas=self._settings.quorum_replicas,
                    retry_delays_ms=self._settings.retry_delays_ms,
                    delivery_limit=self._settings.delivery_limit,
                )
                return channel
            except aio_pika.exceptions.ChannelNotFoundEntity as exc:
                with suppress(Exception):  # closed already by the broker's refusal, maybe
                    await channel.close()
                if attempt == TOPOLOGY_ATTEMPTS or not declared_too_soon(exc):
                    raise
                log.warning("broker.topology_retried", attempt=attempt, reason=str(exc))
            await asyncio.sleep(0.2 * attempt)
            attempt += 1

    @property
    def connected(self) -> bool:
        return (
            self._connection is not None
            and not self._connection.is_closed
            and self._publish_channel is not None
            and not self._publish_channel.is_closed
            and self._consume_channel is not None
            and not self._consume_channel.is_closed
        )

    @property
    def connection(self) -> AbstractRobustConnection:
        if self._connection is None:
            raise BrokerUnavailable("not connected")
        return self._connection

    @property
    def consume_channel(self) -> AbstractChannel:
        if self._consume_channel is None:
            raise BrokerUnavailable("not connected")
        return self._consume_channel

    @asynccontextmanager
    async def own_channel(self) -> AsyncIterator[AbstractChannel]:
        """A channel of the caller's own for a few operations (an operator's look at the
        parked messages), closed after. While the connection is down, or if it goes meanwhile,
        :class:`BrokerUnavailable`: the operator's request then answers 503, not 500."""
        if not self.connected:
            raise BrokerUnavailable("no connection to the broker")
        try:
            # Bounded: a broker in a memory or disk alarm holds a new channel back.
            channel = await asyncio.wait_for(
                self.connection.channel(publisher_confirms=False), OWN_CHANNEL_SECONDS
            )
        except (TimeoutError, *_CONNECTION_LOST) as exc:
            raise BrokerUnavailable(f"no channel from the broker: {exc!r}") from exc
        except RuntimeError as exc:  # aio-pika's "Connection was not opened": lost just now
            if self.connected:
                raise
            raise BrokerUnavailable(f"no connection to the broker: {exc!r}") from exc
        try:
            yield channel
        except _CONNECTION_LOST as exc:
            raise BrokerUnavailable(f"the connection to the broker was lost: {exc!r}") from exc
        finally:
            with suppress(Exception):  # a channel of a lost connection is gone already
                await channel.close()

    async def publish(
        self, payload: Payload, tenant: str | None, correlation_id: str | None = None
    ) -> Envelope:
        envelope = wrap(payload, tenant, correlation_id)
        await self.publish_envelope(envelope, payload.routing_key())
        return envelope

    async def publish_envelope(
        self, envelope: Envelope, routing_key: str, trace: Mapping[str, Any] | None = None
    ) -> None:
        """Publish an event; ``trace`` is the trace context stored with it, if any (else the
        current one goes with it)."""
        if self._events is None:
            raise BrokerUnavailable("not connected")
        message = aio_pika.Message(
            encode(envelope),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=envelope.id,
            correlation_id=envelope.correlation_id,
            type=envelope.type,
            headers={"x-tenant": envelope.tenant or "", **tracing.headers_for(trace)},
        )
        await self._confirmed(self._events, message, routing_key)

    async def publish_stored(
        self,
        body: bytes,
        routing_key: str,
        *,
        message_id: str,
        correlation_id: str,
        message_type: str,
        tenant: str | None,
        trace: Mapping[str, Any] | None = None,
    ) -> None:
        """Publish an event as the outbox stored it: ``body`` is the envelope's JSON, written
        by the service itself, sent as it is; its properties come from the fields kept beside
        it, not from parsing it."""
        if self._events is None:
            raise BrokerUnavailable("not connected")
        message = aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message_id,
            correlation_id=correlation_id,
            type=message_type,
            headers={"x-tenant": tenant or "", **tracing.headers_for(trace)},
        )
        await self._confirmed(self._events, message, routing_key)

    async def publish_to_queue(
        self,
        queue: str,
        body: bytes,
        headers: dict[str, Any],
        *,
        message_id: str | None = None,
        correlation_id: str | None = None,
        reply_to: str | None = None,
        persistent: bool = True,
    ) -> None:
        """Publish through the default exchange straight to a named queue."""
        if self._publish_channel is None:
            raise BrokerUnavailable("not connected")
        message = aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=(
                aio_pika.DeliveryMode.PERSISTENT
                if persistent
                else aio_pika.DeliveryMode.NOT_PERSISTENT
            ),
            message_id=message_id,
            correlation_id=correlation_id,
            reply_to=reply_to,
            headers=headers,
        )
        await self._confirmed(self._publish_channel.default_exchange, message, queue)

    async def _confirmed(
        self, exchange: AbstractExchange, message: aio_pika.Message, routing_key: str
    ) -> None:
        generation = self._publish_generation  # the channel ``exchange`` belongs to
        try:
            await exchange.publish(
                message,
                routing_key=routing_key,
                mandatory=True,
                timeout=self._settings.publish_timeout_seconds,
            )
        except Exception as exc:  # a timeout, a nack, a closed channel: "not confirmed"
            if _nacked(exc):
                await self._renew_publish_channel(generation)
            raise BrokerUnavailable(f"publish to {routing_key!r} failed: {exc!r}") from exc

    async def consume(
        self,
        queue_name: str,
        callback: Callable[[AbstractIncomingMessage], Awaitable[None]],
        *,
        channel: AbstractChannel | None = None,
    ) -> tuple[AbstractQueue, str]:
        chan = channel or self.consume_channel
        # Passive: the topology declared it; a robust queue re-subscribes after a reconnect.
        queue = await chan.declare_queue(queue_name, passive=True)
        tag = await queue.consume(callback, no_ack=False)
        return queue, tag

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
