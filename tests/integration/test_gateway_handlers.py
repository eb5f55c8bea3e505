"""The gateway's message handlers on real SQLite: webhook queueing, refusals, device copies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

import orjson
import pytest

from services.gateway import repository as repo
from services.gateway import results
from services.gateway.consumers import table
from services.gateway.inbox import Inbox as GatewayHandlers
from services.gateway.inbox_summaries import HeldAnswer, InboxSummaries, News
from services.gateway.inbox_watch import InboxWatch
from services.gateway.notifier import News as UploadNews
from services.gateway.notifier import Notifier
from services.gateway.records import UploadRecord
from services.gateway.routed_copies import RoutedCopies
from shared.contracts import Payload, decode, encode, wrap
from shared.contracts.carried import CarriedDocument
from shared.contracts.copies import CopyState
from shared.contracts.directory import DeviceChanged, DeviceReplaced, DeviceView
from shared.contracts.documents import Document, DocumentHeader, DocumentLine, FactLine, Target
from shared.contracts.results import DocumentCompleted, ResultRefused
from shared.contracts.uploads import (
    Delivery,
    DocumentReturned,
    DocumentRouted,
    DocumentRoutedV1,
    DocumentWithdrawn,
    RoutedCopy,
    UploadDecided,
)
from shared.messaging.broker import Broker
from shared.messaging.consumer import Consumer
from shared.messaging.parking import list_parked
from shared.messaging.topology import GATEWAY_WORK
from shared.outbox import COLLECTIONS as OUTBOX_COLLECTIONS
from shared.outbox import OUTBOX, AlreadyApplied, UnitOfWork, stored_envelope
from shared.settings import Settings
from shared.storage import Store, TransactionConflict, open_store
from tests.support.gateway_copies import DOCUMENT, a_copy
from tests.support.waiting import eventually

TENANT = "trade"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await open_store(
        Settings(data_dir=tmp_path), "gateway", [*OUTBOX_COLLECTIONS, *repo.COLLECTIONS]
    )
    yield s
    await s.close()


def _polls(store: Store) -> InboxWatch:
    # As the gateway builds it (service.py): the safety check asks the real store.
    return InboxWatch(
        lambda devices: repo.devices_with_copies(
            store, devices, (CopyState.DELIVERED, CopyState.WITHDRAWN)
        ),
        summaries=InboxSummaries(100, 3600),
    )


@pytest.fixture
def polls(store: Store) -> InboxWatch:
    return _polls(store)


@pytest.fixture
def handlers(store: Store, polls: InboxWatch) -> GatewayHandlers:
    return GatewayHandlers(UnitOfWork(store, None), Notifier(), polls)


async def _apply(handlers: GatewayHandlers, payload: Payload, tenant: str = TENANT) -> None:
    """As the gateway's consumer applies a message: read from its body by the model its
    handler names (a view of some, as of ``document.routed``), then handled."""
    await _apply_body(handlers, encode(wrap(payload, tenant)))


async def _apply_body(handlers: GatewayHandlers, body: bytes) -> None:
    handled = table(handlers)
    views = {(kind.TYPE, kind.VERSION): kind for kind in handled}
    envelope, read = decode(body, views)
    await handled[type(read)](envelope, read)


def _completed(document_id: str, mode: str) -> DocumentCompleted:
    return DocumentCompleted.model_validate(
        {
            "document_id": document_id,
            "process": "purchase-receipt",
            "result_type": "Приобретение товаров и услуг",
            "mode": mode,
            "header": DocumentHeader(accounting_type="Заказ поставщику", id=document_id),
            "lines": [FactLine(line_no=1, product_id="p1", quantity=2)],
        }
    )


async def _set_webhook(store: Store) -> None:
    await store.insert(
        repo.WEBHOOKS.name,
        {"id": TENANT, "url": "https://1c.example.ru/hook", "secret": "s", "updated_at": "x"},
    )


async def test_an_online_document_is_queued_for_the_webhook_once(
    store: Store, handlers: GatewayHandlers
) -> None:
    await _set_webhook(store)
    event = _completed("doc-1", "online")
    envelope = wrap(event, TENANT)
    await handlers.completed(envelope, event)
    with pytest.raises(AlreadyApplied):
        await handlers.completed(envelope, event)  # a redelivery changes nothing
    [push] = await store.find(repo.WEBHOOK_DELIVERIES.name)
    assert push["id"] == envelope.id
    assert push["state"] == "pending"
    body = orjson.loads(push["body"])
    assert body["event"] == "document.completed"
    assert body["event_id"] == envelope.id
    assert body["document"]["document_id"] == "doc-1"
    assert body["document"]["result"]["lines"][0]["quantity"] == "2"
    completed = await store.get(repo.COMPLETED.name, repo.completed_key(TENANT, "doc-1"))
    assert completed is not None and completed["state"] == "completed"


async def test_offline_documents_and_bases_without_webhook_are_not_pushed(
    store: Store, handlers: GatewayHandlers
) -> None:
    await _apply(handlers, _completed("doc-2", "online"))  # no webhook set yet
    await _set_webhook(store)
    await _apply(handlers, _completed("doc-3", "offline"))
    assert await store.find(repo.WEBHOOK_DELIVERIES.name) == []
    assert await store.count(repo.COMPLETED.name, {"tenant": TENANT, "state": "completed"}) == 2


async def _inbox_row(store: Store, *, state: str, last_result_id: str) -> None:
    copy = a_copy(tenant=TENANT, state=CopyState.stored_by_gateway(state))
    await repo.add_new_copies(store, [(copy, DOCUMENT)])
    await store.update(repo.INBOX.name, "dl-1", {"last_result_id": last_result_id})
    for result_id in ("r1", "r2"):
        await store.insert(
            repo.RESULTS.name,
            {
                "id": repo.result_key("dl-1", result_id),
                "delivery_id": "dl-1",
                "result_id": result_id,
                "final": result_id == "r2",
                "status": "received",
            },
        )


def _refused(result_id: str) -> ResultRefused:
    return ResultRefused(
        result_id=result_id,
        delivery_id="dl-1",
        channel="internet",
        code="quantity_over_plan",
        params={"line": 1, "planned": "2", "fact": "5"},
    )


async def test_a_refusal_of_the_latest_result_reopens_the_copy(
    store: Store, handlers: GatewayHandlers
) -> None:
    await _inbox_row(store, state="done", last_result_id="r2")
    await _apply(handlers, _refused("r2"))
    row = await store.get(repo.INBOX.name, "dl-1")
    assert row is not None
    assert row["state"] == "in_progress"
    assert row["last_refusal"]["code"] == "quantity_over_plan"
    result = await store.get(repo.RESULTS.name, repo.result_key("dl-1", "r2"))
    assert result is not None and result["status"] == "refused"


async def test_a_late_refusal_of_an_earlier_result_does_not_reopen_the_copy(
    store: Store, handlers: GatewayHandlers
) -> None:
    await _inbox_row(store, state="done", last_result_id="r2")
    await _apply(handlers, _refused("r1"))
    row = await store.get(repo.INBOX.name, "dl-1")
    assert row is not None
    assert row["state"] == "done"
    assert "last_refusal" not in row
    earlier = await store.get(repo.RESULTS.name, repo.result_key("dl-1", "r1"))
    assert earlier is not None and earlier["status"] == "refused"


async def test_a_registry_change_keeps_the_last_seen_the_gateway_recorded(
    store: Store, handlers: GatewayHandlers
) -> None:
    seen = datetime(2026, 11, 28, 10, 0, tzinfo=UTC).isoformat()
    view = DeviceView(
        id="dev-1",
        tenant=TENANT,
        pin="5546",
        name="EDA50",
        model="EDA50",
        hardware_id="@HW-1",
        mode="online",
        status="active",
    )
    await store.put(
        repo.DEVICES.name,
        {**view.model_dump(mode="json"), "credential_hash": "h", "revision": 1, "last_seen": seen},
    )
    renamed = view.model_copy(update={"name": "Склад 2"})
    await _apply(handlers, DeviceChanged(device=renamed, credential_hash="h", revision=2))
    device = await store.get(repo.DEVICES.name, "dev-1")
    assert device is not None
    assert device["name"] == "Склад 2"
    assert device["last_seen"] == seen


@pytest.mark.parametrize("kind", ["withdrawn", "refused"])
async def test_news_about_a_copy_from_another_tenant_is_refused_and_changes_nothing(
    store: Store, handlers: GatewayHandlers, kind: str
) -> None:
    from shared.contracts.uploads import DocumentWithdrawn
    from shared.messaging.consumer import PermanentFailure

    await _inbox_row(store, state="in_progress", last_result_id="r2")
    news: Payload = (
        DocumentWithdrawn(delivery_id="dl-1", channel="internet", reason="recalled")
        if kind == "withdrawn"
        else _refused("r2")
    )
    with pytest.raises(PermanentFailure, match="another tenant"):
        await _apply(handlers, news, tenant="intruder")
    row = await store.get(repo.INBOX.name, "dl-1")
    assert row is not None and row["state"] == "in_progress" and "last_refusal" not in row
    result = await store.get(repo.RESULTS.name, repo.result_key("dl-1", "r2"))
    assert result is not None and result["status"] == "received"


def _routed_to(
    device_id: str, delivery_id: str, *more: str, decided: UploadDecided | None = None
) -> DocumentRouted:
    """An upload's copies of document d: ``delivery_id`` (and ``more``) for the device."""
    return DocumentRouted(
        request_id=f"req-{delivery_id}",
        process="purchase-receipt",
        channel="internet",
        documents=[Document(header=DocumentHeader(accounting_type="Заказ поставщику", id="d"))],
        copies=[
            RoutedCopy(
                delivery_id=copy_id,
                document_id="d",
                version=1,
                target=Target(kind="device", value=device_id),
            )
            for copy_id in (delivery_id, *more)
        ],
        requested_at=datetime.now(UTC),
        decided=decided,
    )


