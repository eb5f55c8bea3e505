"""The parts of a running dashboard, as its endpoints reach them."""

from __future__ import annotations

from dataclasses import dataclass

from services.dashboard.activity import Activity
from services.dashboard.broker_state import ManagementApi, ParkedMessages
from services.dashboard.feed import FeedListener


@dataclass
class Dashboard:
    activity: Activity
    feed: FeedListener
    management: ManagementApi
    parked: ParkedMessages
    vhost: str
