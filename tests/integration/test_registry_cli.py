"""The operators' commands (``tsdx tenant|device|user|group``) against the running stack.

Each command runs in-process (``main([...])`` in a worker thread, as it runs its own event loop)
and talks HTTP to the gateway's admin API, exactly as from a shell.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from typing import Any

import pytest

from tests.support.stack import ADMIN_TOKEN, free_port
from tools.cli.admin import EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE
from tools.cli.main import main
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError, TerminalClient


class Cli:
    def __init__(self, stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
        self._options = ["--url", stack.url("gateway"), "--admin-token", ADMIN_TOKEN]
        self._capsys = capsys

    async def run(self, *argv: str, options: bool = True) -> tuple[int, str, str]:
        """Exit code, standard output and standard error of one command."""
        self._capsys.readouterr()
        code = await asyncio.to_thread(main, [*argv, *(self._options if options else [])])
        out, err = self._capsys.readouterr()
        return code, out, err

    async def json(self, *argv: str) -> Any:
        code, out, err = await self.run(*argv, "--json")
        assert code == EXIT_OK, err
        return json.loads(out)


@pytest.fixture
def cli(stack: Stack, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(stack, capsys)


async def pair(stack: Stack, code: str) -> TerminalClient:
    terminal = TerminalClient(stack.url("gateway"))
    await terminal.pair(code, f"@HW-{uuid.uuid4().hex[:8]}", "EDA50", "EDA50")
    return terminal


async def test_tenant_create_list_and_rotate(cli: Cli, stack: Stack) -> None:
    tenant_id = f"cli-{uuid.uuid4().hex[:6]}"

    created = await cli.json("tenant", "create", "Склад через консоль", "--id", tenant_id)
    listed = await cli.json("tenant", "list")
    code, table, _ = await cli.run("tenant", "list")
    rotated = await cli.json("tenant", "rotate-key", tenant_id)
    new_code = await cli.json("tenant", "rotate-code", tenant_id)

    assert created["tenant"] == tenant_id and created["api_key"].startswith("tsdx_")
    assert {"tenant": tenant_id, "name": "Склад через консоль", "status": "active"}.items() <= next(
        t for t in listed if t["tenant"] == tenant_id
    ).items()
    assert code == EXIT_OK and tenant_id in table and "Склад через консоль" in table
    gateway = stack.url("gateway")
    async with AccountingClient(gateway, created["api_key"]) as old:
        with pytest.raises(ApiError) as refused:
            await old.devices()
    assert refused.value.code == "unauthorized"
    async with AccountingClient(gateway, rotated["api_key"]) as new:
        assert await new.devices() == []
    terminal = await pair(stack, new_code["connection_code"])
    async with terminal:
        assert (await terminal.me())["tenant"] == tenant_id


async def test_tenant_create_shows_the_secrets_once_in_words(cli: Cli) -> None:
    code, out, _ = await cli.run(
        "tenant", "create", "Склад для людей", "--id", f"h-{uuid.uuid4().hex[:6]}"
    )

    assert code == EXIT_OK
    assert "Ключ API:" in out and "Код подключения:" in out and "не будут показаны" in out


async def test_device_commands_name_a_device_by_pin_or_id(
    cli: Cli, stack: Stack, tenant: dict[str, str]
) -> None:
    base = tenant["tenant"]
    old = await pair(stack, tenant["connection_code"])
    new = await pair(stack, tenant["connection_code"])
    async with old, new:
        pin, new_pin = old.device["pin"], new.device["pin"]

        listed = await cli.json("device", "list", "--tenant", base)
        renamed = await cli.json("device", "rename", "-t", base, pin, "Ряд 5")
        offline = await cli.json("device", "mode", "-t", base, pin, "offline")
        code, shown, _ = await cli.run("device", "block", "-t", base, pin)
        with pytest.raises(ApiError) as blocked:
            await old.me()
        unblocked = await cli.json("device", "unblock", "-t", base, old.device["device_id"])
        replaced = await cli.json("device", "replace", "-t", base, pin, new_pin)
        retired = await cli.json("device", "retire", "-t", base, pin)

        assert sorted(d["pin"] for d in listed) == sorted([pin, new_pin])
        assert (renamed["name"], offline["mode"]) == ("Ряд 5", "offline")
        assert code == EXIT_OK and f"Устройство {pin} (Ряд 5" in shown and "заблокировано" in shown
        assert blocked.value.code == "device_blocked"
        assert unblocked["status"] == "active"
        assert (replaced["new"]["pin"], replaced["old"]["status"]) == (pin, "retired")
        # The PIN names the new device now, so retiring "by PIN" retired the successor.
        assert (retired["device_id"], retired["status"]) == (new.device["device_id"], "retired")
        statuses = await cli.json("device", "list", "-t", base, "--status", "retired")
        assert len(statuses) == 2


async def test_user_and_group_commands(
    cli: Cli, stack: Stack, tenant: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tenant["tenant"]

    created = await cli.json("user", "create", "-t", base, "ivanov", "--name", "Иванов И.")
    await cli.json(
        "user", "create", "-t", base, "petrov", "--password", "x1", "--barcode", "200123"
    )
    await cli.json("group", "create", "-t", base, "Кладовщики")
    await cli.json("group", "add", "-t", base, "Кладовщики", "ivanov")
    added = await cli.json("group", "add", "-t", base, "Кладовщики", "petrov")
    monkeypatch.setattr("sys.stdin", io.StringIO("новый пароль\n"))
    passwd = await cli.json("user", "passwd", "-t", base, "ivanov")
    code, users_table, _ = await cli.run("user", "list", "-t", base)
    removed = await cli.json("group", "remove", "-t", base, "Кладовщики", "ivanov")
    await cli.json("user", "delete", "-t", base, "petrov")
    groups = await cli.json("group", "list", "-t", base)
    await cli.json("group", "delete", "-t", base, "Кладовщики")

    assert (created["has_password"], passwd["has_password"]) == (False, True)
    assert added["members"] == ["ivanov", "petrov"]
    assert code == EXIT_OK and "Иванов И." in users_table and "Кладовщики" in users_table
    assert removed["members"] == ["petrov"]
    assert groups == [{"group": "Кладовщики", "members": []}]
    async with AdminClient(stack.url("gateway"), ADMIN_TOKEN) as admin:
        assert [u["login"] for u in await admin.users(base)] == ["ivanov"]
        assert await admin.groups(base) == []


async def test_a_refusal_exits_3_with_the_code_and_message(
    cli: Cli, tenant: dict[str, str]
) -> None:
    code, _, err = await cli.run("device", "block", "-t", tenant["tenant"], "no-such-device")
    by_pin, _, pin_err = await cli.run("device", "block", "-t", tenant["tenant"], "0000")
    exists, _, exists_err = await cli.run("group", "create", "-t", tenant["tenant"], "everyone")

    assert code == by_pin == exists == EXIT_REFUSED
    assert "device_not_found" in err and "Устройство не найдено" in err
    assert "device_not_found" in pin_err
    assert "group_reserved" in exists_err


async def test_a_base_id_that_is_no_id_is_said_in_words(cli: Cli, admin: AdminClient) -> None:
    before = {t["tenant"] for t in await admin.tenants()}
    code, _, err = await cli.run("tenant", "create", "Склад", "--id", "Ленина 2")
    assert code == EXIT_REFUSED
    assert "id базы — строчные латинские буквы, цифры и «-»" in err, err
    assert {t["tenant"] for t in await admin.tenants()} == before  # nothing created


async def test_a_wrong_admin_token_is_named_as_the_admin_token(cli: Cli, stack: Stack) -> None:
    url = stack.url("gateway")
    code, out, err = await cli.run(
        "tenant", "list", "--url", url, "--admin-token", "wrong", options=False
    )

    assert code == EXIT_REFUSED and out == ""
    assert "unauthorized" in err and "токен администратора" in err, err


async def test_an_unreachable_server_exits_4(cli: Cli) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    code, _, err = await cli.run(
        "tenant", "list", "--url", url, "--admin-token", ADMIN_TOKEN, options=False
    )

    assert code == EXIT_UNREACHABLE
    assert url in err


async def test_usage_errors_exit_2(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TSDX_ADMIN_TOKEN", raising=False)

    with pytest.raises(SystemExit) as no_tenant:
        await cli.run("device", "list")
    with pytest.raises(SystemExit) as bad_mode:
        await cli.run("device", "mode", "-t", "x", "1234", "sideways")
    no_token, _, err = await cli.run("tenant", "list", options=False)

    assert no_tenant.value.code == bad_mode.value.code == EXIT_USAGE
    assert no_token == EXIT_USAGE and "TSDX_ADMIN_TOKEN" in err


async def test_the_admin_commands_find_the_gateway_by_tsdx_url(
    stack: Stack, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stack listens on a free port, never the default :8080: only TSDX_URL leads there.
    assert not stack.url("gateway").endswith(":8080")
    monkeypatch.setenv("TSDX_URL", stack.url("gateway"))
    tenant_id = f"url-{uuid.uuid4().hex[:6]}"
    code, out, err = await cli.run(
        "tenant", "create", "Склад по TSDX_URL", "--id", tenant_id, "--admin-token", ADMIN_TOKEN,
        "--json", options=False,
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert json.loads(out)["tenant"] == tenant_id
