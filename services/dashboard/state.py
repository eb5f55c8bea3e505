"""The parts of a running dashboard, as its endpoints reach them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from services.dashboard.activity import Activity
from services.dashboard.broker_state import ManagementApi, ParkedMessages
from services.dashboard.consumers import FeedListener


@dataclass
class Dashboard:
    activity: Activity
    feed: FeedListener
    management: ManagementApi
    parked: ParkedMessages
    vhost: str
    # Reading the registry's devices at start, in the background (cancelled at stop).
    seeding: asyncio.Task[None] | None = None