def _accepted(request_id: str, routed: DocumentRouted) -> UploadDecided:
    return UploadDecided(
        request_id=request_id,
        process=routed.process,
        channel="internet",
        target=routed.copies[0].target,
        outcome="accepted",
        deliveries=[
            Delivery(
                delivery_id=c.delivery_id,
                document_id=c.document_id,
                channel="internet",
                target=c.target,
            )
            for c in routed.copies
        ],
        requested_at=routed.requested_at,
    )


async def _decided_with_copies(
    store: Store, polls: InboxWatch, request_id: str, *copy_ids: str
) -> tuple[UploadRecord | None, UploadNews]:
    """Copies routed to device "dev" with their upload's decision, applied while an upload
    waits for it: the upload's record as stored, and what woke the waiting upload."""
    notifier = Notifier()
    handlers = GatewayHandlers(UnitOfWork(store, None), notifier, polls)
    key = repo.upload_key(TENANT, request_id)
    plain = _routed_to("dev", *copy_ids)
    routed = plain.model_copy(update={"decided": _accepted(request_id, plain)})
    with notifier.watching(key) as news:
        await _apply(handlers, routed)
    return await repo.upload_by_key(store, key), news


async def test_copies_that_carry_their_decision_answer_the_waiting_upload(
    store: Store, polls: InboxWatch
) -> None:
    pending = UploadRecord(
        id=repo.upload_key(TENANT, "req-copy-1"),
        tenant=TENANT,
        request_id="req-copy-1",
        status="pending",
        requested_at="x",
    )
    await repo.add_pending_upload(store, pending)
    answer, news = await _decided_with_copies(store, polls, "req-copy-1", "copy-1", "copy-2")
    assert sorted(await _inbox_of(store, "dev")) == ["copy-1", "copy-2"]
    assert answer is not None and answer.status == "accepted" and answer.decision is not None
    assert [d["delivery_id"] for d in answer.decision["deliveries"]] == ["copy-1", "copy-2"]
    # The waiting upload is woken with the record as stored: it need not read it again.
    assert news.is_set() and news.stored == answer
    # Storing a copy is no progress message of its own: the download reports it.
    assert await store.find(OUTBOX.name) == []


