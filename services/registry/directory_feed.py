"""What other services need to keep their own copy of the directory: the ``people.changed``
event of a base after each change of its users or groups, and the snapshot a copy starts from
(or catches up with) before it follows the events.

Devices announce themselves (``device.changed``, device_changes.py); a base's people are
announced whole, as one record with its own revision, so that a deletion needs no tombstone.
"""

from __future__ import annotations

from services.registry import repository as repo
from services.registry.device_changes import device_changed
from shared.contracts.directory import PeopleChanged
from shared.contracts.registry_rpc import DirectorySnapshot
from shared.outbox import Tx
from shared.storage import Session


def _people_revision(record: repo.Tenant) -> int:
    # A base whose people were never announced (or were before revisions were kept) is at 1.
    return record.people_revision or 1


async def people_of(db: Session, tenant: str, revision: int) -> PeopleChanged:
    users = sorted(user.login for user in await repo.users_of(db, tenant))
    groups = {
        group.name: sorted(row.login for row in await repo.members_of(db, tenant, group.name))
        for group in await repo.groups_of(db, tenant)
    }
    return PeopleChanged(tenant=tenant, users=users, groups=groups, revision=revision)


async def announce_people(tx: Tx, tenant: str) -> None:
    """The base's people as they are now, as their next revision (in the change's transaction)."""
    record = await repo.tenant(tx.db, tenant)
    if record is None:
        return
    revision = _people_revision(record) + 1
    await repo.set_people_revision(tx.db, record, revision)
    await tx.emit(await people_of(tx.db, tenant, revision), tenant)


async def snapshot(db: Session, after: str | None, limit: int) -> DirectorySnapshot:
    """One page of the directory: ``limit`` devices after the device id ``after``; the first
    page (``after`` None) carries every base's people too. ``next``: where the next page
    starts, None on the last one."""
    devices = await repo.devices_page(db, after, limit)
    people: list[PeopleChanged] = []
    if after is None:
        for tenant in await repo.tenants(db):
            people.append(await people_of(db, tenant.id, _people_revision(tenant)))
    return DirectorySnapshot(
        devices=[device_changed(device) for device in devices],
        people=people,
        next=devices[-1].id if len(devices) == limit else None,
    )
