"""Routing's copy of the directory on real SQLite: the version rule, what the upload path reads
from it, and what becomes of copies routed to a device routing learned too late was blocked,
retired or replaced. No broker: events go to the outbox and stay there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.routing import late_returns, states
from services.routing import repository as repo
from services.routing.directory_replica import (
    DirectoryReplica,
    ReplicaNotReady,
    directory_view,
    missing_facts,
    skipped,
)
from services.routing.rules import EVERYONE, Lookups
from shared.contracts import registry_rpc
from shared.contracts.directory import DeviceChanged, DeviceView, PeopleChanged
from shared.contracts.envelope import Envelope, wrap
from shared.messaging.consumer import PermanentFailure
from shared.outbox import OUTBOX, UnitOfWork, stored_envelope
from shared.storage import Store
from tests.support.stores import service_store
from tests.support.waiting import eventually

T0 = datetime(2026, 12, 5, 9, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with service_store(tmp_path, "routing", repo.COLLECTIONS) as s:
        yield s


@pytest.fixture
async def replica(store: Store) -> AsyncIterator[DirectoryReplica]:
    made = DirectoryReplica(store, UnitOfWork(store, None), rpc=None)  # type: ignore[arg-type]
    yield made
    # A catch-up a test started (with no registry to ask) would go on trying, and logging,
    # on the session's event loop through every later test.
    await made.stop()


def changed(
    revision: int,
    status: str = "active",
    *,
    device: str = "d1",
    pin: str = "5546",
    tenant: str = "sklad",
    replaced_by: str | None = None,
) -> DeviceChanged:
    view = DeviceView(
        id=device,
        tenant=tenant,
        pin=pin,
        name=f"ТСД {device}",
        model="EDA50",
        hardware_id=f"hw-{device}",
        mode="online",
        status=status,
    )
    return DeviceChanged(
        device=view, credential_hash="h" * 64, revision=revision, replaced_by=replaced_by
    )


def at(payload: Any, moment: datetime, tenant: str = "sklad") -> Envelope:
    envelope = wrap(payload, tenant)
    return envelope.model_copy(update={"time": moment})


async def _ready(store: Store) -> None:
    await repo.mark_snapshot_applied(store)


async def _outbox(store: Store, kind: str) -> list[dict[str, Any]]:
    rows = await store.find(OUTBOX.name, order_by="seq")
    return [stored_envelope(r)["payload"] for r in rows if stored_envelope(r)["type"] == kind]


# The version rule ----------------------------------------------------------------------------


async def test_a_newer_revision_replaces_the_copy_and_an_older_one_arriving_late_does_not(
    store: Store, replica: DirectoryReplica
) -> None:
    await replica.device_changed(at(changed(1), T0), changed(1))
    await replica.device_changed(at(changed(3, "blocked"), T0), changed(3, "blocked"))
    await replica.device_changed(at(changed(2), T0), changed(2))  # late: blocked stays

    kept = await repo.replica_device(store, "d1")
    assert kept is not None and (kept.status, kept.revision) == ("blocked", 3)


async def test_the_same_revision_again_changes_nothing(store: Store) -> None:
    first = repo.ReplicaDevice("d1", "sklad", "5546", "ТСД", "EDA50", "hw", "online", "active", 2)
    assert await repo.keep_device(store, first) is True
    again = repo.ReplicaDevice("d1", "sklad", "5546", "Иное", "EDA50", "hw", "online", "active", 2)
    assert await repo.keep_device(store, again) is False
    assert await repo.replica_device(store, "d1") == first


async def test_people_follow_the_same_rule(store: Store, replica: DirectoryReplica) -> None:
    newer = PeopleChanged(tenant="sklad", users=["a", "b"], groups={"Смена": ["b"]}, revision=5)
    older = PeopleChanged(tenant="sklad", users=["a"], groups={}, revision=4)
    await replica.people_changed(at(newer, T0), newer)
    await replica.people_changed(at(older, T0), older)

    kept = await repo.replica_people(store, "sklad")
    assert kept is not None and (kept.users, kept.groups, kept.revision) == (
        ["a", "b"],
        {"Смена": ["b"]},
        5,
    )


async def test_a_record_in_another_bases_envelope_is_parked_and_changes_nothing(
    store: Store, replica: DirectoryReplica
) -> None:
    await replica.device_changed(at(changed(1), T0), changed(1))
    with pytest.raises(PermanentFailure):
        await replica.device_changed(at(changed(2, "blocked"), T0, "mira"), changed(2, "blocked"))
    people = PeopleChanged(tenant="sklad", users=["a"], groups={}, revision=2)
    with pytest.raises(PermanentFailure):
        await replica.people_changed(at(people, T0, "mira"), people)

    kept = await repo.replica_device(store, "d1")
    assert kept is not None and kept.status == "active"
    assert await repo.replica_people(store, "sklad") is None


# What the upload path reads ------------------------------------------------------------------


async def test_an_empty_replica_defers_the_upload_instead_of_refusing_it(store: Store) -> None:
    with pytest.raises(ReplicaNotReady):
        await directory_view(store, "sklad", Lookups(device_pin="5546"))


async def test_the_view_finds_the_tenant_s_devices_a_blocked_one_as_not_active(
    store: Store, replica: DirectoryReplica
) -> None:
    await _ready(store)
    for change in (
        changed(1, device="d1", pin="5546"),
        changed(1, device="d2", pin="77", tenant="mira"),
        changed(2, "blocked", device="d3", pin="12"),
    ):
        await replica.device_changed(at(change, T0, change.device.tenant), change)

    by_pin = await directory_view(store, "sklad", Lookups(device_pin="5546"))
    assert by_pin.device is not None and by_pin.device.id == "d1"
    assert (await directory_view(store, "sklad", Lookups(device_pin="77"))).device is None
    # A blocked device keeps its PIN: found by it, as not active (refused as blocked).
    blocked_by_pin = (await directory_view(store, "sklad", Lookups(device_pin="12"))).device
    assert blocked_by_pin is not None and (blocked_by_pin.id, blocked_by_pin.active) == (
        "d3",
        False,
    )
    other = await directory_view(store, "sklad", Lookups(device_id="d2"))
    assert other.device is None  # another base's device is as unknown as a missing one
    blocked = await directory_view(store, "sklad", Lookups(device_id="d3"))
    assert blocked.device is not None and not blocked.device.active
    available = await directory_view(store, "sklad", Lookups(available_devices=True))
    assert [d.id for d in available.available_devices] == ["d1"]
    assert missing_facts(Lookups(device_id="d3"), blocked)
    assert not missing_facts(Lookups(device_pin="5546"), by_pin)


async def test_members_of_a_group_and_of_everyone(store: Store, replica: DirectoryReplica) -> None:
    await _ready(store)
    people = PeopleChanged(tenant="sklad", users=["b", "a"], groups={"Смена": ["b"]}, revision=2)
    await replica.people_changed(at(people, T0), people)

    async def members(group: str, tenant: str = "sklad") -> list[str]:
        view = await directory_view(store, tenant, Lookups(members_of=group))
        return list(view.members[group])

    assert await members("Смена") == ["b"]
    assert await members(EVERYONE) == ["a", "b"]
    assert await members("everyone") == ["a", "b"]
    assert await members("Нет такой") == []
    assert await members("Смена", "mira") == []


# Copies routed too late ----------------------------------------------------------------------


async def _routed_copy(store: Store, delivery: str, routed_at: datetime, state: str) -> None:
    key = repo.document_key("sklad", f"doc-{delivery}")
    await store.put(
        repo.DOCUMENTS.name,
        {
            "id": key,
            "tenant": "sklad",
            "document_id": f"doc-{delivery}",
            "process": "order",
            "version": 1,
            "state": states.QUEUED,
        },
    )
    await store.put(
        repo.DELIVERIES.name,
        {
            "id": delivery,
            "tenant": "sklad",
            "document_key": key,
            "request_id": f"r-{delivery}",
            "channel": "internet",
            "target": {"kind": "device", "value": "d1"},
            "copy": "shared",
            "mode": "online",
            "version": 1,
            "state": state,
            "routed_at": routed_at.isoformat(),
        },
    )


async def test_copies_routed_after_a_block_are_returned_and_earlier_ones_stay(
    store: Store, replica: DirectoryReplica
) -> None:
    await replica.device_changed(at(changed(1), T0), changed(1))
    blocked_at = T0 + timedelta(minutes=5)
    await _routed_copy(store, "before", blocked_at - timedelta(seconds=1), states.DELIVERED)
    await _routed_copy(store, "after", blocked_at + timedelta(milliseconds=20), states.ROUTED)
    await _routed_copy(store, "taken", blocked_at + timedelta(milliseconds=30), states.DOWNLOADED)

    block = changed(2, "blocked")
    await replica.device_changed(at(block, blocked_at), block)

    copies = {c["id"]: c for c in await store.find(repo.DELIVERIES.name)}
    assert copies["before"]["state"] == states.DELIVERED
    assert copies["taken"]["state"] == states.DOWNLOADED
    assert (copies["after"]["state"], copies["after"]["returned_code"]) == (
        "withdrawn",
        "returned_device_blocked",
    )
    master = await repo.document(store, repo.document_key("sklad", "doc-after"))
    assert master is not None and master.state == states.RETURNED
    [returned] = await _outbox(store, "document.returned")
    assert (returned["delivery_id"], returned["code"], returned["params"]["pin"]) == (
        "after",
        "returned_device_blocked",
        "5546",
    )
    [withdrawn] = await _outbox(store, "document.withdrawn")
    assert withdrawn["delivery_id"] == "after"
    steps = await store.find(repo.JOURNEY.name, {"document_id": "doc-after"})
    assert [s["step"] for s in steps] == ["returned"]


async def test_the_same_block_applied_twice_returns_nothing_more(
    store: Store, replica: DirectoryReplica
) -> None:
    await _routed_copy(store, "after", T0 + timedelta(seconds=1), states.ROUTED)
    retire = changed(2, "retired")
    await replica.device_changed(at(retire, T0), retire)
    await replica.device_changed(at(retire, T0), retire)  # another instance's redelivery
    [returned] = await _outbox(store, "document.returned")
    assert returned["code"] == "returned_device_retired"


async def test_copies_of_a_replaced_device_move_to_its_successor_not_back_to_accounting(
    store: Store, replica: DirectoryReplica
) -> None:
    await _routed_copy(store, "waiting", T0 - timedelta(minutes=1), states.DELIVERED)
    await _routed_copy(store, "in-flight", T0 + timedelta(seconds=1), states.ROUTED)
    retire = changed(4, "retired", replaced_by="d9")
    await replica.device_changed(at(retire, T0), retire)

    copies = await store.find(repo.DELIVERIES.name)
    assert {c["id"]: c["target"]["value"] for c in copies} == {"waiting": "d9", "in-flight": "d9"}
    assert {c["state"] for c in copies} == {states.DELIVERED, states.ROUTED}
    assert await _outbox(store, "document.returned") == []
    moved = await store.find(repo.JOURNEY.name, {"step": "moved"})
    assert sorted(s["delivery_id"] for s in moved) == ["in-flight", "waiting"]


def test_only_copies_routed_at_or_after_the_change_count_as_too_late() -> None:
    routed_at = T0.isoformat()
    assert late_returns.routed_since(routed_at, T0)
    assert not late_returns.routed_since(routed_at, T0 + timedelta(microseconds=1))


# Catching up from the registry's snapshot ---------------------------------------------------


class SnapshotPages:
    """Stands in for the registry's ``directory.snapshot``: the pages given, in order."""

    def __init__(self, *pages: registry_rpc.DirectorySnapshot) -> None:
        self.pages = list(pages)
        self.asked: list[dict[str, Any]] = []

    async def call(
        self, method: object, params: registry_rpc.SnapshotPage, tenant: str | None = None
    ) -> registry_rpc.DirectorySnapshot:
        assert method is registry_rpc.Registry.directory_snapshot
        self.asked.append(params.model_dump(exclude_none=True))
        return self.pages[len(self.asked) - 1]