async def test_copies_of_an_upload_never_stored_pending_store_its_answer_whole(
    store: Store, polls: InboxWatch
) -> None:
    # The common case: the upload is decided within its wait, before anything stored it.
    answer, news = await _decided_with_copies(store, polls, "req-copy-2", "copy-1")
    assert answer is not None and answer.status == "accepted" and answer.decision is not None
    # When it was asked, as routing tells it (the upload was never stored before).
    assert answer.requested_at and datetime.fromisoformat(
        answer.requested_at
    ) == datetime.fromisoformat(answer.decision["requested_at"])
    assert news.is_set() and news.stored == answer


async def test_a_decision_whose_transaction_meets_a_conflict_is_stored_by_running_it_again(
    store: Store, polls: InboxWatch
) -> None:
    # As MongoDB ends a transaction that met the pending row an upload stored as its wait ran
    # out: the handler runs it again at once instead of leaving the message to its retries.
    commits: list[int] = []
    commit = store._commit  # type: ignore[attr-defined]

    async def conflicting_once() -> None:
        commits.append(1)
        if len(commits) == 1:
            raise TransactionConflict("write conflict")
        await commit()

    store._commit = conflicting_once  # type: ignore[attr-defined]
    answer, news = await _decided_with_copies(store, polls, "req-copy-3", "copy-1")
    assert len(commits) == 2
    assert await _inbox_of(store, "dev") == ["copy-1"]
    assert answer is not None and answer.status == "accepted"
    assert news.is_set() and news.stored == answer


