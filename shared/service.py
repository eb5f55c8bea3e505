"""The life of one service process: store, broker, consumers, outbox relay, HTTP, shutdown.

A service describes itself with a :class:`ServiceSpec`; :func:`run_service` does the rest the
same way for all of them. Shutdown (SIGINT/SIGTERM) tells the service's ``on_exit`` (the
gateway answers its waiting long polls), stops taking messages, lets the ones in hand finish,
flushes the outbox, then closes the broker and the store.
"""

from __future__ import annotations

import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, TypeVar

import uvicorn
import uvloop
from fastapi import APIRouter, Depends, FastAPI, Request

from shared import telemetry
from shared.api_docs import documented_app
from shared.collector import long_lived_frozen
from shared.http import install_common
from shared.http_server import server_config
from shared.logging import configure_logging, flush_logs, get_logger
from shared.messaging.broadcast import Broadcast
from shared.messaging.broker import Broker, BrokerUnreachable
from shared.messaging.consumer import Consumer, Handler
from shared.messaging.rpc import RpcClient, RpcHandlers, RpcServer
from shared.messaging.topology import WorkQueue
from shared.metrics import counted_while_alive
from shared.outbox import COLLECTIONS as OUTBOX_COLLECTIONS
from shared.outbox import UnitOfWork
from shared.outbox_relay import OutboxRelay
from shared.ports import PortUnavailable, listening_socket
from shared.request_summary import SUMMARIES
from shared.settings import Settings
from shared.storage import Collection, Migration, Store, StoreTooNew, open_store
from shared.terminal_web import AppMode, mount_terminal_app
from shared.version import VERSION

log = get_logger("tsdx.service")


@dataclass
class Runtime:
    """What a running service hands to its handlers and endpoints."""

    name: str
    settings: Settings
    store: Store
    broker: Broker
    uow: UnitOfWork
    rpc: RpcClient
    consumers: list[Consumer] = field(default_factory=list)
    rpc_servers: list[RpcServer] = field(default_factory=list)
    # Fanouts an instance must hear and speak on to serve at all (the gateway's access news).
    broadcasts: list[Broadcast] = field(default_factory=list)
    relay: OutboxRelay | None = None
    # The service's own parts (its typed dataclass, built by its service.py): read with
    # parts_of(rt, TheParts), never by a string key.
    parts: object = None

    async def readiness(self) -> dict[str, bool]:
        return {
            "broker": self.broker.connected,
            "store": await self.store.ping(),
            "consumers": all(c.alive for c in self.consumers)
            and all(s.alive for s in self.rpc_servers)
            and all(b.alive for b in self.broadcasts),
        }


async def current_runtime(request: Request) -> Runtime:
    """The runtime of the service serving the request: the FastAPI dependency, also awaited
    directly by the inbox poll, which declares none. Async on purpose: FastAPI runs a plain
    function dependency in a worker thread, on every request."""
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(current_runtime)]


def service_app(
    rt: Runtime,
    name: str,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    ready: Callable[[], Awaitable[dict[str, bool]]] | None = None,
    limit_body: bool = True,
    terminal_app: AppMode | None = None,
) -> FastAPI:
    """A service's HTTP app showing its API pages: the runtime its endpoints depend on
    (``RuntimeDep``), what every service's app has (``install_common``), then its routers and,
    for a service terminals work with, the terminal app in its mode."""
    app = documented_app(title=title, version="1", description=description)
    app.state.runtime = rt
    limit = rt.settings.max_body_bytes if limit_body else None
    install_common(app, name, ready or rt.readiness, max_body_bytes=limit, routers=routers)
    if terminal_app is not None:
        mount_terminal_app(app, terminal_app)
    return app


def internal_app(rt: Runtime, name: str, routers: Sequence[APIRouter]) -> FastAPI:
    """The HTTP app of a service only other services call (over RabbitMQ): what every
    service's app has (health, readiness, metrics) and its routers, with no API pages."""
    app = FastAPI(title=f"tsdx {name}", docs_url=None, redoc_url=None)
    install_common(app, name, rt.readiness, routers=routers)
    return app


P = TypeVar("P")


def parts_of(rt: Runtime, kind: type[P]) -> P:
    """The service's own parts, typed: a plain attribute read, cheap enough for the hot path."""
    parts = rt.parts
    if not isinstance(parts, kind):
        raise RuntimeError(f"{rt.name} has no {kind.__name__} yet (not started)")
    return parts


