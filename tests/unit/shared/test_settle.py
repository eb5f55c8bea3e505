"""Acknowledging a message whose channel was lost with its node: not an error, since the broker
delivers the message again (pure: a stand-in message, no broker)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from aio_pika.abc import AbstractIncomingMessage
from aiormq.exceptions import ChannelInvalidStateError, ConnectionClosed

from shared.messaging.broker import settle


class LostChannelMessage:
    message_id = "m-1"

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls: list[tuple[str, Any]] = []

    async def ack(self) -> None:
        self.calls.append(("ack", None))
        raise self.error

    async def nack(self, requeue: bool = True) -> None:
        self.calls.append(("nack", requeue))
        raise self.error


@pytest.mark.parametrize(
    "error", [ChannelInvalidStateError("No active transport in channel"), ConnectionClosed(320, "")]
)
async def test_an_ack_on_a_lost_channel_is_given_up_quietly(error: Exception) -> None:
    message = LostChannelMessage(error)
    await settle(cast(AbstractIncomingMessage, message))
    await settle(cast(AbstractIncomingMessage, message), requeue=True)
    assert message.calls == [("ack", None), ("nack", True)]


async def test_any_other_error_is_not_hidden() -> None:
    message = LostChannelMessage(ValueError("a bug"))
    with pytest.raises(ValueError, match="a bug"):
        await settle(cast(AbstractIncomingMessage, message))
