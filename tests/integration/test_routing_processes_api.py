"""Business processes through the gateway (admin token, API key) and ``tsdx process``, with
every service in its own process: the gateway asks routing over RPC (queue ``routing.rpc``).

Tests that change the defaults every base sees add a process of their own and remove it, so
the shared stack's shipped processes stay as shipped.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.documents import order, upload
from tests.support.stack import ADMIN_TOKEN
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError

SHIPPED = {
    "purchase-receipt",
    "inventory-count",
    "inventory-own-copies",
    "picking",
    "device-only",
    "storekeepers-receipt",
    "storekeepers-placement",
}
ROOT = Path(__file__).resolve().parents[2]


def receipt_by_order(process_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": process_id,
        "name": "Приёмка по заказу (своя)",
        "source_type": "Заказ поставщику",
        "terminal_type": "Приёмка",
        "result_type": "Приобретение товаров и услуг",
        **changes,
    }


async def api_error(call: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        await call
    return caught.value


async def test_the_accounting_side_lists_what_its_base_can_upload_with(
    admin: AdminClient, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    listed = {p["id"]: p for p in await accounting.processes()}
    assert set(listed) == SHIPPED
    receipt = listed["purchase-receipt"]
    assert (receipt["scope"], receipt["shipped"], receipt["enabled"]) == ("default", True, True)
    assert receipt["process"]["source_type"] == "Заказ поставщику"
    assert (await accounting.process("picking"))["process"]["quantity_control"] is True

    # A process of the base's own is listed for it, and for no other base.
    await admin.put_process(receipt_by_order("own-receipt"), tenant["tenant"])
    assert "own-receipt" in {p["id"] for p in await accounting.processes()}
    other = await admin.create_tenant(f"Другая база {uuid.uuid4().hex[:6]}")
    assert "own-receipt" not in {p["id"] for p in await admin.processes(other["tenant"])}
    missing = await api_error(accounting.process("nowhere"))
    assert (missing.status, missing.code) == (404, "process_not_found")


async def test_a_disabled_process_refuses_uploads_and_enabling_it_again_admits_them(
    admin: AdminClient, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    base = tenant["tenant"]
    disabled = await admin.disable_process("purchase-receipt", base)
    assert (disabled["enabled"], disabled["scope"]) == (False, "tenant")
    answer = await accounting.upload(upload({"kind": "pin", "value": "0000"}, order()))
    assert (answer["status"], answer["code"]) == ("refused", "process_disabled")
    assert answer["message"] == "Бизнес-процесс «purchase-receipt» отключён."
    # Only this base: the default stays enabled for everyone else.
    assert (await admin.process("purchase-receipt"))["enabled"] is True

    await admin.enable_process("purchase-receipt", base)
    answer = await accounting.upload(upload({"kind": "pin", "value": "0000"}, order()))
    assert answer["code"] == "device_not_found_by_pin"  # past the process rules again


async def test_put_get_delete_of_a_base_process(
    admin: AdminClient, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    base = tenant["tenant"]
    saved = await admin.put_process(
        receipt_by_order("counted-receipt", quantity_control=True), base
    )
    assert (saved["id"], saved["scope"], saved["shipped"]) == ("counted-receipt", "tenant", False)
    got = await admin.process("counted-receipt", base)
    assert got["process"]["quantity_control"] is True
    assert got["process"]["on_load"] == {"action": "write", "only_online": False}  # defaults

    answer = await accounting.upload(
        upload({"kind": "pin", "value": "0000"}, order(), process="counted-receipt")
    )
    assert answer["code"] == "device_not_found_by_pin"  # the new process is in use at once

    assert await admin.delete_process("counted-receipt", base) == {
        "id": "counted-receipt",
        "deleted": True,
    }
    answer = await accounting.upload(
        upload({"kind": "pin", "value": "0000"}, order(), process="counted-receipt")
    )
    assert (answer["code"], answer["params"]) == (  # the shipped one whose name is closest
        "process_not_found",
        {"process": "counted-receipt", "nearest": "purchase-receipt"},
    )


async def test_bad_changes_are_refused_with_a_code_and_change_nothing(
    stack: Stack, admin: AdminClient, tenant: dict[str, str]
) -> None:
    base = tenant["tenant"]
    before = await admin.processes(base)

    invalid = await api_error(admin.put_process(receipt_by_order("x", assign_to="robot"), base))
    assert (invalid.status, invalid.code) == (422, "process_invalid")
    # Checked in routing, said in the reader's language at the edge (the client asks Russian).
    assert "assign_to: допустимые значения: " in invalid.message, invalid.message
    [problem] = invalid.body["params"]["problems"]
    assert (problem["loc"], problem["type"]) == (["assign_to"], "literal_error")

    chain = await api_error(admin.put_process(receipt_by_order("x", next_process="picking"), base))
    assert chain.code == "process_invalid"
    assert "starts from “Заказ клиента”" in chain.message

    shipped = await api_error(admin.delete_process("picking"))
    assert (shipped.status, shipped.code) == (409, "process_is_shipped")
    assert shipped.message.startswith("Бизнес-процесс «picking» поставляется с сервером")
    default = await api_error(admin.delete_process("picking", base))
    assert (default.status, default.code) == (409, "process_is_default")

    unknown_base = await api_error(admin.processes("no-such-base"))
    assert (unknown_base.status, unknown_base.code) == (404, "tenant_not_found")

    async with httpx.AsyncClient(base_url=stack.url("gateway")) as http:
        path = f"/api/v1/admin/tenants/{base}/processes/mine"
        mismatch = await http.put(
            path,
            json=receipt_by_order("other"),
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Accept-Language": "en"},
        )
        assert mismatch.status_code == 422
        assert mismatch.json()["code"] == "validation_error"
        assert "differs from the address" in mismatch.json()["message"]
        for token in (None, "wrong-token", tenant["api_key"]):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            denied = await http.get("/api/v1/admin/processes", headers=headers)
            assert (denied.status_code, denied.json()["code"]) == (401, "unauthorized")
            denied = await http.post("/api/v1/admin/processes/picking/disable", headers=headers)
            assert denied.status_code == 401

    assert await admin.processes(base) == before
    assert (await admin.process("picking"))["enabled"] is True


async def test_import_is_all_or_nothing_and_an_export_imports_back(
    admin: AdminClient, tenant: dict[str, str]
) -> None:
    base = tenant["tenant"]
    broken = yaml.safe_dump(
        {
            "processes": [
                receipt_by_order("first-ok"),
                receipt_by_order("second-bad", own_copy_per_user=True, collective=True),
            ]
        },
        allow_unicode=True,
    )
    refused = await api_error(admin.import_processes(broken, base))
    assert (refused.status, refused.code) == (422, "process_file_invalid")
    assert "processes[1]" in refused.message and "exclude each other" in refused.message
    assert "first-ok" not in {p["id"] for p in await admin.processes(base)}

    not_utf8 = await api_error(admin.import_processes(b"\xff\xfeprocesses: []", base))
    assert not_utf8.code == "process_file_invalid"

    good = json.dumps({"processes": [receipt_by_order("first-ok")]}, ensure_ascii=False)
    imported = await admin.import_processes(good, base, media_type="application/json")
    assert imported == {"imported": ["first-ok"], "count": 1}

    exported = await admin.export_processes(base, "yaml")
    processes = yaml.safe_load(exported)["processes"]
    assert {p["id"] for p in processes} == SHIPPED | {"first-ok"}
    other = await admin.create_tenant(f"Копия {uuid.uuid4().hex[:6]}")
    await admin.import_processes(exported, other["tenant"])
    copied = [p["process"] for p in await admin.processes(other["tenant"])]
    assert copied == [p["process"] for p in await admin.processes(base)]
    assert json.loads(await admin.export_processes(base, "json"))["processes"] == processes


async def test_the_defaults_are_changed_by_the_administrator_for_every_base(
    admin: AdminClient, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    process_id = f"shared-{uuid.uuid4().hex[:8]}"
    await admin.put_process(receipt_by_order(process_id))
    try:
        listed = {p["id"]: p for p in await accounting.processes()}
        assert listed[process_id]["scope"] == "default"
        assert listed[process_id]["shipped"] is False
        await admin.disable_process(process_id)
        assert (await accounting.process(process_id))["enabled"] is False
    finally:
        await admin.delete_process(process_id)
    assert process_id not in {p["id"] for p in await accounting.processes()}


def tsdx(
    stack: Stack, *args: str, token: str | None = ADMIN_TOKEN
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "TSDX_DEFAULT_LANGUAGE": "en"}
    if token:
        env["TSDX_ADMIN_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "tools.cli.main", "process", *args, "--url", stack.url("gateway")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


async def test_the_tsdx_process_command(
    stack: Stack, admin: AdminClient, tenant: dict[str, str], tmp_path: Path
) -> None:
    base = tenant["tenant"]
    run = asyncio.to_thread

    listed = await run(tsdx, stack, "list", "--tenant", base)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split()[:3] == ["ID", "ENABLED", "SCOPE"]
    assert any(line.startswith("storekeepers-receipt ") for line in listed.stdout.splitlines())

    shown = await run(tsdx, stack, "show", "picking")
    assert yaml.safe_load(shown.stdout)["quantity_control"] is True

    exported = tmp_path / "processes.yaml"
    written = await run(tsdx, stack, "export", "--tenant", base, "-o", str(exported))
    assert written.returncode == 0, written.stderr
    assert {p["id"] for p in yaml.safe_load(exported.read_text("utf-8"))["processes"]} == SHIPPED

    own = tmp_path / "own.json"
    own.write_text(json.dumps({"processes": [receipt_by_order("cli-receipt")]}), "utf-8")
    imported = await run(tsdx, stack, "import", str(own), "--tenant", base)
    assert imported.returncode == 0, imported.stderr
    assert "imported 1: cli-receipt" in imported.stdout
    disabled = await run(tsdx, stack, "disable", "cli-receipt", "--tenant", base)
    assert disabled.stdout.strip() == "cli-receipt: disabled"
    assert (await admin.process("cli-receipt", base))["enabled"] is False
    deleted = await run(tsdx, stack, "delete", "cli-receipt", "--tenant", base)
    assert deleted.stdout.strip() == "cli-receipt: deleted"

    refused = await run(tsdx, stack, "delete", "picking")
    assert refused.returncode == 3
    assert "process_is_shipped" in refused.stderr
    missing = await run(tsdx, stack, "import", str(tmp_path / "nothing.yaml"))
    assert missing.returncode == 2
    assert "file not found" in missing.stderr
    no_token = await run(tsdx, stack, "list", token=None)
    assert no_token.returncode == 2
    assert "No admin token" in no_token.stderr


@pytest.mark.parametrize("depth", [40, 300, 5000])
async def test_a_process_nested_too_deeply_is_refused_and_nothing_changes(
    stack: Stack, depth: int
) -> None:
    """Too deep for the contracts, for a message, or for a parser: each a clear refusal."""
    process_id = f"deep-{depth}-{uuid.uuid4().hex[:6]}"
    body = json.dumps(receipt_by_order(process_id))[:-1] + ', "deep": '
    body += '{"a": ' * depth + "1" + "}" * depth + "}"
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Accept-Language": "en"}
    async with httpx.AsyncClient(base_url=stack.url("gateway"), headers=headers) as http:
        put = await http.put(
            f"/api/v1/admin/processes/{process_id}",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        if depth < 1000:
            assert put.status_code == 422, put.text
            assert put.json()["code"] == "validation_error"
            assert "nested deeper than 32 levels" in put.json()["message"]
        else:  # beyond what the JSON parser itself reads
            assert put.status_code == 400, put.text
            assert put.json() == {
                "code": "body_unreadable",
                "message": "The request body could not be parsed.",
            }

        text = f"processes:\n  - id: {process_id}\n    extra: " + "[" * depth + "1" + "]" * depth
        imported = await http.post(
            "/api/v1/admin/processes:import",
            content=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )
        assert imported.status_code == 422, imported.text
        assert imported.json()["code"] == "process_file_invalid"

        assert (await http.get(f"/api/v1/admin/processes/{process_id}")).status_code == 404
