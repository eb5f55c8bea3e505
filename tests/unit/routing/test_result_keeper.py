"""Results coming back to routing (progress, results, completion, loading, follow-ups) as use
cases on a real SQLite store of routing's own: no broker, messages handed in directly, events
read from the outbox. Documents and copies are stored through the repository, as an upload
leaves them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest
from prometheus_client import REGISTRY

from services.routing import repository as repo
from services.routing.processes import BusinessProcess
from services.routing.results import ResultKeeper
from shared.contracts import Payload, wrap
from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import Document, DocumentHeader, DocumentLine, FactLine, Target
from shared.contracts.results import (
    CreatedOnTerminal,
    DeliveriesProgressed,
    DeliveryProgressed,
    DeliveryProgressedV1,
    DocumentLoaded,
    ProgressedCopy,
    ResultSubmitted,
)
from shared.messaging.consumer import PermanentFailure
from shared.outbox import OUTBOX, AlreadyApplied, UnitOfWork, stored_envelope
from shared.storage import Store, TransactionConflict
from shared.storage.sqlite import SQLiteStore
from tests.support.stores import first_commit_locked, service_store

TENANT = "t1"
PROCESS = BusinessProcess(
    id="picking",
    name="Подбор",
    source_type="Заказ клиента",
    terminal_type="Подбор",
    result_type="Реализация",
    quantity_control=True,
)
DOCUMENT = Document(
    header=DocumentHeader(accounting_type="Заказ клиента", id="d-1", number="17"),
    lines=[DocumentLine(line_no=1, product_id="p-1", planned_qty=Decimal("3"))],
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with service_store(tmp_path, "routing", repo.COLLECTIONS) as s:
        yield s


@pytest.fixture
def keeper(store: Store) -> ResultKeeper:
    return ResultKeeper(UnitOfWork(store, None))


async def _uploaded(
    store: Store,
    *users: str,
    process: BusinessProcess = PROCESS,
    state: str = "delivered",
    channel: Literal["lan", "internet"] = "lan",
) -> None:
    """The document uploaded for ``users``, one copy each (``c-<user>``), as routing keeps it."""
    key = repo.document_key(TENANT, "d-1")
    await repo.put_document(
        store,
        repo.DocumentRecord(
            id=key,
            tenant=TENANT,
            document_id="d-1",
            process=process.id,
            process_snapshot=process,
            request_id="r-1",
            channel=channel,
            target=Target(kind="group", value="Кладовщики"),
            version=1,
            state=state,
        ),
    )
    await repo.start_body(store, TENANT, key, CarriedDocument.model_validate(DOCUMENT).as_json())
    for user in users:
        await repo.add_copy(
            store,
            repo.CopyRecord(
                id=f"c-{user}",
                tenant=TENANT,
                document_key=key,
                request_id="r-1",
                channel=channel,
                target=Target(kind="user", value=user),
                copy="own",
                mode="online",
                version=1,
                state=state,
                routed_at="2026-01-01T00:00:00+00:00",
            ),
        )


def _result(
    user: str,
    quantity: str,
    *,
    final: bool = True,
    n: int = 1,
    channel: Literal["lan", "internet"] = "lan",
) -> ResultSubmitted:
    line = FactLine(line_no=1, product_id="p-1", quantity=Decimal(quantity))
    return ResultSubmitted(
        result_id=f"{user}-{n}",
        delivery_id=f"c-{user}",
        channel=channel,
        final=final,
        lines=[line],
        user=user,
    )


async def _apply(handler: Any, payload: Payload, tenant: str = TENANT) -> None:
    await handler(wrap(payload, tenant), payload)


async def _emitted(store: Store, kind: str) -> list[dict[str, Any]]:
    rows = sorted(await store.find(OUTBOX.name), key=lambda r: r["seq"])
    return [stored_envelope(r)["payload"] for r in rows if stored_envelope(r)["type"] == kind]


async def _state(store: Store) -> str:
    master = await repo.document(store, repo.document_key(TENANT, "d-1"))
    assert master is not None
    return master.state


async def _steps(store: Store) -> list[str]:
    return [s.step for s in await repo.steps_of(store, repo.document_key(TENANT, "d-1"))]


async def test_the_last_final_result_completes_the_document_with_merged_lines(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "ivanov", "petrov")
    await _apply(keeper.submitted, _result("ivanov", "1"))
    assert await _state(store) == "in_progress"
    assert await _emitted(store, "document.completed") == []
    await _apply(keeper.submitted, _result("petrov", "2"))
    assert await _state(store) == "completed"
    [completed] = await _emitted(store, "document.completed")
    assert completed["document_id"] == "d-1" and completed["result_type"] == "Реализация"
    assert [
        (line["product_id"], Decimal(str(line["quantity"]))) for line in completed["lines"]
    ] == [("p-1", Decimal("3"))]
    await _apply(keeper.loaded, DocumentLoaded(document_id="d-1"))
    assert await _state(store) == "loaded"
    assert await _steps(store) == ["result", "result", "completed", "loaded"]


async def test_a_users_latest_result_replaces_their_earlier_one(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "ivanov")
    await _apply(keeper.submitted, _result("ivanov", "3", final=False))
    await _apply(keeper.submitted, _result("ivanov", "2", n=2))  # 3 + 2 would exceed the plan
    [completed] = await _emitted(store, "document.completed")
    assert Decimal(str(completed["lines"][0]["quantity"])) == Decimal("2")


async def test_a_result_above_the_plan_is_refused_and_changes_nothing(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "ivanov")
    await _apply(keeper.submitted, _result("ivanov", "4"))
    [refused] = await _emitted(store, "result.refused")
    assert refused["delivery_id"] == "c-ivanov" and refused["code"]
    assert await _state(store) == "delivered"
    assert await repo.facts_of(store, repo.document_key(TENANT, "d-1")) == {}
    assert await _steps(store) == ["result_refused"]


async def test_a_result_for_a_withdrawn_copy_is_refused(keeper: ResultKeeper, store: Store) -> None:
    await _uploaded(store, "ivanov")
    await repo.withdraw_copy(store, "c-ivanov", state="withdrawn", reason="recalled")
    await _apply(keeper.submitted, _result("ivanov", "1"))
    assert [r["code"] for r in await _emitted(store, "result.refused")] == ["document_withdrawn"]


async def test_a_result_for_an_unknown_or_another_bases_copy_is_parked(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "ivanov")
    with pytest.raises(PermanentFailure):
        await _apply(keeper.submitted, _result("nobody", "1"))
    with pytest.raises(PermanentFailure):
        await _apply(keeper.submitted, _result("ivanov", "1"), tenant="t2")


async def test_progress_moves_a_copy_forward_only_and_each_step_is_kept_once(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "ivanov", state="routed")
    downloaded = DeliveryProgressed(delivery_id="c-ivanov", channel="lan", state="downloaded")
    delivered = DeliveryProgressed(delivery_id="c-ivanov", channel="lan", state="delivered")
    await _apply(keeper.progressed, downloaded)
    await _apply(keeper.progressed, delivered)  # late news: still news, never a step back
    await _apply(keeper.progressed, delivered)  # the same news again
    copy = await repo.copy_of(store, "c-ivanov")
    assert copy is not None and copy.state == "downloaded"
    assert await _state(store) == "downloaded"
    assert sorted(await _steps(store)) == ["delivered", "downloaded"]


async def test_a_download_that_says_when_the_copy_was_stored_is_both_steps(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "ivanov", state="routed")
    stored_at = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    downloaded = DeliveryProgressed(
        delivery_id="c-ivanov",
        channel="internet",
        state="downloaded",
        by="dev-1",
        delivered_at=stored_at,
    )
    await _apply(keeper.progressed, downloaded)
    await _apply(keeper.progressed, downloaded)  # the same news again: nothing more
    copy = await repo.copy_of(store, "c-ivanov")
    assert copy is not None and copy.state == "downloaded"
    assert await _state(store) == "downloaded"
    steps = await repo.steps_of(store, repo.document_key(TENANT, "d-1"))
    assert [(s.step, s.service) for s in steps] == [
        ("delivered", "gateway"),
        ("downloaded", "gateway"),
    ]
    assert steps[0].at == stored_at.isoformat()


async def test_several_copies_downloaded_in_one_message_apply_together_and_once(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "dev-1", "dev-2", state="routed", channel="internet")
    stored_at = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    together = DeliveriesProgressed(
        channel="internet",
        by="dev-1",
        copies=[
            ProgressedCopy(delivery_id=f"c-dev-{n}", state="downloaded", delivered_at=stored_at)
            for n in (1, 2)
        ],
    )
    envelope = wrap(together, TENANT)
    await keeper.progressed_together(envelope, together)
    with pytest.raises(AlreadyApplied):  # the same message redelivered applies nothing
        await keeper.progressed_together(envelope, together)
    for n in (1, 2):
        copy = await repo.copy_of(store, f"c-dev-{n}")
        assert copy is not None and copy.state == "downloaded"
    assert await _state(store) == "downloaded"
    steps = await repo.steps_of(store, repo.document_key(TENANT, "d-1"))
    assert sorted((s.delivery_id, s.step, s.at) for s in steps if s.step == "delivered") == [
        ("c-dev-1", "delivered", stored_at.isoformat()),
        ("c-dev-2", "delivered", stored_at.isoformat()),
    ]
    assert sorted((s.delivery_id, s.step) for s in steps if s.step == "downloaded") == [
        ("c-dev-1", "downloaded"),
        ("c-dev-2", "downloaded"),
    ]


async def test_a_message_naming_one_copy_again_moves_it_on_from_where_it_left_it(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "dev-1", state="routed", channel="internet")
    together = DeliveriesProgressed(
        channel="internet",
        by="dev-1",
        copies=[
            ProgressedCopy(delivery_id="c-dev-1", state=state)
            for state in ("in_progress", "downloaded", "downloaded")
        ],
    )
    await _apply(keeper.progressed_together, together)
    # Taken first: the download after it is late news, a step but no step back.
    copy = await repo.copy_of(store, "c-dev-1")
    assert copy is not None and copy.state == "in_progress"
    assert await _state(store) == "in_progress"
    assert await _steps(store) == ["taken", "downloaded"]  # the download named twice: once


async def test_a_copys_step_stored_before_is_kept_as_it_was_by_a_message_of_several(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "dev-1", "dev-2", state="routed", channel="internet")
    first, later = datetime(2026, 1, 1, 9, 0, tzinfo=UTC), datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    alone = DeliveryProgressed(
        delivery_id="c-dev-1", channel="internet", state="delivered", delivered_at=first
    )
    await _apply(keeper.progressed, alone)
    together = DeliveriesProgressed(
        channel="internet",
        by="dev-1",
        copies=[
            ProgressedCopy(delivery_id=f"c-dev-{n}", state="downloaded", delivered_at=later)
            for n in (1, 2)
        ],
    )
    await _apply(keeper.progressed_together, together)
    steps = await repo.steps_of(store, repo.document_key(TENANT, "d-1"))
    assert sorted((s.delivery_id, s.at) for s in steps if s.step == "delivered") == [
        ("c-dev-1", first.isoformat()),
        ("c-dev-2", later.isoformat()),
    ]
    assert sorted(str(s.delivery_id) for s in steps if s.step == "downloaded") == [
        "c-dev-1",
        "c-dev-2",
    ]
    assert await _state(store) == "downloaded"


async def test_a_message_of_several_copies_with_one_unknown_applies_the_others(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "dev-1", "dev-2", state="routed", channel="internet")
    together = DeliveriesProgressed(
        channel="internet",
        by="dev-1",
        copies=[
            ProgressedCopy(delivery_id=delivery_id, state="downloaded")
            for delivery_id in ("c-dev-1", "c-nobody", "c-dev-2")
        ],
    )
    before = _refused_copies()
    await _apply(keeper.progressed_together, together)
    assert _refused_copies() == before + 1
    for n in (1, 2):
        copy = await repo.copy_of(store, f"c-dev-{n}")
        assert copy is not None and copy.state == "downloaded"
    assert await repo.copy_of(store, "c-nobody") is None
    steps = await repo.steps_of(store, repo.document_key(TENANT, "d-1"))
    assert sorted(str(s.delivery_id) for s in steps if s.step == "downloaded") == [
        "c-dev-1",
        "c-dev-2",
    ]


def _refused_copies() -> float:
    labels = {"reason": "unknown_delivery"}
    return REGISTRY.get_sample_value("tsdx_progress_copies_refused_total", labels) or 0.0


async def test_a_message_of_several_copies_naming_another_tenants_copy_applies_only_its_own(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "dev-1", state="routed", channel="internet")
    together = DeliveriesProgressed(
        channel="internet",
        by="dev-1",
        copies=[ProgressedCopy(delivery_id="c-dev-1", state="downloaded")],
    )
    await _apply(keeper.progressed_together, together, tenant="another")
    copy = await repo.copy_of(store, "c-dev-1")
    assert copy is not None and copy.state == "routed"
    assert "downloaded" not in await _steps(store)


async def test_a_result_without_a_reported_download_implies_the_delivery_and_download_once(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "dev-1", state="routed", channel="internet")
    await _apply(keeper.submitted, _result("dev-1", "1", final=False, channel="internet"))
    steps = await repo.steps_of(store, repo.document_key(TENANT, "d-1"))
    assert [(s.step, s.service, s.details.get("implied")) for s in steps] == [
        ("delivered", "gateway", True),
        ("downloaded", "gateway", True),
        ("result", "gateway", None),
    ]
    assert {s.at for s in steps} == {steps[-1].at}  # at the result's time, just before it
    assert all(s.delivery_id == "c-dev-1" for s in steps)
    assert all(s.details["device_id"] == "dev-1" for s in steps)
    copy = await repo.copy_of(store, "c-dev-1")
    assert copy is not None and copy.state == "in_progress"
    assert await _state(store) == "in_progress"
    # The download reported late, and again: nothing more, and the copy is not moved back.
    late = DeliveryProgressed(
        delivery_id="c-dev-1",
        channel="internet",
        state="downloaded",
        by="dev-1",
        delivered_at=datetime(2026, 1, 1, 9, 0, tzinfo=UTC),
    )
    await _apply(keeper.progressed, late)
    await _apply(keeper.progressed, late)
    await _apply(keeper.submitted, _result("dev-1", "3", n=2, channel="internet"))
    assert await _steps(store) == ["delivered", "downloaded", "result", "result", "completed"]
    assert await _state(store) == "completed"


async def test_a_result_after_a_reported_download_implies_nothing(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "dev-1", state="routed", channel="internet")
    downloaded = DeliveryProgressed(
        delivery_id="c-dev-1",
        channel="internet",
        state="downloaded",
        by="dev-1",
        delivered_at=datetime(2026, 1, 1, 9, 0, tzinfo=UTC),
    )
    await _apply(keeper.progressed, downloaded)
    await _apply(keeper.submitted, _result("dev-1", "3", channel="internet"))
    steps = await repo.steps_of(store, repo.document_key(TENANT, "d-1"))
    assert [s.step for s in steps] == ["delivered", "downloaded", "result", "completed"]
    assert not any(s.details.get("implied") for s in steps)


async def test_a_refused_result_implies_no_download(keeper: ResultKeeper, store: Store) -> None:
    await _uploaded(store, "dev-1", state="routed", channel="internet")
    await _apply(keeper.submitted, _result("dev-1", "4", channel="internet"))  # above the plan
    assert await _steps(store) == ["result_refused"]
    copy = await repo.copy_of(store, "c-dev-1")
    assert copy is not None and copy.state == "routed"


async def test_progress_reported_before_the_upgrade_is_still_applied(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "ivanov", state="routed")
    old = DeliveryProgressedV1(delivery_id="c-ivanov", channel="internet", state="delivered")
    await _apply(keeper.progressed_v1, old)
    copy = await repo.copy_of(store, "c-ivanov")
    assert copy is not None and copy.state == "delivered"
    assert await _steps(store) == ["delivered"]


async def test_a_completed_document_starts_its_next_process(
    keeper: ResultKeeper, store: Store
) -> None:
    receipt = PROCESS.model_copy(update={"next_process": "placement"})
    await _uploaded(store, "ivanov", process=receipt)
    await _apply(keeper.submitted, _result("ivanov", "2"))
    [request] = await _emitted(store, "upload.requested")
    assert request["request_id"] == "d-1:placement" and request["process"] == "placement"
    # To the group the finished document was uploaded for, on the same channel.
    assert request["target"] == {"kind": "group", "value": "Кладовщики"}
    assert request["channel"] == "lan"
    assert await _steps(store) == ["result", "completed", "follow_up"]


def _created(process: str, document_id: str = "new-1") -> ResultSubmitted:
    header = DocumentHeader(accounting_type="Инвентаризация", id=document_id, number="5")
    return ResultSubmitted(
        result_id="r-new",
        delivery_id=f"new-{document_id}",
        channel="lan",
        final=True,
        lines=[FactLine(product_id="p-1", quantity=Decimal("7"))],
        user="ivanov",
        created=CreatedOnTerminal(process=process, header=header),
    )


async def test_a_document_started_on_the_terminal_is_opened_and_completed(
    keeper: ResultKeeper, store: Store
) -> None:
    inventory = BusinessProcess.model_validate(
        {
            **PROCESS.model_dump(),
            "id": "inventory",
            "create_on_terminal": True,
            "on_load": {"action": "create_new"},
        }
    )
    await repo.save_process(store, repo.ALL_TENANTS, inventory)
    await _apply(keeper.submitted, _created("inventory"))
    master = await repo.document(store, repo.document_key(TENANT, "new-1"))
    assert master is not None and master.created_on_terminal
    assert (master.state, master.target) == ("completed", Target(kind="user", value="ivanov"))
    [completed] = await _emitted(store, "document.completed")
    # No plan holds it back: 7 counted where nothing was planned.
    assert completed["created_on_terminal"] is True
    assert Decimal(str(completed["lines"][0]["quantity"])) == Decimal("7")


async def test_a_process_that_does_not_allow_it_refuses_a_started_document(
    keeper: ResultKeeper, store: Store
) -> None:
    await repo.save_process(store, repo.ALL_TENANTS, PROCESS)
    await _apply(keeper.submitted, _created("picking"))
    assert [r["code"] for r in await _emitted(store, "result.refused")] == ["process_cannot_create"]
    assert await repo.document(store, repo.document_key(TENANT, "new-1")) is None


def _counted() -> tuple[float, ...]:
    """Results refused and final, documents completed and follow-ups started so far."""
    sample = REGISTRY.get_sample_value
    return (
        sample("tsdx_results_total", {"outcome": "refused"}) or 0.0,
        sample("tsdx_results_total", {"outcome": "final"}) or 0.0,
        sample("tsdx_documents_completed_total", {"process": "picking", "mode": "online"}) or 0.0,
        sample("tsdx_follow_ups_started_total", {"process": "placement"}) or 0.0,
    )


async def _applied_on_the_second_commit(store: Store, handler: Any, payload: Payload) -> None:
    """``payload`` applied as the consumer applies it when the store aborts the first commit:
    the attempt fails, and the handler runs again whole."""
    assert isinstance(store, SQLiteStore)
    tried = first_commit_locked(store)
    with pytest.raises(TransactionConflict):
        await _apply(handler, payload)
    await _apply(handler, payload)
    assert len(tried) == 2


async def test_what_a_result_changed_is_counted_once_its_transaction_committed(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(
        store, "ivanov", process=PROCESS.model_copy(update={"next_process": "placement"})
    )
    refused, final, completed, followed = _counted()
    await _applied_on_the_second_commit(store, keeper.submitted, _result("ivanov", "4"))
    assert _counted() == (refused + 1, final, completed, followed)  # above the plan
    await _applied_on_the_second_commit(store, keeper.submitted, _result("ivanov", "2", n=2))
    assert _counted() == (refused + 1, final + 1, completed + 1, followed + 1)


async def test_a_copy_refused_among_several_is_counted_once_their_transaction_committed(
    keeper: ResultKeeper, store: Store
) -> None:
    await _uploaded(store, "ivanov", channel="internet")
    before = _refused_copies()
    several = DeliveriesProgressed(
        channel="internet",
        by="dev-1",
        copies=[
            ProgressedCopy(delivery_id="c-ivanov", state="downloaded"),
            ProgressedCopy(delivery_id="c-nobody", state="downloaded"),
        ],
    )
    await _applied_on_the_second_commit(store, keeper.progressed_together, several)
    assert _refused_copies() == before + 1
