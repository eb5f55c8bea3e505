"""The skeleton pipeline: the least any HTTP-plus-broker exchange must do for one document.

A FastAPI app served as the services are served (uvicorn on uvloop with httptools, each
answer's head and body in one socket write: ``shared.http_server``; answers through orjson),
with the same endpoints the bench drives on the gateway:

- ``POST /api/v1/uploads`` publishes each document as one persistent message to a quorum queue
  and answers once the broker confirmed it (confirms pipelined: every request in flight has
  its publish in flight on the one channel);
- a consumer with the services' prefetch puts each document in a dict by device and wakes
  the device's waiting poll;
- ``GET /api/v1/terminal/inbox`` (the Bearer token is the device id) lists what the device
  holds, waiting up to ``wait`` seconds while it holds nothing;
- ``POST /api/v1/terminal/documents/{id}/ack`` removes the document.

No storage, no logging, no authentication, no decision: a tsdx figure divided by this one is
what tsdx's own work costs. Run as ``python -m tools.bench.skeleton_app HOST PORT AMQP_URL
PREFETCH``.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections import defaultdict
from contextlib import suppress
from typing import Any

import aio_pika
import orjson
import uvicorn
import uvloop
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from fastapi import FastAPI, Request
from fastapi.responses import Response

from shared.http_server import server_config

QUEUE = f"bench.skeleton.{uuid.uuid4().hex[:8]}"


def _json(content: object) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


class Skeleton:
    def __init__(self) -> None:
        self.inbox: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.waiters: dict[str, asyncio.Event] = {}
        self.channel: AbstractChannel | None = None

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        item = orjson.loads(message.body)
        device = item["device_id"]
        self.inbox[device][item["delivery_id"]] = item
        waiter = self.waiters.get(device)
        if waiter is not None:
            waiter.set()
        await message.ack()


skeleton = Skeleton()
app = FastAPI()


@app.post("/api/v1/uploads")
async def upload(request: Request) -> Response:
    body = orjson.loads(await request.body())
    device = body["target"]["value"]
    assert skeleton.channel is not None
    exchange = skeleton.channel.default_exchange
    deliveries = []
    publishes = []
    for document in body["documents"]:
        delivery_id = uuid.uuid4().hex
        item = {"delivery_id": delivery_id, "device_id": device, "document": document}
        deliveries.append({"delivery_id": delivery_id})
        publishes.append(
            exchange.publish(
                aio_pika.Message(
                    orjson.dumps(item), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
                ),
                routing_key=QUEUE,
                mandatory=True,
            )
        )
    await asyncio.gather(*publishes)
    return _json({"status": "accepted", "deliveries": deliveries})


@app.get("/api/v1/terminal/inbox")
async def inbox(request: Request) -> Response:
    device = request.headers["authorization"].removeprefix("Bearer ")
    wait = float(request.query_params.get("wait", "0"))
    held = skeleton.inbox[device]
    if not held and wait > 0:
        waiter = skeleton.waiters.setdefault(device, asyncio.Event())
        waiter.clear()
        with suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), wait)
    documents = [
        {"delivery_id": d["delivery_id"], "document_id": d["document"]["header"]["id"]}
        for d in held.values()
    ]
    return _json({"documents": documents, "withdrawn": []})


@app.post("/api/v1/terminal/documents/{delivery_id}/ack")
async def acknowledge(delivery_id: str, request: Request) -> Response:
    device = request.headers["authorization"].removeprefix("Bearer ")
    skeleton.inbox[device].pop(delivery_id, None)
    return _json({"delivery_id": delivery_id, "state": "downloaded"})


@app.get("/ping")
async def ping() -> Response:
    return Response(b"{}", media_type="application/json")


async def serve(host: str, port: int, amqp_url: str, prefetch: int) -> None:
    publisher = await aio_pika.connect(amqp_url)
    consumer = await aio_pika.connect(amqp_url)
    try:
        skeleton.channel = await publisher.channel(publisher_confirms=True, on_return_raises=True)
        consuming = await consumer.channel()
        await consuming.set_qos(prefetch_count=prefetch)
        queue = await consuming.declare_queue(
            QUEUE, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await queue.consume(skeleton.on_message)
        config = server_config(app, host=host, port=port)
        try:
            await uvicorn.Server(config).serve()
        finally:
            await queue.delete(if_unused=False, if_empty=False)
    finally:
        await consumer.close()
        await publisher.close()


def main() -> None:
    host, port, amqp_url, prefetch = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    uvloop.run(serve(host, port, amqp_url, prefetch))


if __name__ == "__main__":
    main()
