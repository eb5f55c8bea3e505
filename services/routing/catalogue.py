"""The business processes of each tenant, and the operators' changes to them.

A *scope* is a tenant, or ``"*"``: the defaults every tenant starts with (the processes shipped
with tsdx, and any the administrator adds there). A tenant sees its own processes and every
default it has no process of its own with the same id for: its own one overrides the default.
Only the administrator reaches the defaults scope (the gateway admits only the admin token to
it); an accounting base may list what it sees.

Rules of change:

- Every change is checked with :func:`follow_up_mismatch` against every view it touches (a
  change to the defaults, against every tenant's view too), so an accepted change never leaves
  a ``next_process`` that is unknown or starts from another document type. A change that would
  is refused whole and changes nothing.
- Import is all-or-nothing, in one transaction.
- Enabling or disabling a default for a tenant gives the tenant its own copy of it; that copy
  then overrides the default (deleting the copy brings the default back).
- A process shipped with tsdx cannot be deleted from the defaults (disable it instead); a
  tenant cannot delete a default (it disables it for itself); a process that is another's next
  process cannot be deleted.
- The shipped processes are written at every start, so an upgrade brings their new version;
  one an operator changed is kept as the operator left it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from services.routing import repository as repo
from services.routing.processes import (
    FILE_INVALID,
    BusinessProcess,
    dump_processes,
    follow_up_mismatch,
    load_processes,
)
from shared.contracts.routing_rpc import FileFormat
from shared.errors import Refusal, carried, describe
from shared.storage import Session, Store

DEFAULTS = repo.ALL_TENANTS
PROCESS_INVALID = "process_invalid"


def not_found(process_id: str) -> Refusal:
    return Refusal("process_not_found", 404, process=process_id)


class Catalogue:
    def __init__(self, store: Store, shipped: Sequence[BusinessProcess]) -> None:
        self._store = store
        self._shipped = {p.id: p for p in shipped}

    async def install_shipped(self) -> list[str]:
        """Write the shipped processes, except those an operator changed; returns their ids."""

        async def install(db: Session) -> list[str]:
            written = []
            for process in self._shipped.values():
                record = await repo.process_record(db, DEFAULTS, process.id)
                if record is None or record.origin == "shipped":
                    await repo.save_process(db, DEFAULTS, process, "shipped")
                    written.append(process.id)
            return written

        return await repo.in_one_transaction(self._store, install)

    # Reading.

    async def list(self, scope: str) -> list[dict[str, Any]]:
        visible = await _visible(self._store, scope)
        return [self._view(visible[pid]) for pid in sorted(visible)]

    async def get(self, scope: str, process_id: str) -> dict[str, Any]:
        record = (await _visible(self._store, scope)).get(process_id)
        if record is None:
            raise not_found(process_id)
        return self._view(record)

    async def export(self, scope: str, fmt: FileFormat) -> dict[str, Any]:
        visible = await _visible(self._store, scope)
        processes = [visible[pid].process for pid in sorted(visible)]
        return {"format": fmt, "count": len(processes), "text": dump_processes(processes, fmt)}

    # Changing.

    async def put(self, scope: str, raw: Mapping[str, Any]) -> dict[str, Any]:
        try:
            process = BusinessProcess.model_validate(raw)
        except ValidationError as exc:
            problems = carried(exc, root="(process)")
            raise Refusal(
                PROCESS_INVALID, 422, details=describe(problems), problems=problems
            ) from None

        async def save(db: Session) -> repo.ProcessRecord:
            await _check_follow_ups(db, scope, {process.id: process}, (), PROCESS_INVALID)
            return await repo.save_process(db, scope, process)

        return self._view(await repo.in_one_transaction(self._store, save))

    async def import_file(self, scope: str, text: str | bytes) -> dict[str, Any]:
        known = await _visible(self._store, scope)
        processes = load_processes(text, known_ids=known)
        changed = {p.id: p for p in processes}

        async def save_all(db: Session) -> None:
            await _check_follow_ups(db, scope, changed, (), FILE_INVALID)
            for process in processes:
                await repo.save_process(db, scope, process)

        await repo.in_one_transaction(self._store, save_all)
        return {"imported": [p.id for p in processes], "count": len(processes)}

    async def set_enabled(self, scope: str, process_id: str, enabled: bool) -> dict[str, Any]:
        async def switch(db: Session) -> repo.ProcessRecord:
            record = (await _visible(db, scope)).get(process_id)
            if record is None:
                raise not_found(process_id)
            process = record.process.model_copy(update={"enabled": enabled})
            # A default changed for one tenant becomes the tenant's own copy.
            return await repo.save_process(db, scope, process)

        return self._view(await repo.in_one_transaction(self._store, switch))

    async def delete(self, scope: str, process_id: str) -> dict[str, Any]:
        async def remove(db: Session) -> None:
            if await repo.process_record(db, scope, process_id) is None:
                if scope != DEFAULTS and await repo.process_record(db, DEFAULTS, process_id):
                    raise Refusal("process_is_default", 409, process=process_id)
                raise not_found(process_id)
            if scope == DEFAULTS and process_id in self._shipped:
                raise Refusal("process_is_shipped", 409, process=process_id)
            await _check_follow_ups(db, scope, {}, (process_id,), PROCESS_INVALID)
            await repo.delete_process(db, scope, process_id)

        await repo.in_one_transaction(self._store, remove)
        return {"id": process_id, "deleted": True}

    def _view(self, record: repo.ProcessRecord) -> dict[str, Any]:
        process = record.process
        default = record.scope == DEFAULTS
        return {
            "id": process.id,
            "name": process.name,
            "enabled": process.enabled,
            "scope": "default" if default else "tenant",
            "shipped": default and process.id in self._shipped,
            "origin": record.origin if default else "operator",
            "process": process.model_dump(mode="json"),
        }


async def _visible(db: Session, scope: str) -> dict[str, repo.ProcessRecord]:
    """The process records a scope sees, by process id: its own over the defaults."""
    visible = {r.process.id: r for r in await repo.processes_of(db, DEFAULTS)}
    if scope != DEFAULTS:
        visible.update({r.process.id: r for r in await repo.processes_of(db, scope)})
    return visible


async def _check_follow_ups(
    db: Session,
    scope: str,
    changed: Mapping[str, BusinessProcess],
    removed: Iterable[str],
    code: str,
) -> None:
    """Refuse a change that leaves, in any view it touches, a follow-up that does not fit."""
    removed = tuple(removed)
    by_owner: dict[str, dict[str, BusinessProcess]] = {}
    for record in await repo.all_process_records(db):
        by_owner.setdefault(record.scope, {})[record.process.id] = record.process
    own = by_owner.setdefault(scope, {})
    own.update(changed)
    for process_id in removed:
        own.pop(process_id, None)
    defaults = by_owner.get(DEFAULTS, {})
    owners = sorted(by_owner) if scope == DEFAULTS else [scope]
    for owner in owners:
        view = dict(defaults) if owner == DEFAULTS else {**defaults, **by_owner[owner]}
        for process_id in removed:
            user = _next_of(view, process_id)
            if process_id not in view and user is not None:
                raise Refusal(
                    "process_in_use", 409, process=process_id, by=user, tenant=_tenant(owner)
                )
        mismatch = follow_up_mismatch(view)
        if mismatch:
            where = "" if owner == scope else f" (base “{owner}”)"
            raise Refusal(code, 422, details=mismatch + where)


def _next_of(view: Mapping[str, BusinessProcess], process_id: str) -> str | None:
    """The first process of the view whose next process is ``process_id``."""
    return next((p.id for p in view.values() if p.next_process == process_id), None)


def _tenant(owner: str) -> str:
    return "" if owner == DEFAULTS else owner
