"""What an operator does with LAN documents (force-release a stale lock, give a document to
someone else), as use cases on a real SQLite store: no HTTP, no broker."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.lan_writer.broker_news import BrokerNews
from services.lan_writer.operator_actions import OperatorActions
from services.lan_writer.user_actions import UserActions
from shared.contracts.documents import FactLine, Target
from shared.errors import Refusal
from shared.storage import Store
from tests.unit.lan_writer.conftest import GROUP, IVANOV, PETROV, SIDOROV, deliver, emitted, routed

LINES = [FactLine(line_no=1, product_id="p-1", quantity=Decimal("1"))]


async def test_an_operator_frees_a_document_a_user_left_locked(
    users: UserActions, operators: OperatorActions, news: BrokerNews, store: Store
) -> None:
    await deliver(news, routed("c-1", GROUP))
    await users.take(IVANOV, "c-1")
    await users.submit(IVANOV, "c-1", "r-1", False, LINES)
    copy = await operators.force_release("c-1", "терминал разряжен")
    assert copy.state == "free"
    assert copy.released is not None and copy.released["holders"] == ["ivanov"]
    assert copy.lock.lost == {"ivanov": "терминал разряжен"}
    # The old holder's lines stop counting, and a result they send later is refused.
    sends = await emitted(store, "result.submitted")
    assert [(s["user"], len(s["lines"])) for s in sends] == [("ivanov", 1), ("ivanov", 0)]
    with pytest.raises(Refusal) as refused:
        await users.submit(IVANOV, "c-1", "r-2", True, LINES)
    assert refused.value.code == "lock_lost"
    # Taking the document again clears that.
    _, taken = await users.take(IVANOV, "c-1")
    assert taken


async def test_only_a_locked_document_is_force_released(
    operators: OperatorActions, news: BrokerNews
) -> None:
    await deliver(news, routed("c-1", GROUP))
    with pytest.raises(Refusal) as refused:
        await operators.force_release("c-1", "на всякий случай")
    assert refused.value.code == "document_not_locked"
    with pytest.raises(Refusal) as unknown:
        await operators.force_release("no-such-copy", "—")
    assert unknown.value.code == "not_found"


async def test_a_free_document_is_given_to_another_user(
    users: UserActions, operators: OperatorActions, news: BrokerNews
) -> None:
    await deliver(news, routed("c-1", Target(kind="user", value="ivanov")))
    copy = await operators.reassign("c-1", Target(kind="user", value="sidorov"))
    assert copy.assignee == "user:sidorov"
    assert copy.reassigned is not None and copy.reassigned["from"] == "user:ivanov"
    assert [c.id for c in await users.visible(SIDOROV)] == ["c-1"]
    assert await users.visible(IVANOV) == []
    # Given to the same one again: nothing changes.
    again = await operators.reassign("c-1", Target(kind="user", value="sidorov"))
    assert again.revision == copy.revision


async def test_a_document_someone_works_on_is_not_reassigned(
    users: UserActions, operators: OperatorActions, news: BrokerNews
) -> None:
    await deliver(news, routed("c-1", GROUP))
    await users.take(PETROV, "c-1")
    with pytest.raises(Refusal) as refused:
        await operators.reassign("c-1", Target(kind="user", value="sidorov"))
    assert refused.value.code == "release_lock_first"
    assert (await operators.copy("c-1")).assignee == "group:Кладовщики"


@pytest.mark.parametrize(
    ("target", "code"),
    [
        (Target(kind="pin", value="5546"), "target_not_allowed_on_channel"),
        (Target(kind="user", value=None), "target_incomplete"),
    ],
)
async def test_a_target_the_lan_cannot_serve_is_refused(
    operators: OperatorActions, news: BrokerNews, target: Target, code: str
) -> None:
    await deliver(news, routed("c-1", GROUP))
    with pytest.raises(Refusal) as refused:
        await operators.reassign("c-1", target)
    assert refused.value.code == code
    assert (await operators.copy("c-1")).assignee == "group:Кладовщики"


async def test_the_operator_lists_a_bases_documents_by_state(
    users: UserActions, operators: OperatorActions, news: BrokerNews
) -> None:
    await deliver(news, routed("c-1", GROUP))
    await deliver(news, routed("c-2", GROUP))
    await deliver(news, routed("c-3", GROUP), tenant="elsewhere")
    await users.take(IVANOV, "c-2")
    assert [c.id for c in await operators.copies(IVANOV.tenant)] == ["c-1", "c-2"]
    assert [c.id for c in await operators.copies(IVANOV.tenant, ["taken"])] == ["c-2"]
