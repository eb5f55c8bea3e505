"""What the LAN base learns over the broker (copies, withdrawals, refused results, barcode
settings), as use cases on a real SQLite store: no broker, messages handed in directly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.lan_writer import repository as repo
from services.lan_writer.broker_news import BrokerNews
from services.lan_writer.copy_changes import CopyNotStored
from services.lan_writer.user_actions import UserActions
from shared.contracts import wrap
from shared.contracts.directory import BarcodeSettings, TenantChanged
from shared.contracts.documents import FactLine, Target
from shared.contracts.results import ResultRefused
from shared.contracts.uploads import DocumentRoutedV1, DocumentWithdrawn
from shared.messaging.consumer import PermanentFailure
from shared.storage import Store
from tests.unit.lan_writer.conftest import GROUP, IVANOV, TENANT, deliver, emitted, routed


async def test_the_same_copy_delivered_twice_is_stored_once(news: BrokerNews, store: Store) -> None:
    copy = routed("c-1", Target(kind="user", value="ivanov"))
    await deliver(news, copy)
    await deliver(news, copy)
    assert len(await store.find(repo.DOCUMENTS.name)) == 1
    assert [e["state"] for e in await emitted(store, "delivery.progressed")] == ["delivered"]


async def test_a_group_upload_comes_as_one_message_of_its_copies(
    news: BrokerNews, store: Store
) -> None:
    first = routed("c-1", GROUP)
    second = routed("c-2", Target(kind="user", value="petrov")).copies[0]
    both = first.model_copy(update={"copies": [*first.copies, second]})
    await deliver(news, both)
    stored = sorted(row["id"] for row in await store.find(repo.DOCUMENTS.name))
    assert stored == ["c-1", "c-2"]
    progress = await emitted(store, "delivery.progressed")
    assert [(e["delivery_id"], e["state"]) for e in progress] == [
        ("c-1", "delivered"),
        ("c-2", "delivered"),
    ]


async def test_a_copy_routed_before_the_upgrade_is_still_stored(
    news: BrokerNews, store: Store
) -> None:
    new = routed("c-1", GROUP)
    old = DocumentRoutedV1(
        delivery_id="c-1",
        request_id=new.request_id,
        process=new.process,
        version=1,
        channel="lan",
        target=GROUP,
        document=new.documents[0].model(),
        requested_at=new.requested_at,
    )
    await news.routed_v1(wrap(old, TENANT), old)
    [row] = await store.find(repo.DOCUMENTS.name)
    assert (row["id"], row["document_id"]) == ("c-1", "d-1")


@pytest.mark.parametrize(
    "target",
    [Target(kind="user", value=None), Target(kind="pin", value="5546")],
)
async def test_a_copy_for_an_unusable_target_is_refused_for_good(
    news: BrokerNews, store: Store, target: Target
) -> None:
    with pytest.raises(PermanentFailure):
        await deliver(news, routed("c-1", target))
    assert await store.find(repo.DOCUMENTS.name) == []


async def test_an_internet_copy_is_not_the_lan_bases(news: BrokerNews, store: Store) -> None:
    copy = routed("c-1", GROUP).model_copy(update={"channel": "internet"})
    with pytest.raises(PermanentFailure):
        await news.routed(wrap(copy, TENANT), copy)
    assert await store.find(repo.DOCUMENTS.name) == []


async def test_a_withdrawal_takes_the_copy_away_once(news: BrokerNews, users: UserActions) -> None:
    await deliver(news, routed("c-1", GROUP))
    withdrawn = DocumentWithdrawn(delivery_id="c-1", channel="lan", reason="replaced")
    await news.withdraw(wrap(withdrawn, TENANT), withdrawn)
    copy = await users.copy_for(IVANOV, "c-1")
    assert (copy.state, copy.lock.withdrawn_reason) == ("withdrawn", "replaced")
    await news.withdraw(wrap(withdrawn, TENANT), withdrawn)  # again: nothing changes
    assert (await users.copy_for(IVANOV, "c-1")).revision == copy.revision


async def test_a_withdrawal_of_another_base_or_of_no_copy_yet(news: BrokerNews) -> None:
    await deliver(news, routed("c-1", GROUP))
    withdrawn = DocumentWithdrawn(delivery_id="c-1", channel="lan", reason="replaced")
    with pytest.raises(PermanentFailure):  # parked: it can never apply
        await news.withdraw(wrap(withdrawn, "elsewhere"), withdrawn)
    early = DocumentWithdrawn(delivery_id="c-2", channel="lan", reason="replaced")
    with pytest.raises(CopyNotStored):  # retried: the copy is on its way
        await news.withdraw(wrap(early, TENANT), early)


async def test_a_refused_final_result_puts_the_user_back_to_work(
    news: BrokerNews, users: UserActions, store: Store
) -> None:
    await deliver(news, routed("c-1", Target(kind="user", value="ivanov")))
    await users.take(IVANOV, "c-1")
    lines = [FactLine(line_no=1, product_id="p-1", quantity=Decimal("9"))]
    sent = await users.submit(IVANOV, "c-1", "r-1", True, lines)
    assert (await users.copy_for(IVANOV, "c-1")).state == "done"
    refused = ResultRefused(
        result_id=sent.id,
        delivery_id="c-1",
        channel="lan",
        code="quantity_exceeds_plan",
        params={"line": 1},
    )
    await news.result_refused(wrap(refused, TENANT), refused)
    copy = await users.copy_for(IVANOV, "c-1")
    assert copy.state == "taken" and copy.lock.logins == ("ivanov",)
    assert copy.refusals["ivanov"]["code"] == "quantity_exceeds_plan"
    record = await repo.sent_result(store, sent.id)
    assert record is not None and (record.status, record.code) == (
        "refused",
        "quantity_exceeds_plan",
    )
    # The corrected result supersedes the refusal.
    await users.submit(IVANOV, "c-1", "r-2", True, lines)
    assert (await users.copy_for(IVANOV, "c-1")).refusals == {}


async def test_a_refusal_of_an_unknown_result_is_parked(news: BrokerNews) -> None:
    refused = ResultRefused(
        result_id="nobody-sent-it", delivery_id="c-1", channel="lan", code="x", params={}
    )
    with pytest.raises(PermanentFailure):
        await news.result_refused(wrap(refused, TENANT), refused)


def _tenant_changed(revision: int, prefix: str) -> TenantChanged:
    barcodes = BarcodeSettings.model_validate({"weight_prefixes": [prefix]})
    return TenantChanged.model_validate(
        {
            "tenant": TENANT,
            "name": "Склад",
            "api_key_hash": "h",
            "status": "active",
            "revision": revision,
            "barcodes": barcodes.model_dump(),
        }
    )


async def test_barcode_settings_keep_their_newest_revision(
    news: BrokerNews, users: UserActions
) -> None:
    newer, older = _tenant_changed(3, "22"), _tenant_changed(2, "23")
    await news.tenant_changed(wrap(newer, TENANT), newer)
    await news.tenant_changed(wrap(older, TENANT), older)  # late: changes nothing
    assert await users.barcode_settings(IVANOV) == newer.barcodes
