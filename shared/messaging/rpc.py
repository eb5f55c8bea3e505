"""Request/reply over RabbitMQ with a timeout.

Requests are envelopes of type ``rpc.request`` (method + params) sent to the server's queue
with ``reply_to`` and ``correlation_id``; the answer is ``{"ok": true, "result": ...}`` or
``{"ok": false, "code": ..., "params": ...}``. A refusal raised by the server's method comes back
to the caller as the same :class:`Refusal`.

Methods are declared once in the serving service's contracts (see ``shared.contracts.rpc``):
the server answers through :class:`RpcHandlers` registered against the declarations; callers
ask through the service's class as a typed client (``Registry(rpc, tenant).get_device(...)``),
which comes down to :meth:`RpcClient.call`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from shared.contracts import Envelope, MalformedMessage, decode, encode, wrap
from shared.contracts.rpc import Call, Params, RpcMethod, RpcRequest, RpcService
from shared.errors import Refusal
from shared.logging import correlation, get_logger
from shared.messaging.acks import settle
from shared.messaging.broker import Broker, BrokerUnavailable
from shared.messaging.subscription import QueueReader
from shared.messaging.topology import WorkQueue
from shared.metrics import RPC_CALLS

P = TypeVar("P", bound=Params)
R = TypeVar("R")

log = get_logger("tsdx.rpc")


class RpcTimeout(Exception):
    pass


# A handler answers with the declared result, or with the domain's plain form of it (its JSON
# as dicts and lists): either is read into the declared result before it leaves, so an answer
# that does not match its declaration fails here, on the server, not in the caller.
Plain = dict[str, Any] | list[dict[str, Any]] | list[str] | None
Handler = Callable[[Call[P]], Awaitable[R | Plain]]


class RpcHandlers:
    """A service's handlers, each registered against its method's declaration: the handler
    takes the typed parameters (read off the wire here, refused here when wrong) and its answer
    leaves as the declared result. Every declared method must have one (:meth:`complete`)."""

    def __init__(self, service: type[RpcService]) -> None:
        self.service = service
        self._handlers: dict[str, Callable[[dict[str, Any], str | None], Awaitable[Any]]] = {}

    @property
    def queue(self) -> WorkQueue:
        return self.service.queue

    def on(self, method: RpcMethod[P, R], handler: Handler[P, R]) -> RpcHandlers:
        if self.service.methods.get(method.name) is not method:
            raise ValueError(f"{method.name} is not a method of {self.queue.name}")
        if method.name in self._handlers:
            raise ValueError(f"{method.name} has a handler already")

        async def answer(params: dict[str, Any], tenant: str | None) -> Any:
            answer = await handler(Call(method.read_params(params), tenant))
            return method.result.dump_python(method.result.validate_python(answer), mode="json")

        self._handlers[method.name] = answer
        return self

    def complete(self) -> RpcHandlers:
        missing = [name for name in self.service.methods if name not in self._handlers]
        if missing:
            raise ValueError(f"{self.queue.name}: no handler for {', '.join(missing)}")
        return self

    def serves(self, name: str) -> bool:
        return name in self._handlers

    async def answer(self, name: str, params: dict[str, Any], tenant: str | None) -> Any:
        """The method's result, ready for JSON, or the :class:`Refusal` it raised."""
        return await self._handlers[name](params, tenant)


