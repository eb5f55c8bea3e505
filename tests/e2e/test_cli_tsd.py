"""``tsdx tsd``: a simulated terminal pairs, shows its PIN, takes documents and sends results;
several run at once; a LAN user logs in and finishes a group's document."""

from __future__ import annotations

import asyncio
import json
import re
import stat
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.cli import ROOT, cli_env, tsdx
from tests.support.documents import by_pin, order, upload
from tests.support.waiting import eventually
from tools.cli.output import FAILED, USAGE, big_digits
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient


@pytest.fixture
def env(stack: Stack, tenant: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {
        "TSDX_URL": stack.url("gateway"),
        "TSDX_API_KEY": tenant["api_key"],
        "TSDX_HOME": str(tmp_path / "home"),
    }


async def pair(env: dict[str, str], code: str, *extra: str) -> str:
    ran = await tsdx("tsd", "pair", "--code", code, *extra, env=env)
    assert ran.code == 0, ran
    found = re.search(r"^Пин-код (\d+)$", ran.out, re.MULTILINE)
    assert found, ran.out
    return found.group(1)


async def test_pair_shows_the_pin_large_and_keeps_the_credential_private(
    env: dict[str, str], tenant: dict[str, str]
) -> None:
    hardware = "@HONEYWELL-EDA50-V-16204B17A7"
    pin = await pair(env, tenant["connection_code"], "--hardware-id", hardware)
    state = Path(env["TSDX_HOME"]) / "tsd-HONEYWELL-EDA50-V-16204B17A7.json"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    saved = json.loads(state.read_text())
    assert (saved["pin"], saved["hardware_id"], saved["tenant"]) == (
        pin,
        hardware,
        tenant["tenant"],
    )
    assert saved["credential"]

    shown = await tsdx("tsd", "pin", env=env)
    assert shown.code == 0
    assert big_digits(pin) in shown.out
    as_json = await tsdx("tsd", "pin", "--json", env=env)
    assert json.loads(as_json.out)["pin"] == pin


async def test_inbox_and_scan_send_partial_then_final_results(
    env: dict[str, str], tenant: dict[str, str], accounting: AccountingClient
) -> None:
    pin = await pair(env, tenant["connection_code"])
    document = order(lines=3, number="S-1")
    assert (await accounting.upload(upload(by_pin(pin), document)))["status"] == "accepted"

    inbox = await tsdx("tsd", "inbox", "--wait", "10", env=env)
    assert inbox.code == 0
    assert "Поступление № S-1" in inbox.out
    scanned = await tsdx("tsd", "scan", "--partial", env=env)
    assert scanned.code == 0, scanned
    assert "отправлен частичный результат (строк: 2 из 3)" in scanned.out
    assert "отправлен окончательный результат (строк: 3)" in scanned.out

    doc_id = document["header"]["id"]
    await eventually(
        accounting.results,
        until=lambda rs: any(r["document_id"] == doc_id for r in rs),
        what="the result",
    )
    result = await accounting.result(doc_id)
    facts = {f["line_no"]: Decimal(f["quantity"]) for f in result["result"]["lines"]}
    assert facts == {1: Decimal(2), 2: Decimal(4), 3: Decimal(6)}  # fact = plan


async def test_scan_over_plan_counts_line_one_more(
    env: dict[str, str], tenant: dict[str, str], accounting: AccountingClient
) -> None:
    pin = await pair(env, tenant["connection_code"])
    document = order(lines=2)
    await accounting.upload(upload(by_pin(pin), document))
    scanned = await tsdx("tsd", "scan", "--over-plan", "--wait", "10", env=env)
    assert scanned.code == 0, scanned
    doc_id = document["header"]["id"]
    await eventually(
        accounting.results, until=lambda rs: any(r["document_id"] == doc_id for r in rs)
    )
    lines = (await accounting.result(doc_id))["result"]["lines"]
    assert {f["line_no"]: Decimal(f["quantity"]) for f in lines} == {1: Decimal(3), 2: Decimal(4)}


async def test_terminal_commands_before_pairing_exit_2(tmp_path: Path) -> None:
    env = {"TSDX_HOME": str(tmp_path / "empty")}
    for command in (["tsd", "pin"], ["tsd", "inbox"], ["tsd", "scan"]):
        ran = await tsdx(*command, env=env)
        assert ran.code == USAGE, (command, ran)
        assert "терминал не подключён: сначала выполните tsdx tsd pair" in ran.err


async def test_scan_with_an_empty_inbox_exits_1(
    env: dict[str, str], tenant: dict[str, str]
) -> None:
    await pair(env, tenant["connection_code"])
    ran = await tsdx("tsd", "scan", env=env)
    assert ran.code == FAILED
    assert "На терминале нет документов для работы." in ran.err


async def test_run_several_terminals_finish_what_they_are_sent(
    stack: Stack, env: dict[str, str], tenant: dict[str, str], accounting: AccountingClient
) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tools.cli.main", "tsd", "run", "--count", "2",
        "--code", tenant["connection_code"], "--documents", "2", "--duration", "90",
        "--poll", "5", "--lang", "en",
        env=cli_env(env), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        pins: list[str] = []
        while len(pins) < 2:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, "tsd run ended before pairing its terminals"
            found = re.match(r"terminal \d+: PIN (\d+)", line)
            if found:
                pins.append(found.group(1))
        documents = [order(number=f"RUN-{pin}") for pin in pins]
        for pin, document in zip(pins, documents, strict=True):
            assert (await accounting.upload(upload(by_pin(pin), document)))["status"] == "accepted"
        out, err = await asyncio.wait_for(proc.communicate(), 90)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    for pin in pins:
        assert f"[{pin}] finished Поступление No. RUN-{pin}" in text
    assert "2 documents finished by 2 terminals" in text
    wanted = {d["header"]["id"] for d in documents}
    await eventually(
        accounting.results,
        until=lambda rs: wanted <= {r["document_id"] for r in rs},
        what="both results",
    )


async def test_lan_user_logs_in_and_finishes_a_group_document(
    stack: Stack, admin: AdminClient, env: dict[str, str], tenant: dict[str, str],
    accounting: AccountingClient,
) -> None:  # fmt: skip
    if "lan_writer" not in stack.services:
        pytest.skip("this stack runs without the LAN writer")
    base = tenant["tenant"]
    await admin.create_group(base, "Кладовщики")
    await admin.create_user(base, "ivanov", name="Иванов И.", password="secret-1")
    await admin.add_member(base, "Кладовщики", "ivanov")
    document = order(lines=2, number="LAN-1")
    body = upload({"kind": "group", "value": "Кладовщики"}, document, channel="lan")
    assert (await accounting.upload(body))["status"] == "accepted"

    lan = {**env, "TSDX_LAN_URL": stack.url("lan_writer")}
    login = await tsdx(
        "tsd", "lan-login", "--tenant", base, "--login", "ivanov", "--password", "secret-1",
        env=lan,
    )  # fmt: skip
    assert login.code == 0, login
    assert "Иванов И. (ivanov), группы: Кладовщики" in login.out
    session = Path(env["TSDX_HOME"]) / f"lan-{base}-ivanov.json"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600

    listed = await tsdx("tsd", "lan-inbox", env=lan)
    assert listed.code == 0, listed
    assert "LAN-1" in listed.out
    assert "группа Кладовщики" in listed.out  # whom it is for, in words
    scanned = await tsdx("tsd", "lan-scan", "--partial", env=lan)
    assert scanned.code == 0, scanned
    assert "взят в работу: ivanov" in scanned.out
    doc_id = document["header"]["id"]
    await eventually(
        accounting.results,
        until=lambda rs: any(r["document_id"] == doc_id for r in rs),
        what="the LAN result",
    )
    out = await tsdx("tsd", "lan-logout", env=lan)
    assert (out.code, out.out.strip()) == (0, "ivanov: выход выполнен")
    again = await tsdx("tsd", "lan-inbox", env=lan)
    assert again.code == 3  # the session is closed on the server
