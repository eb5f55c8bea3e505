"""``tsdx upload``, ``devices`` and ``results`` as a script uses them: answers and exit codes
against a running stack; bad input files refused before anything is sent."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.i18n import render
from tests.support.cli import Ran, tsdx
from tests.support.documents import PURCHASE, order
from tests.support.stack import ADMIN_TOKEN, free_port, running_stack
from tests.support.waiting import eventually
from tools.cli.output import PENDING, REFUSED, UNREACHABLE, USAGE
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, TerminalClient

ONEC = Path(__file__).parents[1] / "fixtures" / "onec"
README_ORDER = Path(__file__).parents[2] / "docs" / "examples" / "order.json"
PIN_MESSAGE = "Устройство по пин-коду не найдено! Документы не выгружены в ТСД."


@pytest.fixture
def env(stack: Stack, tenant: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {
        "TSDX_URL": stack.url("gateway"),
        "TSDX_API_KEY": tenant["api_key"],
        "TSDX_HOME": str(tmp_path / "home"),
    }


@pytest.fixture
async def terminal(stack: Stack, tenant: dict[str, str]) -> AsyncIterator[TerminalClient]:
    async with TerminalClient(stack.url("gateway")) as client:
        await client.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}", "EDA50")
        yield client


def write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return path


async def upload_to(pin: str, *args: str, env: dict[str, str]) -> Ran:
    """``tsdx upload ARGS --pin PIN --process purchase-receipt``."""
    return await tsdx("upload", *args, "--pin", pin, "--process", PURCHASE, env=env)


async def inbox_numbers(terminal: TerminalClient) -> list[str]:
    return sorted(d["number"] for d in (await terminal.inbox())["documents"])


async def only_the_marker_arrives(
    env: dict[str, str], terminal: TerminalClient, tmp_path: Path
) -> None:
    """Prove nothing else was delivered: a later upload arrives, and alone."""
    marker = write(tmp_path / "marker.json", order(number="MARKER"))
    ran = await upload_to(terminal.device["pin"], str(marker), env=env)
    assert ran.code == 0, ran
    numbers = await eventually(
        lambda: inbox_numbers(terminal), until=lambda n: "MARKER" in n, what="the marker"
    )
    assert numbers == ["MARKER"]


async def test_upload_by_pin_prints_the_delivery(
    env: dict[str, str], terminal: TerminalClient, tmp_path: Path
) -> None:
    pin = terminal.device["pin"]
    document = order(lines=3, number="0000-000123")
    ran = await upload_to(pin, str(write(tmp_path / "o.json", document)), env=env)
    assert ran.code == 0, ran
    assert "принят" in ran.out  # Russian unless told otherwise
    assert f"0000-000123 → {pin} EDA50" in ran.out
    inbox = await eventually(lambda: terminal.inbox(), until=lambda r: r["documents"])
    assert inbox["documents"][0]["document_id"] == document["header"]["id"]


async def test_the_readme_s_example_order_uploads_by_pin(
    env: dict[str, str], terminal: TerminalClient
) -> None:
    pin = terminal.device["pin"]
    ran = await upload_to(pin, str(README_ORDER), env=env)
    assert ran.code == 0, ran
    assert f"0000-000123 → {pin} EDA50" in ran.out
    inbox = await eventually(lambda: terminal.inbox(), until=lambda r: r["documents"])
    assert [(d["number"], d["lines"]) for d in inbox["documents"]] == [("0000-000123", 3)]


async def test_batch_shows_progress_and_the_same_request_id_never_delivers_twice(
    env: dict[str, str], terminal: TerminalClient, tmp_path: Path
) -> None:
    pin = terminal.device["pin"]
    files = [str(write(tmp_path / f"{n}.json", order(number=f"B-{n}"))) for n in range(1, 6)]
    key = f"batch-{uuid.uuid4().hex[:8]}"
    first = await upload_to(pin, *files, "--request-id", key, env=env)
    assert first.code == 0, first
    assert "5/5 файлов" in first.err  # the progress bar
    assert first.out.count("принят") == 5
    assert f"(запрос {key}-5)" in first.out
    again = await upload_to(pin, *files, "--request-id", key, env=env)
    assert again.code == 0, again
    assert again.out == first.out  # the same answers, the same deliveries
    marker = write(tmp_path / "marker.json", order(number="MARKER"))
    ran = await upload_to(pin, str(marker), env=env)
    assert ran.code == 0, ran
    numbers = await eventually(
        lambda: inbox_numbers(terminal), until=lambda n: "MARKER" in n, what="the marker"
    )
    assert numbers == ["B-1", "B-2", "B-3", "B-4", "B-5", "MARKER"]


async def test_json_output_for_scripts(
    env: dict[str, str], terminal: TerminalClient, tmp_path: Path
) -> None:
    path = write(tmp_path / "o.json", [order(number="J-1"), order(number="J-2")])
    ran = await upload_to(terminal.device["pin"], str(path), "--json", env=env)
    assert ran.code == 0, ran
    [answer] = json.loads(ran.out)
    assert answer["file"] == str(path)
    assert answer["answer"]["status"] == "accepted"
    assert len(answer["answer"]["deliveries"]) == 2


async def test_wrong_pin_exits_3_with_the_code_and_message(
    env: dict[str, str], terminal: TerminalClient, tmp_path: Path
) -> None:
    pin = terminal.device["pin"]
    wrong = str((int(pin) + 1) % 10 ** len(pin)).zfill(len(pin))
    path = write(tmp_path / "o.json", order())
    ran = await upload_to(wrong, str(path), env=env)
    assert ran.code == REFUSED
    assert f"отклонён device_not_found_by_pin: {PIN_MESSAGE}" in ran.out
    english = await upload_to(wrong, str(path), env={**env, "TSDX_LANGUAGE": "en"})
    assert english.code == REFUSED
    assert "refused device_not_found_by_pin: No device found by this PIN!" in english.out


BAD_FILES: dict[str, tuple[Any, str]] = {
    # name: (content, or None for a file that does not exist; what the message says)
    "missing": (None, render("cli_file_not_found", "ru")),
    "not-json": (
        '{"header": ',
        "файл не является JSON: ожидалось значение (пустой текст, лишняя запятая или значение "
        "без кавычек) (строка 1, символ 12).",
    ),
    "bad-document": (
        [order(), {"header": {"id": "x"}, "lines": [{"line_no": 0, "product_id": "p"}]}],
        "документ 2 не принят: header.accounting_type: обязательное поле не указано; "
        "lines.0.line_no (1-я строка): должно быть не меньше 1",
    ),
    "no-documents": ([], render("cli_no_documents", "ru")),
    "not-utf8": (b"\xff\xfe{}", "файл не в кодировке UTF-8 (неверный байт в позиции 0)."),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
async def test_a_bad_file_exits_2_and_nothing_is_uploaded(
    case: str, env: dict[str, str], terminal: TerminalClient, tmp_path: Path
) -> None:
    content, message = BAD_FILES[case]
    good = write(tmp_path / "good.json", order(number="GOOD"))
    bad = tmp_path / f"{case}.json"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    elif isinstance(content, str):
        bad.write_text(content, encoding="utf-8")
    elif content is not None:
        write(bad, content)
    ran = await upload_to(terminal.device["pin"], str(good), str(bad), env=env)
    assert ran.code == USAGE, ran
    assert f"tsdx: {bad}: {message}" in ran.err
    assert ran.out == ""
    await only_the_marker_arrives(env, terminal, tmp_path)


async def test_messages_in_english_on_request(env: dict[str, str], tmp_path: Path) -> None:
    ran = await upload_to("1234", str(tmp_path / "none.json"), "--lang", "en", env=env)
    assert ran.code == USAGE
    assert f"tsdx: {tmp_path / 'none.json'}: file not found." in ran.err


async def test_1c_exports_upload_in_both_formats(
    env: dict[str, str], terminal: TerminalClient
) -> None:
    pin = terminal.device["pin"]
    xdto = await upload_to(pin, str(ONEC / "order_xdto.json"), "--format", "1c-json", env=env)
    assert xdto.code == 0, xdto
    assert "0000-000123 → " in xdto.out
    csv = await upload_to(
        pin, str(ONEC / "orders_bom_semicolon.csv"), "--format", "csv",
        "--type", "Заказ поставщику", "--group-by", "Номер", env=env,
    )  # fmt: skip
    assert csv.code == 0, csv
    assert csv.out.count(f"→ {pin}") == 2
    # The CSV holds the same order as the XDTO export (same 1C reference): its copy, not yet
    # downloaded, is replaced.
    inbox = await eventually(
        lambda: terminal.inbox(),
        until=lambda r: len(r["documents"]) == 2 and r["withdrawn"],
        what="two documents, one replaced",
    )
    assert sorted(d["number"] for d in inbox["documents"]) == ["0000-000123", "0000-000124"]
    assert {d["accounting_type"] for d in inbox["documents"]} == {"Заказ поставщику"}
    assert [w["reason"] for w in inbox["withdrawn"]] == ["replaced"]


async def test_1c_input_errors_exit_2(env: dict[str, str], terminal: TerminalClient) -> None:
    pin = terminal.device["pin"]
    csv = str(ONEC / "orders_bom_semicolon.csv")
    no_type = await upload_to(pin, csv, "--format", "csv", env=env)
    assert no_type.code == USAGE
    assert f"tsdx: {csv}: для файла CSV укажите вид документа учётной системы: --type" in (
        no_type.err
    )
    broken = ONEC / "broken_line_without_product.json"
    ran = await upload_to(pin, str(broken), "--format", "1c-json", env=env)
    assert ran.code == USAGE
    assert f"tsdx: {broken}: Документ 1, строка" in ran.err
    assert "не указана номенклатура" in ran.err


async def test_server_unreachable_exits_4(env: dict[str, str], tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    path = write(tmp_path / "o.json", order())
    ran = await upload_to("1234", str(path), "--url", url, env=env)
    assert ran.code == UNREACHABLE
    assert f"Сервер {url} не отвечает" in ran.out
    listing = await tsdx("devices", "--url", url, env=env)
    assert listing.code == UNREACHABLE
    # Why, in the reader's words, not httpx's «All connection attempts failed».
    assert listing.err.strip().endswith(
        f"Сервер {url} не отвечает: соединение не установлено: сервер не запущен или адрес неверен"
    )


async def test_api_key_missing_exits_2_and_wrong_exits_3(
    env: dict[str, str], tmp_path: Path
) -> None:
    no_key = {k: v for k, v in env.items() if k != "TSDX_API_KEY"}
    path = write(tmp_path / "o.json", order())
    ran = await upload_to("1234", str(path), env=no_key)
    assert ran.code == USAGE
    assert "Не указан ключ API базы" in ran.err
    wrong = await tsdx("devices", "--api-key", "tsdx_not-a-key", env=no_key)
    assert wrong.code == REFUSED
    assert "401 unauthorized" in wrong.err


async def test_devices_and_results_from_upload_to_loaded(
    env: dict[str, str], terminal: TerminalClient, accounting: AccountingClient, tmp_path: Path
) -> None:
    pin = terminal.device["pin"]
    document = order(lines=2, number="R-1")
    doc_id = document["header"]["id"]
    ran = await upload_to(pin, str(write(tmp_path / "o.json", document)), env=env)
    assert ran.code == 0, ran
    devices = await tsdx("devices", env=env)
    assert devices.code == 0
    assert f"{pin}  EDA50, (@HW-" in devices.out

    inbox = await eventually(lambda: terminal.inbox(), until=lambda r: r["documents"])
    delivery = inbox["documents"][0]["delivery_id"]
    facts = [
        {"line_no": 1, "product_id": "prod-1", "quantity": "2"},
        {"line_no": 2, "product_id": "prod-2", "quantity": "3.5"},
    ]
    await terminal.send_result(delivery, uuid.uuid4().hex, facts, final=True)
    await eventually(accounting.results, until=bool, what="the result")

    listing = await tsdx("results", "list", "--json", env=env)
    assert listing.code == 0
    assert [r["document_id"] for r in json.loads(listing.out)] == [doc_id]
    shown = await tsdx("results", "get", doc_id, env=env)
    assert shown.code == 0
    assert "Приобретение товаров и услуг № R-1" in shown.out
    assert "prod-2" in shown.out and "3.5" in shown.out
    loaded = await tsdx("results", "loaded", doc_id, env=env)
    assert (loaded.code, loaded.out.strip()) == (0, f"{doc_id}: загружен в учётную систему")
    after = await tsdx("results", "list", "--json", env=env)
    assert json.loads(after.out) == []
    state = json.loads((await tsdx("results", "get", doc_id, "--json", env=env)).out)["state"]
    assert state == "loaded"
    unknown = await tsdx("results", "get", "no-such-document", env=env)
    assert unknown.code == REFUSED
    said = render("result_not_found", "ru", {"document_id": "no-such-document"})
    assert f"404 result_not_found: {said}" in unknown.err


async def test_pending_upload_exits_5(tmp_path: Path) -> None:
    """Routing is not running: the gateway accepts the request but cannot answer yet."""
    with running_stack(
        tmp_path, services=("registry", "gateway"), extra_env={"TSDX_UPLOAD_WAIT_SECONDS": "0.2"}
    ) as stack:
        async with AdminClient(stack.url("gateway"), ADMIN_TOKEN) as admin:
            tenant = await admin.create_tenant("Склад без маршрутизации")
        env = {"TSDX_URL": stack.url("gateway"), "TSDX_API_KEY": tenant["api_key"]}
        path = write(tmp_path / "o.json", order())
        ran = await upload_to("1234", str(path), "--request-id", "p-1", env=env)
        assert ran.code == PENDING, ran
        assert "tsdx upload-status p-1" in ran.out
        status = await tsdx("upload-status", "p-1", env=env)
        assert (status.code, status.out.strip()) == (PENDING, "p-1: ожидает решения")


async def test_upload_to_any_device_picks_the_bases_only_device(
    env: dict[str, str], terminal: TerminalClient, tmp_path: Path
) -> None:
    document = order(lines=1, number="ПМ-1")
    document["header"]["accounting_type"] = "Перемещение товаров"
    path = write(tmp_path / "move.json", document)
    ran = await tsdx(
        "upload", str(path), "--any-device", "--process", "device-only", "--json", env=env
    )
    assert ran.code == 0, ran
    [outcome] = json.loads(ran.out)
    assert outcome["answer"]["deliveries"][0]["target"] == {
        "kind": "device",
        "value": terminal.device["device_id"],
    }