class RpcServer(QueueReader):
    def __init__(self, broker: Broker, handlers: RpcHandlers) -> None:
        super().__init__(broker, handlers.queue)
        self._handlers = handlers.complete()

    async def stop(self, timeout: float = 10.0) -> None:
        """Take no more requests and answer those in hand (waiting for their turn or being
        answered), within ``timeout``; the answered ones are acknowledged before it returns."""
        _, ended = await self._stop_taking(timeout)
        if not ended:
            log.warning("rpc.stop_timeout", queue=self._queue.name, in_hand=self._in_hand)

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        async with self._taken():
            reply = await self._answer(message.body)
            if message.reply_to:
                try:
                    await self._broker.publish_to_queue(
                        message.reply_to,
                        orjson.dumps(reply, default=str),
                        {},
                        correlation_id=message.correlation_id,
                        persistent=False,
                    )
                except BrokerUnavailable as exc:
                    # The caller is gone or the broker is; the caller's timeout covers it.
                    log.warning("rpc.reply_failed", error=str(exc))
            await settle(message)

    async def _answer(self, body: bytes) -> dict[str, Any]:
        try:
            envelope, payload = decode(body)
        except MalformedMessage as exc:
            return {"ok": False, "code": "bad_request", "params": {"reason": str(exc)}}
        if not isinstance(payload, RpcRequest):
            return {
                "ok": False,
                "code": "bad_request",
                "params": {"reason": f"not an rpc.request: {envelope.type}"},
            }
        with correlation(envelope.correlation_id):
            return await self._dispatch(envelope, payload)

    async def _dispatch(self, envelope: Envelope, request: RpcRequest) -> dict[str, Any]:
        if not self._handlers.serves(request.method):
            return {"ok": False, "code": "unknown_method", "params": {"method": request.method}}
        try:
            result = await self._handlers.answer(request.method, request.params, envelope.tenant)
        except Refusal as refusal:
            RPC_CALLS.labels(request.method, "refused").inc()
            return {
                "ok": False,
                "code": refusal.code,
                "params": refusal.params,
                "status": refusal.status,
            }
        except Exception as exc:
            log.exception("rpc.method_failed", method=request.method)
            RPC_CALLS.labels(request.method, "error").inc()
            return {
                "ok": False,
                "code": "internal_error",
                "params": {"error": repr(exc)[:200]},
                "status": 500,
            }
        RPC_CALLS.labels(request.method, "ok").inc()
        return {"ok": True, "result": result}


class RpcClient:
    def __init__(self, broker: Broker, service: str, timeout: float) -> None:
        self._broker = broker
        self._timeout = timeout
        self._reply_queue_name = f"rpc.reply.{service}.{uuid.uuid4().hex[:12]}"
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._queue: AbstractQueue | None = None
        self._channel: AbstractChannel | None = None

    async def start(self) -> None:
        # A channel of its own: the replies come without acknowledgement, and a delivery of
        # theirs on the consumers' channel would take a delivery tag there, breaking the runs
        # of tags its acknowledgements are grouped by (shared/messaging/acks.py). A robust
        # channel declares the queue and its consumer again after a reconnection.
        await self.stop()  # started again: the channel of the first start is not left open
        self._channel = await self._broker.connection.channel(publisher_confirms=False)
        self._queue = await self._channel.declare_queue(
            self._reply_queue_name, exclusive=True, auto_delete=True
        )
        await self._queue.consume(self._on_reply, no_ack=True)

    async def stop(self) -> None:
        """Close the replies' channel (its exclusive queue goes with it); calls still waiting
        end by their timeout."""
        channel, self._channel, self._queue = self._channel, None, None
        if channel is not None and not channel.is_closed:
            await channel.close()

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.pop(message.correlation_id or "", None)
        if future is not None and not future.done():
            try:
                future.set_result(orjson.loads(message.body))
            except orjson.JSONDecodeError as exc:
                future.set_exception(MalformedMessage(f"bad rpc reply: {exc}"))

    async def call(self, method: RpcMethod[P, R], params: P, tenant: str | None = None) -> R:
        """Ask ``method`` with its typed parameters; its typed result, or the server's
        :class:`Refusal` as it was raised there."""
        # Only the fields the caller set travel: a field left out keeps its meaning ("no
        # change") apart from one given as null ("remove").
        values = params.model_dump(mode="json", exclude_unset=True)
        result = await self.send(method.queue, method.name, values, tenant)
        return method.result.validate_python(result)

    async def send(
        self, queue: WorkQueue, method: str, params: dict[str, Any], tenant: str | None = None
    ) -> Any:
        """The request as it goes on the wire, untyped: for :meth:`call`, and for tests that
        send what no typed caller can."""
        if self._queue is None:
            raise BrokerUnavailable("rpc client not started")
        envelope = wrap(RpcRequest(method=method, params=params), tenant)
        call_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        try:
            await self._broker.publish_to_queue(
                queue.name,
                encode(envelope),
                {},
                message_id=envelope.id,
                correlation_id=call_id,
                reply_to=self._reply_queue_name,
                persistent=False,
            )
            reply = await asyncio.wait_for(future, self._timeout)
        except TimeoutError:
            RPC_CALLS.labels(method, "timeout").inc()
            raise RpcTimeout(f"{queue.name}.{method} did not answer in {self._timeout}s") from None
        finally:
            self._pending.pop(call_id, None)
        if not reply.get("ok"):
            raise Refusal(
                str(reply.get("code", "internal_error")),
                int(reply.get("status", 422)),
                **(reply.get("params") or {}),
            )
        return reply.get("result")