def page(
    *devices: DeviceChanged, next_: str | None, people: tuple[PeopleChanged, ...] = ()
) -> registry_rpc.DirectorySnapshot:
    return registry_rpc.DirectorySnapshot(devices=list(devices), people=list(people), next=next_)


async def test_a_snapshot_is_read_page_by_page_and_applied_by_the_version_rule(
    store: Store,
) -> None:
    people = PeopleChanged(tenant="sklad", users=["a"], groups={}, revision=3)
    registry = SnapshotPages(
        page(
            changed(1, device="d1"),
            changed(2, "blocked", device="d2"),
            next_="d2",
            people=(people,),
        ),
        page(changed(1, device="d3", pin="77"), next_=None),
    )
    replica = DirectoryReplica(store, UnitOfWork(store, None), registry)  # type: ignore[arg-type]
    # A newer revision than the snapshot's is already here (its event came first).
    newer = changed(5, "retired", device="d1")
    await replica.device_changed(at(newer, T0), newer)

    assert await replica.catch_up() == 4
    assert [p.get("after") for p in registry.asked] == [None, "d2"]
    kept = {d.id: (d.status, d.revision) for d in await repo.replica_devices(store, "sklad")}
    assert kept == {"d1": ("retired", 5), "d2": ("blocked", 2), "d3": ("active", 1)}
    assert await repo.snapshot_applied_at(store) is not None
    assert (await repo.replica_people(store, "sklad")) is not None


def test_a_revision_that_skips_one_means_an_event_was_missed() -> None:
    assert skipped(1, 3)
    assert not skipped(1, 2)
    assert not skipped(3, 2)  # late, not missing
    assert not skipped(None, 7)  # a record first heard of


async def test_a_skipped_revision_starts_a_catch_up(store: Store) -> None:
    registry = SnapshotPages(page(changed(3, "blocked"), next_=None))
    replica = DirectoryReplica(store, UnitOfWork(store, None), registry)  # type: ignore[arg-type]
    await replica.device_changed(at(changed(1), T0), changed(1))
    assert registry.asked == []

    await replica.device_changed(at(changed(3, "blocked"), T0), changed(3, "blocked"))
    await eventually(
        lambda: repo.snapshot_applied_at(store), until=bool, what="the catch-up applied"
    )
    assert len(registry.asked) == 1
    await replica.stop()
