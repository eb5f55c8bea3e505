"""What a LAN user does (see, take, release, send results, finish, send a document started on
the terminal), as use cases on a real SQLite store: no HTTP, no broker."""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal

import pytest

from services.lan_writer.auth import LanUser
from services.lan_writer.broker_news import BrokerNews
from services.lan_writer.user_actions import UserActions
from shared.contracts import wrap
from shared.contracts.documents import FactLine, Target
from shared.contracts.uploads import DocumentWithdrawn
from shared.created_documents import CreatedDocument
from shared.errors import Refusal
from shared.storage import Store
from tests.unit.lan_writer.conftest import (
    GROUP,
    IVANOV,
    PETROV,
    SIDOROV,
    deliver,
    emitted,
    routed,
)

LINES = [FactLine(line_no=1, product_id="p-1", quantity=Decimal("2"))]


async def _refused(call: Awaitable[object]) -> str:
    """The code of the refusal ``call`` ends with."""
    with pytest.raises(Refusal) as refused:
        await call
    return refused.value.code


async def test_a_group_copy_is_seen_by_its_members_only(
    users: UserActions, news: BrokerNews
) -> None:
    await deliver(news, routed("c-1", GROUP))
    assert [c.id for c in await users.visible(IVANOV)] == ["c-1"]
    assert await users.visible(SIDOROV) == []
    assert await _refused(users.copy_for(SIDOROV, "c-1")) == "not_found"
    assert await _refused(users.take(SIDOROV, "c-1")) == "not_found"
    assert await _refused(users.take(IVANOV, "no-such-copy")) == "not_found"


async def test_one_user_takes_a_shared_document_and_the_next_waits_for_its_release(
    users: UserActions, news: BrokerNews, store: Store
) -> None:
    await deliver(news, routed("c-1", GROUP))
    copy, taken = await users.take(IVANOV, "c-1")
    assert taken and copy.lock.logins == ("ivanov",) and copy.state == "taken"
    _, again = await users.take(IVANOV, "c-1")
    assert not again  # taking it again changes nothing
    assert await _refused(users.take(PETROV, "c-1")) == "document_taken"
    released = await users.release(IVANOV, "c-1")
    assert released.state == "free"
    _, taken = await users.take(PETROV, "c-1")
    assert taken
    steps = [(e["state"], e.get("by")) for e in await emitted(store, "delivery.progressed")]
    assert steps == [
        ("delivered", None),
        ("in_progress", "ivanov"),
        ("released", "ivanov"),
        ("in_progress", "petrov"),
    ]


async def test_releasing_a_shared_document_drops_the_users_lines(
    users: UserActions, news: BrokerNews, store: Store
) -> None:
    await deliver(news, routed("c-1", GROUP))
    await users.take(IVANOV, "c-1")
    await users.submit(IVANOV, "c-1", "r-1", False, LINES)
    await users.release(IVANOV, "c-1")
    sends = await emitted(store, "result.submitted")
    assert [(s["user"], len(s["lines"]), s["final"]) for s in sends] == [
        ("ivanov", 1, False),
        ("ivanov", 0, False),  # the empty send replaces the user's last one
    ]


async def test_a_collective_document_is_done_when_its_last_holder_finishes(
    users: UserActions, news: BrokerNews, store: Store
) -> None:
    await deliver(news, routed("c-1", GROUP, collective=True))
    await users.take(IVANOV, "c-1")
    copy, _ = await users.take(PETROV, "c-1")
    assert copy.lock.logins == ("ivanov", "petrov")
    first = await users.submit(IVANOV, "c-1", "r-1", True, LINES)
    assert (first.final, first.completes) == (True, False)
    last = await users.submit(PETROV, "c-1", "r-2", True, LINES)
    assert (last.final, last.completes) == (True, True)
    assert (await users.copy_for(IVANOV, "c-1")).state == "done"
    # Routing is told the document is final only with the last holder's result.
    assert [s["final"] for s in await emitted(store, "result.submitted")] == [False, True]
    assert await _refused(users.take(SIDOROV, "c-1")) == "not_found"
    assert await _refused(users.take(IVANOV, "c-1")) == "document_already_finished"


async def test_a_result_sent_again_is_applied_once(
    users: UserActions, news: BrokerNews, store: Store
) -> None:
    await deliver(news, routed("c-1", Target(kind="user", value="ivanov")))
    await users.take(IVANOV, "c-1")
    first = await users.submit(IVANOV, "c-1", "r-1", False, LINES)
    again = await users.submit(IVANOV, "c-1", "r-1", False, LINES)
    assert again == first
    assert len(await emitted(store, "result.submitted")) == 1


async def test_a_result_of_a_user_who_does_not_hold_the_document_is_refused(
    users: UserActions, news: BrokerNews, store: Store
) -> None:
    await deliver(news, routed("c-1", GROUP))
    assert await _refused(users.submit(IVANOV, "c-1", "r-1", True, LINES)) == ("document_not_taken")
    await users.take(PETROV, "c-1")
    assert await _refused(users.submit(IVANOV, "c-1", "r-1", True, LINES)) == "document_taken"
    assert await emitted(store, "result.submitted") == []


async def test_a_withdrawn_document_says_why_it_is_gone(
    users: UserActions, news: BrokerNews
) -> None:
    await deliver(news, routed("c-1", GROUP))
    withdrawn = DocumentWithdrawn(delivery_id="c-1", channel="lan", reason="recalled")
    await news.withdraw(wrap(withdrawn, IVANOV.tenant), withdrawn)
    with pytest.raises(Refusal) as refused:
        await users.open(IVANOV, "c-1")
    assert (refused.value.code, refused.value.status) == ("document_withdrawn", 410)
    assert await users.visible(IVANOV) == []


async def test_a_document_started_on_the_terminal_is_sent_once(
    users: UserActions, store: Store
) -> None:
    body = CreatedDocument(
        process="inventory", document_id="started-1", result_id="r-1", lines=LINES
    )
    first = await users.record_created(IVANOV, body)
    again = await users.record_created(IVANOV, body)
    assert again == first and first.created and first.status == "sent"
    assert len(await emitted(store, "result.submitted")) == 1
    assert await users.created_result(IVANOV, "started-1", "r-1") == first
    other_base = LanUser("elsewhere", "ivanov", "Иванов", (), None)
    assert await _refused(users.created_result(other_base, "started-1", "r-1")) == "not_found"
