"""Which broker answers to a topology declaration are worth declaring again (pure)."""

from __future__ import annotations

import aio_pika

from shared.messaging.broker import declared_too_soon


def test_a_queue_still_being_created_elsewhere_is_declared_again() -> None:
    answer = aio_pika.exceptions.ChannelNotFoundEntity(
        "NOT_FOUND - home node 'rabbit@vm' of durable queue 'gateway.work.retry.1000' "
        "in vhost 'tsdx' is down or inaccessible"
    )
    assert declared_too_soon(answer)


def test_other_refusals_are_not_retried() -> None:
    missing = aio_pika.exceptions.ChannelNotFoundEntity("NOT_FOUND - no exchange 'x' in vhost '/'")
    inequivalent = aio_pika.exceptions.ChannelPreconditionFailed(
        "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'routing.work'"
    )
    assert not declared_too_soon(missing)
    assert not declared_too_soon(inequivalent)
