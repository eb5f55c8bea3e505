"""Request/reply over RabbitMQ with a timeout.

Requests are envelopes of type ``rpc.request`` (method + params) sent to the server's queue
with ``reply_to`` and ``correlation_id``; the answer is ``{"ok": true, "result": ...}`` or
``{"ok": false, "code": ..., "params": ...}``. A refusal raised by the server's method comes back
to the caller as the same :class:`Refusal`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.contracts import Envelope, MalformedMessage, decode, encode, wrap
from shared.contracts.rpc import RpcRequest
from shared.errors import Refusal, describe
from shared.logging import correlation, get_logger
from shared.messaging.broker import Broker, BrokerUnavailable, settle
from shared.messaging.topology import WorkQueue
from shared.metrics import RPC_CALLS

log = get_logger("tsdx.rpc")


class RpcTimeout(Exception):
    pass


class Params(BaseModel):
    """Base of an RPC method's parameters: unknown names refused, text trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


P = TypeVar("P", bound=Params)


def parse_params(model: type[P], params: dict[str, Any]) -> P:
    """Validate a method's parameters, or refuse the call saying which and why."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise Refusal("validation_error", 422, details=describe(exc, root="params")) from None


Method = Callable[[Envelope, dict[str, Any]], Awaitable[Any]]


class RpcServer:
    def __init__(self, broker: Broker, queue: WorkQueue, methods: dict[str, Method]) -> None:
        self._broker = broker
        self._queue = queue
        self._methods = methods
        self._amqp_queue: AbstractQueue | None = None
        self._tag: str | None = None

    @property
    def queue_name(self) -> str:
        return self._queue.name

    @property
    def alive(self) -> bool:
        return self._tag is not None and self._broker.connected

    async def start(self) -> None:
        self._amqp_queue, self._tag = await self._broker.consume(self._queue.name, self._on_request)

    async def stop(self) -> None:
        if self._amqp_queue is not None and self._tag is not None:
            try:
                await self._amqp_queue.cancel(self._tag)
            except Exception as exc:
                log.warning("rpc.cancel_failed", error=repr(exc))
            self._tag = None

    async def _on_request(self, message: AbstractIncomingMessage) -> None:
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
        method = self._methods.get(request.method)
        if method is None:
            return {"ok": False, "code": "unknown_method", "params": {"method": request.method}}
        try:
            result = await method(envelope, request.params)
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

    async def start(self) -> None:
        channel = self._broker.consume_channel
        self._queue = await channel.declare_queue(
            self._reply_queue_name, exclusive=True, auto_delete=True
        )
        await self._queue.consume(self._on_reply, no_ack=True)

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.pop(message.correlation_id or "", None)
        if future is not None and not future.done():
            try:
                future.set_result(orjson.loads(message.body))
            except orjson.JSONDecodeError as exc:
                future.set_exception(MalformedMessage(f"bad rpc reply: {exc}"))

    async def call(
        self, queue: WorkQueue, method: str, params: dict[str, Any], tenant: str | None = None
    ) -> Any:
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
