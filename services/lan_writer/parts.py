"""The LAN writer's own parts, built once at start (service.py) and read typed by its routers
and request dependencies: ``lan_parts(rt)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.catalog.replica import CatalogReplica
from shared.limits import GuessLimit
from shared.service import Runtime, parts_of

if TYPE_CHECKING:  # the actions' users come from auth.py, which reads these parts
    from services.lan_writer.broker_news import BrokerNews
    from services.lan_writer.operator_actions import OperatorActions
    from services.lan_writer.user_actions import UserActions


@dataclass(frozen=True)
class LanParts:
    users: UserActions
    operators: OperatorActions
    news: BrokerNews
    login_limit: GuessLimit
    # The copy of the base's catalog terminals sync from, kept by catalog.changed.
    catalog: CatalogReplica


def lan_parts(rt: Runtime) -> LanParts:
    return parts_of(rt, LanParts)