async def test_a_copy_routed_before_the_upgrade_is_still_stored(
    store: Store, handlers: GatewayHandlers
) -> None:
    new = _routed_to("dev", "copy-1")
    old = DocumentRoutedV1(
        delivery_id="copy-1",
        request_id=new.request_id,
        process=new.process,
        version=1,
        channel="internet",
        target=new.copies[0].target,
        document=new.documents[0].model(),
        requested_at=new.requested_at,
    )
    await _apply(handlers, old)
    assert await _inbox_of(store, "dev") == ["copy-1"]


async def _inbox_of(store: Store, device_id: str) -> list[str]:
    return [r["id"] for r in await store.find(repo.INBOX.name, {"device_id": device_id})]


@pytest.mark.parametrize("replaced_first", [False, True])
async def test_a_copy_for_a_replaced_device_reaches_its_successor_in_either_order(
    store: Store, handlers: GatewayHandlers, replaced_first: bool
) -> None:
    """Routed just before the replace, the copy may arrive before or after the news of it."""
    events: list[Payload] = [
        _routed_to("old", "copy-1"),
        DeviceReplaced(old_device="old", new_device="new"),
    ]
    for event in reversed(events) if replaced_first else events:
        await _apply(handlers, event)
    assert await _inbox_of(store, "new") == ["copy-1"]
    assert await _inbox_of(store, "old") == []


async def test_a_copy_follows_a_chain_of_replacements(
    store: Store, handlers: GatewayHandlers
) -> None:
    await _apply(handlers, DeviceReplaced(old_device="first", new_device="second"))
    await _apply(handlers, DeviceReplaced(old_device="second", new_device="third"))
    await _apply(handlers, _routed_to("first", "copy-2"))
    await _apply(handlers, _routed_to("unrelated", "copy-3"))
    assert await _inbox_of(store, "third") == ["copy-2"]
    assert await _inbox_of(store, "unrelated") == ["copy-3"]


