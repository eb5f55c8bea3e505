"""Upgrades: today's stack starts on stores written by the first release and reads them; a
service refuses a store newer than itself."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import orjson
import pytest

from tests.support.broker import amqp_url, create_vhost, delete_vhost, require_broker
from tests.support.cli import ROOT, cli_env, tsdx
from tests.support.stack import ADMIN_TOKEN, free_port, running_stack
from tools.cli.stack import PORT_SETTINGS
from tools.client.api import AccountingClient, AdminClient

pytestmark = pytest.mark.skipif(
    os.environ.get("TSDX_STORE") == "mongo",
    reason="the committed stores are SQLite files; the MongoDB adapter's upgrades are in the "
    "storage contract suite",
)

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "stores" / "v1"
SERVICES = ("dashboard", "gateway", "lan_writer", "registry", "routing")
STORE_TOO_NEW = 4


def _schema(path: Path) -> dict[str, object] | None:
    with closing(sqlite3.connect(path)) as db:
        row = db.execute("SELECT doc FROM c_tsdx_schema WHERE id = 'schema'").fetchone()
    return orjson.loads(row[0]) if row else None


def _indexes(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {name for (name,) in rows}


async def test_stores_of_the_first_release_are_upgraded_and_read(tmp_path: Path) -> None:
    shutil.copytree(V1, tmp_path / "data")

    with running_stack(tmp_path) as stack:
        async with AdminClient(stack.url("gateway"), ADMIN_TOKEN) as admin:
            tenants = await admin.tenants()
            assert [t["name"] for t in tenants] == ["Демо-склад fb0652"]
            key = (await admin.rotate_api_key("demo-fb0652"))["api_key"]
            devices = await admin.devices("demo-fb0652")
        async with AccountingClient(stack.url("gateway"), key) as accounting:
            picker = await accounting.devices()
            results = await accounting.results()

    assert any(d.get("pin") == "2770" for d in devices), devices
    assert any("2770" in str(d) for d in picker), picker
    assert len(results) >= 1, results  # finished online documents written by the old release
    for service in SERVICES:
        record = _schema(tmp_path / "data" / f"tsdx_{service}.sqlite3")
        assert record is not None and record["version"] == 1, (service, record)
    # Indexes no query reads any more are dropped at start-up, the ones declared kept.
    indexes = _indexes(tmp_path / "data" / "tsdx_gateway.sqlite3")
    assert "uploads_ix_tenant_status" not in indexes, indexes
    assert "inbox_ix_device_id_state" in indexes, indexes


def _too_new_routing_store(data: Path) -> Path:
    """The first release's routing store, marked as written by a far newer release."""
    data.mkdir()
    store = data / "tsdx_routing.sqlite3"
    shutil.copy(V1 / "tsdx_routing.sqlite3", store)
    with closing(sqlite3.connect(store)) as db:
        db.execute("CREATE TABLE c_tsdx_schema (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")
        db.execute(
            "INSERT INTO c_tsdx_schema VALUES ('schema', ?)",
            (orjson.dumps({"id": "schema", "version": 99}).decode(),),
        )
        db.commit()
    return store


def test_a_service_refuses_a_store_newer_than_itself(tmp_path: Path) -> None:
    require_broker()
    data = tmp_path / "data"
    store = _too_new_routing_store(data)
    before = store.read_bytes()
    vhost = create_vhost("tsdx-too-new")
    try:
        ran = subprocess.run(
            [sys.executable, "-m", "services.routing"],
            env=cli_env(
                {
                    "TSDX_AMQP_URL": amqp_url(vhost),
                    "TSDX_DATA_DIR": str(data),
                    "TSDX_ROUTING_PORT": str(free_port()),
                }
            ),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        delete_vhost(vhost)

    assert ran.returncode == STORE_TOO_NEW, ran.stdout + ran.stderr
    assert "schema version 99, this release knows versions up to 1" in ran.stderr
    assert store.read_bytes() == before  # nothing dropped or rewritten


async def test_tsdx_up_stops_with_a_code_of_its_own_on_a_store_newer_than_itself(
    tmp_path: Path,
) -> None:
    require_broker()
    store = _too_new_routing_store(tmp_path / "data")
    vhost = create_vhost("tsdx-too-new")
    try:
        ran = await tsdx(
            "up", "--data-dir", str(tmp_path / "data"),
            env={
                "TSDX_AMQP_URL": amqp_url(vhost),
                **{setting: str(free_port()) for setting in PORT_SETTINGS.values()},
            },
        )  # fmt: skip
    finally:
        delete_vhost(vhost)

    assert ran.code == STORE_TOO_NEW, ran.out + ran.err
    assert "schema version 99, this release knows versions up to 1" in ran.err
    assert "tsdx is running" not in ran.out
    assert _schema(store) == {"id": "schema", "version": 99}
