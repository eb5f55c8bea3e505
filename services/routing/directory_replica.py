"""Routing's own copy of the registry's directory: devices and each base's people, kept by the
registry's events, so that deciding an upload asks no one.

- ``device.changed`` and ``people.changed`` carry the record's new state and its revision; a
  copy is replaced only by a newer revision, so an event arriving late never undoes a newer
  one (the version rule, ``shared/replicas.py``). A device's change that routing learns of
  may concern copies already routed to it (late_returns.py), settled in the same transaction.
- A replica that starts empty, or knows it fell behind, asks the registry for a snapshot
  (``directory.snapshot``, page by page) and applies it by the same rule. It knows it fell
  behind when a record's revision skips one (every revision is announced, so an event was
  lost or parked): one catch-up at a time runs in the background. Until a snapshot was
  applied once, an upload is not decided: it waits in its queue (retried), rather than being
  refused on facts routing does not have yet.
- The event of a change may still be on its way when an upload naming the changed record
  arrives (a terminal paired a moment ago, its PIN typed at once). An upload whose directory
  facts are missing is therefore decided only once it is ``LAG_ALLOWANCE_S`` old, waiting for
  the replica's next change meanwhile: a wrong PIN is refused a moment later than a right one
  is accepted, never a right one refused.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from services.routing import late_returns
from services.routing import repository as repo
from services.routing.repository import ReplicaDevice, ReplicaPeople
from services.routing.rules import DeviceInfo, DirectoryView, Lookups
from shared.clock import now
from shared.contracts import Envelope
from shared.contracts import registry_rpc as registry
from shared.contracts.directory import DeviceChanged, DeviceChangedV1, PeopleChanged
from shared.contracts.registry_rpc import Registry
from shared.logging import get_logger
from shared.messaging.consumer import require_same_tenant
from shared.messaging.rpc import RpcClient, RpcTimeout
from shared.outbox import UnitOfWork
from shared.storage import Session, Store
from shared.tasks import cancel_and_wait

log = get_logger("tsdx.routing")

SNAPSHOT_PAGE = 500
# How long after an upload was asked a missing directory fact is taken as missing for good.
LAG_ALLOWANCE_S = 1.0
# Pauses between attempts to fetch a snapshot while the registry does not answer.
RETRY_PAUSES_S = (0.5, 1, 2, 5)


class ReplicaNotReady(RpcTimeout):
    """No snapshot of the directory was applied yet: the upload is tried again later, as it
    was when the registry did not answer a look-up (deferred without using up its retries)."""


def replica_device(changed: DeviceChanged) -> ReplicaDevice:
    # Field by field, alike in shape to the LAN writer's current_user (lan_writer/auth.py) and
    # other conversions between two types of their own.
    view = changed.device
    return ReplicaDevice(
        id=view.id,
        tenant=view.tenant,
        pin=view.pin,
        name=view.name,
        model=view.model,
        hardware_id=view.hardware_id,
        mode=view.mode,
        status=view.status,
        revision=changed.revision,
        replaced_by=changed.replaced_by,
    )


def replica_people(changed: PeopleChanged) -> ReplicaPeople:
    return ReplicaPeople(changed.tenant, changed.users, changed.groups, changed.revision)


def device_info(device: ReplicaDevice) -> DeviceInfo:
    return DeviceInfo(device.id, device.pin, device.name, device.status, device.mode, device.tenant)


class ReplicaNews:
    """Wakes those waiting for the replica's next change (in this process; any other process
    sharing the store is caught by the waiter's deadline)."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def announce(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, timeout: float) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)


NEWS = ReplicaNews()


def missing_facts(lookups: Lookups, view: DirectoryView) -> bool:
    """Whether a fact the lookups ask for is absent, or a named device is not active."""
    named_device = lookups.device_pin is not None or lookups.device_id is not None
    return (
        (named_device and (view.device is None or not view.device.active))
        or (lookups.available_devices and not view.available_devices)
        or (lookups.members_of is not None and not view.members.get(lookups.members_of))
    )


async def fresh_view(
    db: Session, tenant: str, lookups: Lookups, requested_at: datetime
) -> DirectoryView:
    """The facts ``lookups`` asks for; when some are missing, read again after each change of
    the replica until the request is ``LAG_ALLOWANCE_S`` old."""
    while True:
        view = await directory_view(db, tenant, lookups)
        left = LAG_ALLOWANCE_S - (now() - requested_at).total_seconds()
        if left <= 0 or not missing_facts(lookups, view):
            return view
        await NEWS.wait(left)