async def test_a_message_of_many_copies_stores_each_new_one_once_with_its_document(
    store: Store, handlers: GatewayHandlers
) -> None:
    """Copies of two documents for three devices, one of them replaced, one copy stored
    before by another message and one named twice: each new copy is stored once, for the
    device standing for its target, with its own document's body; the one stored before is
    left as it was."""
    await _apply(handlers, DeviceReplaced(old_device="old", new_device="new"))
    await _apply(handlers, _routed_to("dev-1", "copy-1"))
    before = await store.get(repo.INBOX.name, "copy-1")
    second = Document(
        header=DocumentHeader(accounting_type="Заказ поставщику", id="e", number="7"),
        lines=[DocumentLine(line_no=1, product_id="p-1", planned_qty=Decimal("1.5"))],
    )
    routed = _routed_to("dev-1", "copy-1", "copy-2", "copy-2")
    target = {"old": "copy-3", "dev-2": "copy-4"}
    routed = routed.model_copy(
        update={
            "documents": [*routed.documents, CarriedDocument.model_validate(second)],
            "copies": [
                *routed.copies,
                *(
                    RoutedCopy(
                        delivery_id=copy_id,
                        document_id="e",
                        version=1,
                        target=Target(kind="device", value=device_id),
                    )
                    for device_id, copy_id in target.items()
                ),
            ],
        }
    )
    await _apply(handlers, routed)
    assert sorted(await _inbox_of(store, "dev-1")) == ["copy-1", "copy-2"]
    assert await _inbox_of(store, "new") == ["copy-3"]
    assert await _inbox_of(store, "old") == []
    assert await _inbox_of(store, "dev-2") == ["copy-4"]
    assert await store.get(repo.INBOX.name, "copy-1") == before
    for copy_id, document in (("copy-2", "d"), ("copy-3", "e"), ("copy-4", "e")):
        row = await repo.copy(store, copy_id)
        body = await repo.copy_document(store, copy_id)
        assert row is not None and body is not None
        assert row.document_id == document and body["header"]["id"] == document
    body = await repo.copy_document(store, "copy-4")
    assert body is not None and body["lines"] == [second.lines[0].model_dump(mode="json")]
    row = await repo.copy(store, "copy-4")
    assert row is not None and row.lines_count == 1 and row.header["number"] == "7"


async def test_a_line_with_a_fraction_as_a_json_number_is_stored_as_the_model_writes_it(
    store: Store, handlers: GatewayHandlers
) -> None:
    """A publisher other than routing writes a quantity (and an extra's value) as a JSON
    number with a fraction: the copy is stored, its line as the model writes it."""
    routed = _routed_to("dev", "copy-1")
    line = DocumentLine(line_no=1, product_id="p-1").model_dump(mode="json")
    routed = routed.model_copy(
        update={
            "documents": [
                CarriedDocument.model_validate({**routed.documents[0].as_json(), "lines": [line]})
            ]
        }
    )
    message = orjson.loads(encode(wrap(routed, TENANT)))
    sent = message["payload"]["documents"][0]["lines"][0]
    sent["planned_qty"], sent["extra"] = 1.5, {"weight": 0.25}
    await _apply_body(handlers, orjson.dumps(message))
    body = await repo.copy_document(store, "copy-1")
    assert body is not None
    assert (body["lines"][0]["planned_qty"], body["lines"][0]["extra"]) == (
        "1.5",
        {"weight": "0.25"},
    )


async def test_a_document_id_named_twice_stores_the_first_document(
    store: Store, handlers: GatewayHandlers
) -> None:
    """As the registered model's ``document_of`` takes it: the first of the two."""
    routed = _routed_to("dev", "copy-1")
    first = routed.documents[0].as_json()
    second = {**first, "header": {**first["header"], "number": "second"}}
    routed = routed.model_copy(
        update={"documents": [*routed.documents, CarriedDocument.model_validate(second)]}
    )
    await _apply(handlers, routed)
    body = await repo.copy_document(store, "copy-1")
    assert body is not None and body["header"]["number"] == first["header"]["number"] == ""
    row = await repo.copy(store, "copy-1")
    assert row is not None and row.header["number"] == ""


def _device(
    device_id: str, status: str, revision: int, replaced_by: str | None = None
) -> DeviceChanged:
    view = DeviceView(
        id=device_id,
        tenant=TENANT,
        pin="5546",
        name="EDA50",
        model="EDA50",
        hardware_id=f"@HW-{device_id}",
        mode="online",
        status=status,
    )
    return DeviceChanged(
        device=view, credential_hash=f"h-{device_id}", revision=revision, replaced_by=replaced_by
    )


