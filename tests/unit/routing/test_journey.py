"""A document's journey: steps recorded once with the message that reported them, the timeline
naming each copy's device, and the search by id, number or PIN. On a real SQLite store of
routing's own, with no broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.routing import journey
from services.routing import repository as repo
from services.routing.journey import Journal
from shared.contracts import wrap
from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import DocumentHeader, Target
from shared.contracts.results import DocumentLoaded
from shared.errors import Refusal
from shared.storage import Store
from tests.support.stores import service_store

DOCUMENT = CarriedDocument(
    header=DocumentHeader(accounting_type="Заказ клиента", id="d-1", number="17")
)
DEVICE = {"id": "dev-1", "pin": "5546", "name": "EDA50"}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with service_store(tmp_path, "routing", repo.COLLECTIONS) as s:
        yield s


def _journal(store: Store, tenant: str = "t1") -> Journal:
    """The steps of one message (any will do: the journey only needs its id and time)."""
    payload = DocumentLoaded(document_id="d-1")
    return Journal(store, wrap(payload, tenant))


async def _routed_to_a_device(store: Store, tenant: str = "t1") -> None:
    async with _journal(store, tenant) as journal:
        journal.requested(DOCUMENT, "internet", {"kind": "pin", "value": "5546"})
        journal.add("d-1", "routed", service="routing", delivery_id="c-1", device=DEVICE)


async def _reported(store: Store, step: str, **details: Any) -> None:
    """One step of copy c-1, reported by a message of its own."""
    async with _journal(store) as journal:
        journal.add("d-1", step, service="gateway", delivery_id="c-1", **details)


async def test_a_copys_once_steps_are_kept_once_whatever_message_reports_them(
    store: Store,
) -> None:
    await _routed_to_a_device(store)
    for _ in range(2):  # two messages say the same
        await _reported(store, "delivered")
    steps = [s["step"] for s in await journey.timeline(store, "t1", "d-1")]
    assert steps == ["requested", "routed", "delivered"]


async def test_a_copys_once_step_named_twice_in_one_message_is_kept_the_first_time(
    store: Store,
) -> None:
    await _routed_to_a_device(store)
    async with _journal(store) as journal:
        journal.add("d-1", "delivered", service="gateway", delivery_id="c-1", at="2026-01-01")
        journal.add("d-1", "delivered", service="gateway", delivery_id="c-1", at="2026-01-02")
    [delivered] = [
        s for s in await journey.timeline(store, "t1", "d-1") if s["step"] == "delivered"
    ]
    assert delivered["at"] == "2026-01-01"


async def test_the_steps_of_a_message_whose_work_fails_are_not_written(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with _journal(store) as journal:
            journal.add("d-1", "routed", service="routing", delivery_id="c-1", device=DEVICE)
            raise RuntimeError("the transaction is rolled back")
    assert await journey.timeline(store, "t1", "d-1") == []


async def test_each_step_of_a_copy_names_its_device_or_the_replacement_that_reported_it(
    store: Store,
) -> None:
    await _routed_to_a_device(store)
    await _reported(store, "delivered")
    await _reported(store, "downloaded", device_id="dev-2")
    *_, delivered, downloaded = await journey.timeline(store, "t1", "d-1")
    assert delivered["device"] == DEVICE
    assert downloaded["device"] == {"id": "dev-2"}  # not in the directory's copy: by its id
    assert "device_id" not in downloaded  # shown as the device, not as a raw field

    # Known to routing's copy of the directory, the replacement is named by its PIN and name,
    # from the step that moved the copy to it on.
    replacement = repo.ReplicaDevice(
        id="dev-2", tenant="t1", pin="5546", name="EDA51", model="", hardware_id="@HW-2",
        mode="online", status="active", revision=1,
    )  # fmt: skip
    await store.run_transaction(lambda db: repo.keep_device(db, replacement))
    moved_to = {"kind": "device", "value": "dev-2"}
    await _reported(store, "moved", target=moved_to, from_device="dev-1")
    *_, downloaded, moved = await journey.timeline(store, "t1", "d-1")
    named = {"id": "dev-2", "pin": "5546", "name": "EDA51"}
    assert (downloaded["device"], moved["device"]) == (named, named)


async def test_a_refused_upload_has_a_journey_without_a_master_record(store: Store) -> None:
    async with _journal(store) as journal:
        journal.requested(DOCUMENT, "internet", {"kind": "pin", "value": "0000"})
        journal.add("d-1", "refused", service="routing", code="device_not_found_by_pin")
    view = await journey.journey_view(store, "t1", "d-1")
    assert view is not None
    assert (view["state"], view["number"], view["version"]) == ("refused", "17", None)
    assert await journey.journey_view(store, "t2", "d-1") is None  # another base's is unknown
    with pytest.raises(Refusal) as refused:
        await journey.document_view(store, "t1", "d-1")
    assert refused.value.code == "not_found"


async def test_documents_are_found_by_id_number_or_pin_in_one_base_or_all(store: Store) -> None:
    await _routed_to_a_device(store, "t1")
    await _routed_to_a_device(store, "t2")
    for query in ("d-1", "17", "5546"):
        assert [m["tenant"] for m in await journey.find(store, "t1", query)] == ["t1"]
    assert sorted(m["tenant"] for m in await journey.find(store, None, "5546")) == ["t1", "t2"]
    assert await journey.find(store, "t1", "nothing-like-it") == []


async def _queued_on_dev_1(store: Store) -> None:
    """Document d-1, version 2 waiting on dev-1 (copy c-2), an older copy c-1 withdrawn."""
    key = repo.document_key("t1", "d-1")
    await repo.put_document(
        store,
        repo.DocumentRecord(
            id=key,
            tenant="t1",
            document_id="d-1",
            process="picking",
            process_snapshot=None,
            request_id="r-2",
            channel="internet",
            target=None,
            version=2,
            state="queued",
            uploaded_at=datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        ),
    )
    for delivery_id, version, at in (("c-2", 2, "2026-01-02"), ("c-1", 1, "2026-01-01")):
        await repo.add_copy(
            store,
            repo.CopyRecord(
                id=delivery_id,
                tenant="t1",
                document_key=key,
                request_id=f"r-{version}",
                channel="internet",
                target=Target(kind="device", value="dev-1"),
                copy="shared",
                mode="online",
                version=version,
                state="routed" if version == 2 else "withdrawn",
                routed_at=at,
                withdrawn_reason=None if version == 2 else "replaced",
            ),
        )


async def test_the_master_record_view_lists_the_copies_in_order(store: Store) -> None:
    await _queued_on_dev_1(store)
    view = await journey.document_view(store, "t1", "d-1")
    assert (view["version"], view["state"], view["target"]) == (2, "queued", None)
    assert [(c["delivery_id"], c["withdrawn_reason"]) for c in view["copies"]] == [
        ("c-1", "replaced"),
        ("c-2", None),
    ]


async def test_a_copy_waiting_on_a_blocked_device_says_so_last_in_the_timeline(
    store: Store,
) -> None:
    await _routed_to_a_device(store)
    await _queued_on_dev_1(store)
    device = repo.ReplicaDevice(
        id="dev-1", tenant="t1", pin="5546", name="EDA50", model="", hardware_id="@HW-1",
        mode="online", status="active", revision=1,
    )  # fmt: skip
    await store.run_transaction(lambda db: repo.keep_device(db, device))
    view = await journey.journey_view(store, "t1", "d-1")
    assert view is not None and "held" not in [s["step"] for s in view["timeline"]]

    blocked = replace(device, status="blocked", revision=2)
    await store.run_transaction(lambda db: repo.keep_device(db, blocked))
    view = await journey.journey_view(store, "t1", "d-1")
    assert view is not None
    held = view["timeline"][-1]
    assert (held["step"], held["delivery_id"], held["code"]) == ("held", "c-2", "device_blocked")
    assert held["device"] == DEVICE  # the live copy only: c-1 was withdrawn
