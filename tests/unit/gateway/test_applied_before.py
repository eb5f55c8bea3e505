"""A message the gateway finds applied already is acknowledged as such (AlreadyApplied), even
when announcing its inboxes again fails: a busy store must not use up a duplicate's retries or
park it, and the failure is logged with the message type."""

from __future__ import annotations

import sqlite3
from typing import cast

import pytest
from structlog.testing import capture_logs

from services.gateway.consumers import _announcing_when_applied_before
from services.gateway.inbox import Inbox
from shared.contracts import Envelope, Payload, wrap
from shared.contracts.uploads import DocumentWithdrawn
from shared.outbox import AlreadyApplied


class BusyInbox:
    def __init__(self) -> None:
        self.asked: list[Payload] = []

    async def applied_before(self, payload: Payload) -> None:
        self.asked.append(payload)
        raise sqlite3.OperationalError("database is locked")


async def _applied_already(envelope: Envelope, payload: Payload) -> None:
    raise AlreadyApplied(envelope.id)


def _withdrawn() -> tuple[Envelope, Payload]:
    payload = DocumentWithdrawn(delivery_id="dl-1", channel="internet", reason="recalled")
    return wrap(payload, tenant="t1"), payload


async def test_a_failed_announcement_still_acknowledges_the_duplicate() -> None:
    inbox = BusyInbox()
    handle = _announcing_when_applied_before(cast(Inbox, inbox), _applied_already)
    envelope, payload = _withdrawn()
    with capture_logs() as lines, pytest.raises(AlreadyApplied):
        await handle(envelope, payload)
    assert inbox.asked == [payload]
    [line] = [x for x in lines if x["event"] == "gateway.applied_before_not_announced"]
    assert line["log_level"] == "warning"
    assert line["message_type"] == envelope.type
    assert "database is locked" in line["error"]