async def test_a_retirement_that_names_its_replacement_keeps_it_with_the_retirement(
    store: Store, handlers: GatewayHandlers
) -> None:
    # device.changed may come before device.replaced: the terminal is told "replaced" and its
    # later copies go to the new device from the retirement on.
    await _apply(handlers, _device("old", "active", 1))
    await _apply(handlers, _device("old", "retired", 2, replaced_by="new"))
    assert await repo.was_replaced(store, "old")
    await _apply(handlers, _routed_to("old", "copy-1"))
    assert await _inbox_of(store, "new") == ["copy-1"]


async def test_a_stale_or_foreign_retirement_keeps_no_replacement(
    store: Store, handlers: GatewayHandlers
) -> None:
    await _apply(handlers, _device("dev", "active", 3))
    await _apply(handlers, _device("dev", "retired", 2, replaced_by="new"))  # older than kept
    await _apply(handlers, _device("dev", "retired", 4, replaced_by="intruder"), "other")
    assert not await repo.was_replaced(store, "dev")


async def test_a_replaced_device_paired_again_gets_its_own_copies_again(
    store: Store, handlers: GatewayHandlers
) -> None:
    await _apply(handlers, _device("old", "retired", 2))
    await _apply(handlers, DeviceReplaced(old_device="old", new_device="new"))
    await _apply(handlers, _routed_to("old", "copy-1"))
    # Paired again, the device keeps its id: what is routed to it from now on is its own,
    # also once it is blocked later.
    await _apply(handlers, _device("old", "active", 3))
    await _apply(handlers, _routed_to("old", "copy-2"))
    await _apply(handlers, _device("old", "blocked", 4))
    await _apply(handlers, _routed_to("old", "copy-3"))
    assert await _inbox_of(store, "new") == ["copy-1"]
    assert sorted(await _inbox_of(store, "old")) == ["copy-2", "copy-3"]


async def test_a_replacement_told_for_another_tenant_redirects_nothing(
    store: Store, handlers: GatewayHandlers
) -> None:
    await _apply(handlers, DeviceReplaced(old_device="dev", new_device="intruder"), "other")
    await _apply(handlers, _routed_to("dev", "copy-1"))
    assert await _inbox_of(store, "dev") == ["copy-1"]
    assert await _inbox_of(store, "intruder") == []


async def test_a_replacement_of_another_tenants_device_is_refused_and_moves_nothing(
    store: Store, handlers: GatewayHandlers
) -> None:
    from shared.messaging.consumer import PermanentFailure

    await _apply(handlers, _device("dev", "active", 1))
    await _apply(handlers, _routed_to("dev", "copy-1"))
    with pytest.raises(PermanentFailure):
        await _apply(handlers, DeviceReplaced(old_device="dev", new_device="intruder"), "other")
    await _apply(handlers, _routed_to("dev", "copy-2"))
    assert sorted(await _inbox_of(store, "dev")) == ["copy-1", "copy-2"]
    assert await store.get(repo.REPLACEMENTS.name, "dev") is None


async def test_a_routed_copy_wakes_the_poll_waiting_for_its_device(
    handlers: GatewayHandlers, polls: InboxWatch
) -> None:
    with polls.watching("dev-7") as ticket, polls.watching("dev-8") as other:
        await _apply(handlers, _routed_to("dev-7", "copy-7"))
        assert await ticket.wait(30) is True
        assert await other.wait(0.01) is False


async def test_a_refusal_that_reopens_a_copy_wakes_its_device_s_poll(
    store: Store, handlers: GatewayHandlers, polls: InboxWatch
) -> None:
    await _inbox_row(store, state="done", last_result_id="r2")
    with polls.watching("dev-1") as ticket:
        await _apply(handlers, _refused("r2"))
        assert await ticket.wait(30) is True


