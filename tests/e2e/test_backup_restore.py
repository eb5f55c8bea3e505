"""``tsdx backup`` while documents are uploaded, ``tsdx restore`` into a new data directory, and
a stack started on it: what docs/deploy.md promises a backup covers."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from shared.secret_box import KEY_FILE
from tests.support.cli import tsdx
from tests.support.documents import by_pin, order, upload
from tests.support.stack import ADMIN_TOKEN, running_stack
from tests.support.waiting import eventually
from tools.cli.backup import MANIFEST
from tools.client.api import AccountingClient, AdminClient, TerminalClient

pytestmark = pytest.mark.skipif(
    os.environ.get("TSDX_STORE") == "mongo",
    reason="tsdx backup copies the SQLite stores; MongoDB is backed up with its own tools",
)


class Uploads:
    """Uploads one document after another until stopped; remembers when each was accepted."""

    def __init__(self, accounting: AccountingClient, pin: str) -> None:
        self._accounting = accounting
        self._pin = pin
        self.accepted: list[dict[str, Any]] = []  # in the order their answers arrived
        self.stopped = asyncio.Event()

    async def run(self) -> None:
        while not self.stopped.is_set():
            document = order(document_id=str(uuid.uuid4()), number=f"B-{len(self.accepted):04}")
            answer = await self._accounting.upload(upload(by_pin(self._pin), document))
            assert answer["status"] == "accepted", answer
            self.accepted.append(
                {"request_id": answer["request_id"], "document_id": document["header"]["id"]}
            )


async def test_a_backup_during_uploads_restores_every_document_accepted_before_it(
    tmp_path: Path,
) -> None:
    backup_dir = tmp_path / "backup"
    with running_stack(tmp_path / "live") as stack:
        gateway = stack.url("gateway")
        async with AdminClient(gateway, ADMIN_TOKEN) as admin:
            tenant = await admin.create_tenant("Склад для копии")
        terminal = TerminalClient(gateway)
        await terminal.pair(tenant["connection_code"], f"@EDA50-{uuid.uuid4().hex[:8]}")
        credential = terminal.device["credential"]
        await terminal.close()
        async with (
            AccountingClient(gateway, tenant["api_key"]) as accounting,
            TerminalClient(gateway, credential) as live_terminal,
        ):
            uploads = Uploads(accounting, terminal.device["pin"])
            running = asyncio.create_task(uploads.run())
            await eventually(lambda: _count(uploads), until=lambda n: n >= 5, what="uploads")
            # In the terminal's inbox before the backup began, then accepted before it began.
            settled = {d["document_id"] for d in (await live_terminal.inbox())["documents"]}
            before = list(uploads.accepted)
            made = await tsdx(
                "backup", str(backup_dir), "--data-dir", str(tmp_path / "live" / "data"),
                "--lang", "en", env={},
            )  # fmt: skip
            during = len(uploads.accepted) - len(before)
            uploads.stopped.set()
            await running
        assert made.code == 0, made.err
        assert "stores copied" in made.out
        # The key the gateway sealed the webhook secrets under goes with the stores, private.
        key = (tmp_path / "live" / "data" / KEY_FILE).read_bytes()
        assert "The secret key (secret.key) was copied too" in made.out
        assert (backup_dir / KEY_FILE).read_bytes() == key
        assert stat.S_IMODE((backup_dir / KEY_FILE).stat().st_mode) == 0o600

        # Refused while the stack runs there, and into a directory that is not empty.
        live = await tsdx(
            "restore", str(backup_dir), "--data-dir", str(tmp_path / "live" / "data"),
            "--lang", "en", env={},
        )  # fmt: skip
        assert live.code == 3, live.err
        assert "A service has a store open" in live.err

    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("keep me")
    refused = await tsdx(
        "restore", str(backup_dir), "--data-dir", str(occupied), "--lang", "en", env={}
    )
    assert refused.code == 2 and "is not empty" in refused.err
    assert [p.name for p in occupied.iterdir()] == ["notes.txt"]

    restored = await tsdx(
        "restore", str(backup_dir), "--data-dir", str(tmp_path / "restored" / "data"), env={}
    )
    assert restored.code == 0, restored.err
    assert (backup_dir / MANIFEST).exists()
    restored_key = tmp_path / "restored" / "data" / KEY_FILE
    assert restored_key.read_bytes() == key
    assert stat.S_IMODE(restored_key.stat().st_mode) == 0o600

    # A new stack (and a new, empty broker vhost) on the restored data.
    with running_stack(tmp_path / "restored") as stack:
        gateway = stack.url("gateway")
        async with AccountingClient(gateway, tenant["api_key"]) as accounting:
            for doc in before:
                answer = await accounting.upload_status(doc["request_id"])
                assert answer["status"] == "accepted", answer
        async with TerminalClient(gateway, credential) as terminal:
            inbox = (await terminal.inbox())["documents"]
    in_inbox = [d["document_id"] for d in inbox]
    assert len(in_inbox) == len(set(in_inbox)), "a document came back twice"
    assert settled and settled <= set(in_inbox)
    routed = _routed_documents(tmp_path / "restored" / "data", tenant["tenant"])
    assert len(routed) == len(set(routed)), "a document was routed twice"
    assert {d["document_id"] for d in before} <= set(routed)
    assert set(in_inbox) <= set(routed)
    # Accepted while the copy was being made: there or not, but never twice (counted above).
    # Uploads go one at a time, so at most one more was on its way: accepted and routed before
    # the copy ended, its answer read only after the backup command returned.
    assert len(routed) <= len(before) + during + 1


def _routed_documents(data: Path, tenant: str) -> list[str]:
    """The documents in routing's restored store (its master records), read after it stopped."""
    with closing(sqlite3.connect(data / "tsdx_routing.sqlite3")) as db:
        rows = db.execute(
            "SELECT json_extract(doc, '$.document_id') FROM c_documents "
            "WHERE json_extract(doc, '$.tenant') = ?",
            (tenant,),
        ).fetchall()
    return [row[0] for row in rows]


