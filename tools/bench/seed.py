"""The stored state behind the inbox-poll figure, written straight into the services' SQLite
stores while the registry and the gateway are stopped (and routing's copy of the directory).

Pairing ten thousand terminals and routing a hundred thousand documents through the API would
take far longer than the bench may. So one terminal is paired and one document routed through
the real API first; their stored records (the registry's device, the gateway's copy of it, the
inbox row) are the templates, and the rest are copies of them with new ids, hardware ids, PINs
and credentials, written through the storage port into the collections the services declare in
their own repository modules. Each device holds ``per_device`` documents: the first few open
(``OPEN_STATES``, what the poll lists), the rest finished (stored, skipped by the query).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta

from shared.security import hash_token, new_token
from shared.settings import Settings
from shared.storage import Doc, Session, Store, open_store
from tools.bench.api import BenchError, Terminal

OPEN_STATES = ("waiting", "downloaded", "in_progress")
DONE_STATE = "done"
BATCH = 2000


def states(per_device: int) -> list[str]:
    """The states of one device's documents: the open ones first, then finished ones."""
    return [OPEN_STATES[i] if i < len(OPEN_STATES) else DONE_STATE for i in range(per_device)]


def clone_device(template: Doc, n: int, credential: str) -> Doc:
    """A copy of a stored device record as another terminal: its own id, PIN and secret."""
    doc = {
        **template,
        "id": uuid.uuid4().hex,
        "hardware_id": f"@BENCH-POLL-{n:05d}",
        "name": f"EDA50 {n}",
        # Six digits: never the template's four-digit PIN, and unique among the copies.
        "pin": str(100_000 + n),
        "credential_hash": hash_token(credential),
        "revision": 1,
    }
    doc.pop("last_seen", None)  # never seen yet
    return doc


def clone_row(template: Doc, device_id: str, state: str, routed_at: datetime, n: int) -> Doc:
    """A copy of a stored inbox row as another document for ``device_id``. Only the row is
    copied: polls read rows, and a document's body (kept apart) is read by downloads only."""
    return {
        **template,
        "id": uuid.uuid4().hex,
        "device_id": device_id,
        "document_id": str(uuid.uuid4()),
        "request_id": uuid.uuid4().hex,
        "header": {**template["header"], "number": f"БЕН-{n:06d}"},
        "state": state,
        "routed_at": routed_at.isoformat(),
    }


async def _insert_all(
    store: Store, insert: Callable[[Session, list[Doc]], Awaitable[None]], docs: Iterator[Doc]
) -> int:
    """Write ``docs`` with a repository's insert function, a batch per transaction."""
    written = 0
    while True:
        batch = [doc for _, doc in zip(range(BATCH), docs, strict=False)]
        if not batch:
            return written
        async with store.transaction() as db:
            await insert(db, batch)
        written += len(batch)


def _only(found: list[Doc], what: str) -> Doc:
    if len(found) != 1:
        raise BenchError(f"expected one template {what}, found {len(found)}")
    return found[0]


async def seed_inbox_base(
    settings: Settings, template: Terminal, devices: int, per_device: int, quiet: int = 0
) -> tuple[list[Terminal], list[Terminal]]:
    """Make ``devices`` terminals (the template's included) with ``per_device`` documents
    each, and ``quiet`` more with none (their long polls wait); the template already has one
    (waiting) document. Returns both lists of terminals."""
    # The services' own collection declarations, so indexes are exactly theirs.
    from services.gateway import repository as gateway_repo
    from services.registry import repository as registry_repo
    from services.routing import repository as routing_repo

    registry = await open_store(settings, "registry", [registry_repo.DEVICES])
    gateway = await open_store(settings, "gateway", [gateway_repo.DEVICES, gateway_repo.INBOX])
    routing = await open_store(settings, "routing", [routing_repo.REPLICA_DEVICES])
    try:
        device_id = template.device_id
        found = await registry_repo.device(registry, device_id)
        device_template = _only([found] if found else [], f"device {device_id} in the registry")
        found = await gateway_repo.device_as_stored(gateway, device_id)
        copy_template = _only([found] if found else [], f"device {device_id} at the gateway")
        row_template = _only(
            await gateway_repo.all_copies_of_device(gateway, device_id),
            f"document of device {device_id}",
        )
        if row_template["state"] != OPEN_STATES[0]:
            raise BenchError(f"the template document is {row_template['state']}, not waiting")

        terminals = [template]
        credentials = [new_token("tsd") for _ in range(devices - 1 + quiet)]
        registry_docs: list[Doc] = []
        gateway_docs: list[Doc] = []
        for n, credential in enumerate(credentials, start=1):
            doc = clone_device(device_template, n, credential)
            registry_docs.append(doc)
            gateway_docs.append({**clone_device(copy_template, n, credential), "id": doc["id"]})
            terminals.append(Terminal(doc["id"], credential))
        terminals, quiet_terminals = terminals[:devices], terminals[devices:]
        await _insert_all(registry, registry_repo.insert_devices, iter(registry_docs))
        await _insert_all(gateway, gateway_repo.insert_devices, iter(gateway_docs))

        # Routing's copy of the directory has them too, as the registry's events would have
        # left it: an upload to a device routing does not know waits a moment for its event
        # and then asks the registry, which is not what the figures are to measure.
        async def keep_in_replica(db: Session, docs: list[Doc]) -> None:
            for doc in docs:
                await routing_repo.keep_device(db, routing_repo.ReplicaDevice.of(doc))

        await _insert_all(routing, keep_in_replica, iter(registry_docs))

        start = datetime.now(UTC) - timedelta(days=30)
        plan = states(per_device)

        def rows() -> Iterator[Doc]:
            n = 0
            for index, terminal in enumerate(terminals):
                # The template device's first (waiting) document is the real one.
                for slot, state in enumerate(plan[1:] if index == 0 else plan):
                    n += 1
                    at = start + timedelta(seconds=n, milliseconds=slot)
                    yield clone_row(row_template, terminal.device_id, state, at, n)

        await _insert_all(gateway, gateway_repo.insert_copies, rows())
        return terminals, quiet_terminals
    finally:
        await routing.close()
        await gateway.close()
        await registry.close()