async def test_the_safety_check_finds_copies_whose_news_was_missed(store: Store) -> None:
    """A copy stored by another instance whose announcement never came: found in the store."""
    other_instance = GatewayHandlers(UnitOfWork(store, None), Notifier(), _polls(store))
    await _apply(other_instance, _routed_to("dev-7", "copy-7"))
    await _apply(other_instance, _routed_to("dev-9", "copy-9"))
    here = _polls(store)
    with here.watching("dev-7") as missed, here.watching("dev-8") as quiet:
        assert await here.check_now() == 1
        assert await missed.wait(30) is True
        assert await quiet.wait(0.01) is False


def _returned(document_id: str, mode: Literal["online", "offline"]) -> DocumentReturned:
    return DocumentReturned(
        delivery_id=f"c-{document_id}",
        document_id=document_id,
        request_id="r-1",
        process="purchase-receipt",
        version=1,
        channel="internet",
        mode=mode,
        device_id="d1",
        header=DocumentHeader(accounting_type="Заказ поставщику", id=document_id, number="77"),
        code="returned_device_blocked",
        params={"document": document_id, "number": "77", "pin": "5546"},
    )


async def test_a_returned_document_is_listed_with_the_results_and_pushed_as_returned(
    store: Store, handlers: GatewayHandlers
) -> None:
    await _set_webhook(store)
    await _apply(handlers, _returned("doc-r", "online"))
    await _apply(handlers, _returned("doc-o", "offline"))

    summaries = [results.result_summary(d) for d in await repo.unloaded(store, TENANT)]
    listed = {r["document_id"]: r for r in summaries}
    assert {d: r["state"] for d, r in listed.items()} == {"doc-r": "returned", "doc-o": "returned"}
    returned = listed["doc-r"]["returned"]
    assert returned["code"] == "returned_device_blocked"
    assert returned["message"] == {
        "ru": "Документ 77 возвращён: устройство 5546 было заблокировано до выгрузки.",
        "en": "Document 77 was returned: device 5546 had been blocked before the upload.",
    }
    [push] = await store.find(repo.WEBHOOK_DELIVERIES.name)  # the online one only
    body = orjson.loads(push["body"])
    assert (push["event"], body["event"]) == ("document.returned", "document.returned")
    assert body["document"]["state"] == "returned"
    assert body["document"]["result"]["header"]["number"] == "77"
    assert body["document"]["result"]["lines"] == []


async def test_confirming_a_returned_document_tells_routing_nothing(
    store: Store, handlers: GatewayHandlers
) -> None:
    await _apply(handlers, _returned("doc-r", "offline"))
    async with UnitOfWork(store, None)() as tx:
        assert await results.mark_loaded(tx, TENANT, "doc-r") is True
    assert await repo.unloaded(store, TENANT) == []
    assert [
        r for r in await store.find(OUTBOX.name) if stored_envelope(r)["type"] == "document.loaded"
    ] == []


async def test_a_malformed_routed_message_is_parked_with_its_reason_and_stores_nothing(
    broker: Broker, settings: Settings, store: Store, handlers: GatewayHandlers
) -> None:
    """On the real consumer: a routed message whose lines are not objects is parked with the
    reason its view gives; a good one after it is stored."""
    consumer = Consumer(broker, GATEWAY_WORK, table(handlers), settings.retry_delays_ms, "gateway")
    await consumer.start()
    try:
        bad = orjson.loads(encode(wrap(_routed_to("dev", "copy-1"), TENANT)))
        bad["payload"]["documents"][0]["lines"] = ["not a line"]
        await broker.publish_to_queue(GATEWAY_WORK.name, orjson.dumps(bad), {}, message_id="bad")
        good = encode(wrap(_routed_to("dev", "copy-2"), TENANT))
        await broker.publish_to_queue(GATEWAY_WORK.name, good, {}, message_id="good")
        parked = await eventually(lambda: list_parked(broker, GATEWAY_WORK), what="parked")
        assert [p.message_id for p in parked] == ["bad"]
        assert "bad document.routed payload" in parked[0].reason
        assert "documents.0.lines.0: Input should be a valid dictionary" in parked[0].reason
        await eventually(lambda: _inbox_of(store, "dev"), what="the good copy stored")
        assert await _inbox_of(store, "dev") == ["copy-2"]
        assert await store.get(repo.INBOX_BODIES.name, "copy-1") is None
    finally:
        await consumer.stop()