async def directory_view(db: Session, tenant: str, lookups: Lookups) -> DirectoryView:
    """The facts ``lookups`` asks for, from the replica only (the same view the registry gave)."""
    if await repo.snapshot_applied_at(db) is None:
        raise ReplicaNotReady("the directory replica has not been filled from the registry yet")
    device = None
    available: list[DeviceInfo] = []
    members: dict[str, list[str]] = {}
    if lookups.device_pin is not None:
        found = await repo.replica_device_by_pin(db, tenant, lookups.device_pin)
        device = device_info(found) if found is not None else None
    if lookups.device_id is not None:
        found = await repo.replica_device(db, lookups.device_id)
        device = device_info(found) if found is not None and found.tenant == tenant else None
    if lookups.available_devices:
        active = await repo.replica_devices(db, tenant, "active")
        available = [device_info(d) for d in active]
    if lookups.members_of is not None:
        people = await repo.replica_people(db, tenant)
        if people is None:
            members[lookups.members_of] = []
        elif lookups.members_of == "*" or lookups.members_of.casefold() == "everyone":
            members[lookups.members_of] = sorted(people.users)
        else:
            members[lookups.members_of] = list(people.groups.get(lookups.members_of, []))
    return DirectoryView(device=device, available_devices=available, members=members)


def skipped(current: int | None, incoming: int) -> bool:
    """Whether a record's incoming revision skips one after the copy's (a first one never)."""
    return current is not None and incoming > current + 1


class DirectoryReplica:
    def __init__(self, store: Store, uow: UnitOfWork, rpc: RpcClient) -> None:
        self._store = store
        self._uow = uow
        self._rpc = rpc
        self._catching_up: asyncio.Task[None] | None = None

    def fell_behind(self) -> None:
        """Catch up with the registry in the background, unless a catch-up is under way."""
        if self._catching_up is None or self._catching_up.done():
            self._catching_up = asyncio.create_task(self.keep_catching_up())

    async def stop(self) -> None:
        await cancel_and_wait(self._catching_up)

    async def device_changed(self, envelope: Envelope, changed: DeviceChanged) -> None:
        device = replica_device(changed)
        # A base's record comes in that base's envelope; any other is parked, changing nothing.
        require_same_tenant(envelope, device.row(), "device")
        async with self._uow(applying=envelope) as tx:
            current = await repo.replica_device(tx.db, device.id)
            kept = await repo.keep_device(tx.db, device)
            if kept:
                await late_returns.settle(tx, envelope, device)
        if kept:
            NEWS.announce()
        if skipped(current.revision if current else None, device.revision):
            self.fell_behind()

    async def device_changed_v1(self, envelope: Envelope, changed: DeviceChangedV1) -> None:
        """A change published before an upgrade (an older version of the event)."""
        await self.device_changed(envelope, changed.upgraded())

    async def people_changed(self, envelope: Envelope, changed: PeopleChanged) -> None:
        require_same_tenant(envelope, {"id": changed.tenant, "tenant": changed.tenant}, "people")
        async with self._uow(applying=envelope) as tx:
            current = await repo.replica_people(tx.db, changed.tenant)
            kept = await repo.keep_people(tx.db, replica_people(changed))
        if kept:
            NEWS.announce()
        if skipped(current.revision if current else None, changed.revision):
            self.fell_behind()

    async def catch_up(self) -> int:
        """Apply the registry's snapshot, page by page; the number of records it held."""
        applied = 0
        after: str | None = None
        while True:
            params = registry.SnapshotPage(after=after, limit=SNAPSHOT_PAGE)
            page = await Registry(self._rpc).directory_snapshot(params)
            async with self._uow() as tx:
                for changed in page.devices:
                    await repo.keep_device(tx.db, replica_device(changed))
                for people in page.people:
                    await repo.keep_people(tx.db, replica_people(people))
                applied += len(page.devices) + len(page.people)
                if page.next is None:
                    await repo.mark_snapshot_applied(tx.db)
            NEWS.announce()
            if page.next is None:
                log.info("directory.caught_up", records=applied)
                return applied
            after = page.next

    async def keep_catching_up(self) -> None:
        """Catch up, trying again while the registry cannot answer (it may start later)."""
        attempt = 0
        while True:
            try:
                await self.catch_up()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the registry or the broker away: try again
                pause = RETRY_PAUSES_S[min(attempt, len(RETRY_PAUSES_S) - 1)]
                log.warning("directory.catch_up_failed", error=str(exc), retry_in_s=pause)
                attempt += 1
                await asyncio.sleep(pause)
