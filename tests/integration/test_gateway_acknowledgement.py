"""A terminal's acknowledgement answers the state its copy really has, even when the copy
changed between the terminal's request being read and the acknowledgement being written (a
withdrawal, another acknowledgement). One gateway runtime: real SQLite, real RabbitMQ vhost."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.gateway import repository as repo
from services.gateway.inbox import acknowledge_copy
from services.gateway.service import SPEC
from shared.contracts.copies import CopyState
from shared.service import Runtime, start_runtime, stop_runtime
from shared.settings import Settings
from tests.support.gateway_copies import DOCUMENT, a_copy, a_device


@pytest.fixture
async def rt(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = await start_runtime(SPEC, settings)
    try:
        yield runtime
    finally:
        await stop_runtime(SPEC, runtime)


async def test_a_copy_withdrawn_after_it_was_read_is_acknowledged_as_a_withdrawal(
    rt: Runtime,
) -> None:
    await repo.add_copy(rt.store, a_copy(), DOCUMENT)
    read = await repo.copy(rt.store, "dl-1")  # what the terminal's request found: waiting
    assert read is not None and read.state is CopyState.DELIVERED
    assert await repo.change_copy_state(
        rt.store, "dl-1", CopyState.WITHDRAWN, expect=CopyState.DELIVERED
    )

    assert await acknowledge_copy(rt, read, a_device()) is CopyState.WITHDRAWAL_SEEN
    stored = await repo.copy(rt.store, "dl-1")
    assert stored is not None and stored.state is CopyState.WITHDRAWAL_SEEN


async def test_an_acknowledgement_sent_again_answers_the_state_the_copy_has(rt: Runtime) -> None:
    await repo.add_copy(rt.store, a_copy(), DOCUMENT)
    read = await repo.copy(rt.store, "dl-1")
    assert read is not None

    assert await acknowledge_copy(rt, read, a_device()) is CopyState.DOWNLOADED
    assert await repo.change_copy_state(
        rt.store, "dl-1", CopyState.IN_PROGRESS, expect=CopyState.DOWNLOADED
    )  # a partial result came meanwhile
    # The same request again, from the same (now stale) read: the copy's state, unchanged.
    assert await acknowledge_copy(rt, read, a_device()) is CopyState.IN_PROGRESS
    stored = await repo.copy(rt.store, "dl-1")
    assert stored is not None and stored.state is CopyState.IN_PROGRESS