# Held poll answers: every writer of an inbox forgets its device's answer ----------------------

_ANSWER = HeldAnswer.of(News(open=1, unacknowledged=False, withdrawn=False), b"{}", None)


def _hold(polls: InboxWatch, *devices: str) -> None:
    for device_id in devices:
        assert polls.summaries.keep(device_id, polls.summaries.reading(), _ANSWER)


def _held(polls: InboxWatch, *devices: str) -> list[str]:
    return [d for d in devices if polls.summaries.get(d) is not None]


async def test_a_refusal_that_reopens_a_copy_forgets_its_device_s_held_answer(
    store: Store, handlers: GatewayHandlers, polls: InboxWatch
) -> None:
    await _inbox_row(store, state="done", last_result_id="r2")
    _hold(polls, "dev-1", "dev-2")
    await _apply(handlers, _refused("r2"))
    assert _held(polls, "dev-1", "dev-2") == ["dev-2"]


async def test_a_replacement_forgets_the_held_answers_of_both_devices(
    handlers: GatewayHandlers, polls: InboxWatch
) -> None:
    await _apply(handlers, _routed_to("old", "copy-1"))
    _hold(polls, "old", "new", "other")
    await _apply(handlers, DeviceReplaced(old_device="old", new_device="new"))
    # The old device's answer still listed the copy that moved.
    assert _held(polls, "old", "new", "other") == ["other"]


async def test_a_routed_copy_applied_before_announces_its_device_again(
    handlers: GatewayHandlers, polls: InboxWatch
) -> None:
    """The instance that stored it may have stopped before it announced: the redelivery does."""
    routed = RoutedCopies.of(_routed_to("dev-7", "copy-7"))
    envelope = wrap(routed, TENANT)
    handle = table(handlers)[RoutedCopies]
    await handle(envelope, routed)
    _hold(polls, "dev-7", "dev-8")
    with polls.watching("dev-7") as ticket:
        with pytest.raises(AlreadyApplied):  # acknowledged by the consumer, changing nothing
            await handle(envelope, routed)
        assert await ticket.wait(30) is True
    assert _held(polls, "dev-7", "dev-8") == ["dev-8"]


async def test_a_withdrawal_applied_before_announces_its_device_again(
    handlers: GatewayHandlers, polls: InboxWatch
) -> None:
    await _apply(handlers, _routed_to("dev-7", "copy-7"))
    withdrawn = DocumentWithdrawn(delivery_id="copy-7", channel="internet", reason="recalled")
    envelope = wrap(withdrawn, TENANT)
    handle = table(handlers)[DocumentWithdrawn]
    await handle(envelope, withdrawn)
    _hold(polls, "dev-7")
    with pytest.raises(AlreadyApplied):
        await handle(envelope, withdrawn)
    assert _held(polls, "dev-7") == []


async def test_a_replacement_applied_before_announces_both_devices_again(
    handlers: GatewayHandlers, polls: InboxWatch
) -> None:
    replaced = DeviceReplaced(old_device="old", new_device="new")
    envelope = wrap(replaced, TENANT)
    handle = table(handlers)[DeviceReplaced]
    await handle(envelope, replaced)
    _hold(polls, "old", "new")
    with pytest.raises(AlreadyApplied):
        await handle(envelope, replaced)
    assert _held(polls, "old", "new") == []


async def test_a_message_of_no_inbox_applied_before_forgets_nothing(
    store: Store, handlers: GatewayHandlers, polls: InboxWatch
) -> None:
    event = _completed("doc-9", "offline")
    envelope = wrap(event, TENANT)
    handle = table(handlers)[DocumentCompleted]
    await handle(envelope, event)
    _hold(polls, "dev-1")
    with pytest.raises(AlreadyApplied):
        await handle(envelope, event)
    assert _held(polls, "dev-1") == ["dev-1"]
