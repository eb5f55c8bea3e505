"""Records the first release wrote (the committed v1 stores) read as today's typed records:
routing's business processes, upload requests, master records, copies, bodies and facts; the LAN
base's copies, sessions and sent results."""

from __future__ import annotations

import shutil
from pathlib import Path

from services.lan_writer import repository as lan
from services.routing import repository as routing
from shared.settings import Settings
from shared.storage import open_store

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "stores" / "v1"


async def test_routings_records_of_the_first_release_read_typed(tmp_path: Path) -> None:
    shutil.copytree(V1, tmp_path / "data")
    store = await open_store(Settings(data_dir=tmp_path / "data"), "routing", routing.COLLECTIONS)
    try:
        masters = await store.find(routing.DOCUMENTS.name)
        assert masters  # the fixture holds some
        for row in masters:
            master = await routing.document(store, row["id"])
            assert master is not None and master.version >= 1
            copies = await routing.copies_of(store, master.id, master.version)
            assert all(c.document_id == master.document_id for c in copies)
            assert await routing.body_of(store, master.id) is not None
            await routing.facts_of(store, master.id)
        for row in await store.find(routing.REQUESTS.name):
            tenant, _, request_id = row["id"].partition(":")
            record = await routing.request(store, tenant, request_id)
            assert record is not None and record.decision is not None
        processes = await store.find(routing.PROCESSES.name)
        assert processes
        for row in processes:
            process = await routing.process_record(store, row["tenant"], row["process"]["id"])
            assert process is not None
            assert (process.id, process.origin) == (row["id"], row["origin"])
            # What was stored is what is shown (fields added since come with their defaults).
            shown = process.process.model_dump(mode="json")
            assert {name: shown[name] for name in row["process"]} == row["process"]
    finally:
        await store.close()


async def test_the_lan_bases_records_of_the_first_release_read_typed(tmp_path: Path) -> None:
    shutil.copytree(V1, tmp_path / "data")
    store = await open_store(Settings(data_dir=tmp_path / "data"), "lan_writer", lan.COLLECTIONS)
    try:
        rows = await store.find(lan.DOCUMENTS.name)
        assert rows
        for row in rows:
            copy = await lan.copy(store, row["id"])
            assert copy is not None and copy.row()["state"] == row["state"]
        for row in await store.find(lan.SESSIONS.name):
            assert await lan.session(store, row["id"]) is not None
        for row in await store.find(lan.RESULTS.name):
            assert await lan.sent_result(store, row["id"]) is not None
    finally:
        await store.close()
