"""How the dashboard runs: a live feed of events, the broker's state and the operator's page.

It owns nothing durable; the runtime's store only carries the (empty) outbox every service has.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.dashboard import repository
from services.dashboard.activity import Activity
from services.dashboard.api import ROUTERS
from services.dashboard.broker_state import ManagementApi, ParkedMessages, vhost_of
from services.dashboard.consumers import FeedListener
from services.dashboard.devices import seed_devices
from services.dashboard.state import Dashboard
from shared.service import Runtime, ServiceSpec, parts_of, service_app

NAME = "dashboard"
STATIC = Path(__file__).parent / "static"


async def _on_start(rt: Runtime) -> None:
    settings = rt.settings
    activity = Activity(
        feed_size=settings.dashboard_feed_size,
        online_window=timedelta(seconds=settings.dashboard_online_window_seconds),
    )
    # Listen first, then read the registry: a device paired in between is not missed.
    feed = FeedListener(rt.broker, activity, NAME)
    await feed.start()
    vhost = vhost_of(settings.amqp_addresses[0])  # every node of a cluster: the same vhost
    board = Dashboard(
        activity=activity,
        feed=feed,
        management=ManagementApi(settings.rabbitmq_api_addresses, vhost),
        parked=ParkedMessages(rt.broker),
        vhost=vhost,
    )
    board.seeding = asyncio.create_task(seed_devices(rt.rpc, activity))
    rt.parts = board


async def _on_stop(rt: Runtime) -> None:
    board = parts_of(rt, Dashboard)
    if board.seeding is not None:
        board.seeding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await board.seeding
    await board.feed.stop()
    await board.management.close()


def build_app(rt: Runtime) -> FastAPI:
    board = parts_of(rt, Dashboard)

    async def ready() -> dict[str, bool]:
        return {**await rt.readiness(), "feed": board.feed.alive}

    # The dashboard takes only the operator page's small forms and sets no body limit.
    app = service_app(
        rt,
        NAME,
        title="tsdx dashboard",
        description="The operator's live view of routing, queues, devices and parked messages.",
        routers=ROUTERS,
        ready=ready,
        limit_body=False,
    )
    app.state.dashboard = board
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


# Declared as every service declares its ServiceSpec (shared/service.py): the five look alike
# field by field, what fills the fields is this service's own.
SPEC = ServiceSpec(
    name=NAME,
    collections=repository.COLLECTIONS,
    port=lambda s: s.dashboard_port,
    build_app=build_app,
    on_start=_on_start,
    on_stop=_on_stop,
)