async def test_a_backup_whose_key_is_missing_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    backup_dir = _backup_of(tmp_path, good=["tsdx_routing.sqlite3"], key=None)
    target = tmp_path / "restored"
    refused = await tsdx(
        "restore", str(backup_dir), "--data-dir", str(target), "--lang", "en", env={}
    )
    assert refused.code == 2, refused.err
    assert "is not a backup made by tsdx backup" in refused.err
    assert not target.exists()


async def test_a_restore_that_fails_half_way_leaves_nothing(tmp_path: Path) -> None:
    backup_dir = _backup_of(
        tmp_path, good=["tsdx_gateway.sqlite3"], key="a key\n", damaged="tsdx_routing.sqlite3"
    )  # the damaged store read after the good one
    target = tmp_path / "restored"
    failed = await tsdx(
        "restore", str(backup_dir), "--data-dir", str(target), "--lang", "en", env={}
    )
    assert failed.code == 3, failed.err
    assert "tsdx_routing.sqlite3 in the backup is damaged" in failed.err
    assert "Traceback" not in failed.err
    assert _names(tmp_path) == ["backup"]  # nothing half restored in the way of the next


def _backup_of(
    tmp_path: Path, *, good: list[str], key: str | None, damaged: str | None = None
) -> Path:
    """A backup directory made by hand: stores that open, one that does not, and a manifest
    naming the secret key, whether the key is there (``key``) or not."""
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    for name in good:
        with closing(sqlite3.connect(backup_dir / name)) as db:
            db.execute("CREATE TABLE t (x)")
    if damaged is not None:
        (backup_dir / damaged).write_text("not a store")
    if key is not None:
        (backup_dir / KEY_FILE).write_text(key)
    stores = [{"file": name} for name in [*good, *([damaged] if damaged else [])]]
    manifest = {"format": 1, "stores": stores, "secret_key": KEY_FILE}
    (backup_dir / MANIFEST).write_text(json.dumps(manifest))
    return backup_dir


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def _count(uploads: Uploads) -> int:
    return len(uploads.accepted)