@dataclass
class ServiceSpec:
    name: str
    collections: Sequence[Collection]
    port: Callable[[Settings], int]
    # Build the HTTP app and the message handlers once the runtime is up.
    build_app: Callable[[Runtime], FastAPI]
    handlers: Callable[[Runtime], dict[WorkQueue, dict[type, Handler]]] = lambda rt: {}
    rpc_methods: Callable[[Runtime], Sequence[RpcHandlers]] = lambda rt: ()
    on_start: Callable[[Runtime], Awaitable[None]] | None = None
    # What a service lets go of the moment it is asked to stop, before its HTTP server waits
    # for the requests in flight (the gateway answers its waiting long polls at once).
    on_exit: Callable[[Runtime], None] | None = None
    on_stop: Callable[[Runtime], Awaitable[None]] | None = None
    # Forward-only upgrades of the service's stored data, versions 2, 3, ... (see
    # shared.storage.schema); a release that changes a stored shape adds one here.
    migrations: Sequence[Migration] = ()


async def start_runtime(spec: ServiceSpec, settings: Settings) -> Runtime:
    store = await open_store(
        settings, spec.name, [*OUTBOX_COLLECTIONS, *spec.collections], spec.migrations
    )
    broker = Broker(settings, spec.name)
    await broker.connect()
    relay = OutboxRelay(store, broker)
    rpc = RpcClient(broker, spec.name, settings.rpc_timeout_seconds)
    await rpc.start()
    runtime = Runtime(spec.name, settings, store, broker, UnitOfWork(store, relay), rpc)
    runtime.relay = relay
    relay.start()
    if spec.on_start is not None:
        await spec.on_start(runtime)
    for served in spec.rpc_methods(runtime):
        server = RpcServer(broker, served)
        await server.start()
        counted_while_alive(spec.name, server.queue_name, server)
        runtime.rpc_servers.append(server)
    for queue, handlers in spec.handlers(runtime).items():
        consumer = Consumer(
            broker,
            queue,
            handlers,
            settings.retry_delays_ms,
            spec.name,
            max_message_bytes=settings.max_message_bytes,
        )
        await consumer.start()
        counted_while_alive(spec.name, queue.name, consumer)
        runtime.consumers.append(consumer)
    SUMMARIES.start(settings.log_summary_seconds)
    log.info("service.started", version=VERSION)
    if settings.admin_token_is_default:
        log.warning("security.default_admin_token", setting="TSDX_ADMIN_TOKEN")
    return runtime


async def stop_runtime(spec: ServiceSpec, runtime: Runtime) -> None:
    for server in runtime.rpc_servers:
        await server.stop()
    for consumer in runtime.consumers:
        await consumer.stop()
    if spec.on_stop is not None:
        await spec.on_stop(runtime)
    if runtime.relay is not None:
        await runtime.relay.stop()
    await SUMMARIES.stop()
    await runtime.rpc.stop()
    await runtime.broker.close()
    await runtime.store.close()
    log.info("service.stopped")


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM once it has stopped, which would kill the process
    before the runtime shuts down; here the signal only asks the server to stop. ``on_exit``
    is told when the server begins to shut down, however it was asked to, before it waits for
    the requests in flight."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_exit = on_exit

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._on_exit is not None:
            self._on_exit()
        await super().shutdown(sockets)

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


# What uvicorn exits with when it cannot start; a taken port ends the same way, earlier.
STARTUP_FAILURE = 3


async def serve(spec: ServiceSpec, settings: Settings) -> None:
    sock = listening_socket(settings.host, spec.port(settings))
    runtime = await start_runtime(spec, settings)
    try:
        app = spec.build_app(runtime)
        telemetry.instrument(app)
        on_exit = None if spec.on_exit is None else partial(spec.on_exit, runtime)
        server = _Server(server_config(app), on_exit)
        async with long_lived_frozen():
            await server.serve(sockets=[sock])
    finally:
        await stop_runtime(spec, runtime)
        telemetry.shutdown()


def main(spec: ServiceSpec) -> None:
    settings = Settings()
    configure_logging(spec.name, settings.log_level, settings.log_format)
    telemetry.setup(spec.name, settings)
    # The lines still held are written before anything goes to stderr (a traceback, a
    # message): `tsdx up`'s log tail, which tells why a service died, ends with it.
    try:
        # libuv's event loop: the same asyncio API, a good deal less CPU per request and message.
        uvloop.run(serve(spec, settings))
    except PortUnavailable as exc:
        log.error("service.port_unavailable", host=exc.host, port=exc.port, reason=exc.reason)
        sys.exit(STARTUP_FAILURE)
    except BrokerUnreachable as exc:
        # Each failed attempt was logged as broker.connect_failed, with why.
        log.error("service.broker_unreachable", addresses=exc.addresses, waited_s=exc.waited)
        sys.exit(STARTUP_FAILURE)
    except StoreTooNew as exc:
        log.error("service.store_too_new", store=exc.where, stored=exc.stored, known=exc.known)
        flush_logs()
        print(f"tsdx {spec.name}: {exc}", file=sys.stderr)
        sys.exit(StoreTooNew.EXIT_CODE)
    finally:
        flush_logs()
