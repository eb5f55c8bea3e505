"""The pure parts of the client commands: exit codes of a batch, request ids, targets, the
progress bar, the big PIN, simulated scans and how answers are told."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from shared.contracts.documents import Document, Target
from shared.contracts.uploads import UploadRequested
from shared.errors import describe
from tools.cli.accounting import (
    Outcome,
    outcome_line,
    read_documents,
    request_ids,
    target_of,
    worst,
)
from tools.cli.main import build_parser
from tools.cli.output import (
    OK,
    PENDING,
    REFUSED,
    UNREACHABLE,
    USAGE,
    CommandError,
    Progress,
    big_digits,
    default_gateway_url,
    moment,
    run_command,
    target_text,
)
from tools.cli.tsd import document_title, planned_facts


def test_a_batch_exits_with_its_most_serious_outcome() -> None:
    assert worst([]) == OK
    assert worst([OK, OK]) == OK
    assert worst([OK, PENDING]) == PENDING
    assert worst([PENDING, REFUSED, OK]) == REFUSED
    assert worst([REFUSED, UNREACHABLE, PENDING]) == UNREACHABLE


def test_request_ids_repeat_for_a_given_key_and_are_new_without_one() -> None:
    assert request_ids(1, "erp-7") == ["erp-7"]
    assert request_ids(3, "erp-7") == ["erp-7-1", "erp-7-2", "erp-7-3"]
    fresh = request_ids(2, None)
    assert len(set(fresh)) == 2 and fresh != request_ids(2, None)


@pytest.mark.parametrize(
    ("argv", "target"),
    [
        (["--pin", "5546"], Target(kind="pin", value="5546")),
        (["--device", "d-1"], Target(kind="device", value="d-1")),
        (["--any-device"], Target(kind="device")),
        (["--everyone", "--lan"], Target(kind="everyone")),
        (["--group", "Кладовщики", "--lan"], Target(kind="group", value="Кладовщики")),
        (["--user", "ivanov", "--lan"], Target(kind="user", value="ivanov")),
    ],
)
def test_upload_targets(argv: list[str], target: Target) -> None:
    args = build_parser().parse_args(["upload", "f.json", "--process", "p", *argv])
    assert target_of(args) == target


def test_an_empty_target_is_a_usage_error() -> None:
    args = build_parser().parse_args(["upload", "f.json", "--process", "p", "--pin", " "])
    with pytest.raises(CommandError) as caught:
        target_of(args)
    assert caught.value.exit_code == USAGE
    assert caught.value.message("en").startswith("the upload is refused: --pin: value:")


@pytest.mark.parametrize(
    "argv",
    [
        ["upload", "f.json", "--process", "p"],  # no target
        ["upload", "f.json", "--process", "p", "--pin", "1", "--group", "g"],  # two targets
        ["upload", "--pin", "1", "--process", "p"],  # no file
        ["upload", "f.json", "--pin", "1"],  # no process
        ["upload", "f.json", "--pin", "1", "--process", "p", "--format", "xml"],
    ],
)
def test_wrong_options_are_a_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(argv)
    assert exit_.value.code == USAGE
    assert "usage: tsdx upload" in capsys.readouterr().err


def test_command_errors_name_their_subject_in_the_chosen_language() -> None:
    error = CommandError(USAGE, "cli_file_not_found", subject="orders/1.json")
    assert error.message("ru") == "orders/1.json: файл не найден."
    assert error.message("en") == "orders/1.json: file not found."
    assert CommandError(USAGE, "cli_api_key_missing").message("en").startswith("No API key")


def test_validation_details_name_the_field_and_stop_at_three() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        Document.model_validate({"header": {}, "lines": [{"line_no": 0}]})
    details = describe(caught.value)
    assert details.startswith("header.accounting_type: Field required; header.id: Field required;")
    assert details.endswith("(+1)")
    said = describe(caught.value, "ru")
    assert said == (
        "header.accounting_type: обязательное поле не указано; "
        "header.id: обязательное поле не указано; "
        "lines.0.line_no (1-я строка): должно быть не меньше 1; (+1)"
    )


def test_a_1c_export_without_its_format_is_told_which_to_give(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    export = {"#type": "jcfg:DocumentObject.ЗаказПоставщику", "#value": {"Ref": "x"}}
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        read_documents(path, language="ru")
    assert caught.value.message("ru") == (
        f"{path}: похоже на выгрузку 1С: укажите --format 1c-json (или --format csv для таблицы)."
    )


def test_a_file_that_is_no_document_is_said_whole(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    path.write_text("[1]", encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        read_documents(path, language="ru")
    assert caught.value.message("ru") == (
        f"{path}: документ 1 не принят: (документ целиком): должно быть объектом JSON"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_on_a_terminal() -> None:
    stream = _Terminal()
    progress = Progress(4, "files", stream)
    for _ in range(4):
        progress.advance()
    text = stream.getvalue()
    assert text.count("\r") == 4
    assert text.endswith(f"[{'#' * 30}] 4/4 files\n")
    assert "[" + "#" * 7 + "." * 23 + "] 1/4 files" in text


def test_progress_writes_a_line_per_tenth_elsewhere() -> None:
    stream = io.StringIO()
    progress = Progress(100, "files", stream)
    for _ in range(100):
        progress.advance()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11  # the start, then every tenth
    assert lines[0].endswith(" 1/100 files") and lines[1].endswith(" 10/100 files")
    assert lines[-1].endswith("100/100 files")


def test_the_pin_is_drawn_five_lines_high() -> None:
    drawn = big_digits("5546").splitlines()
    assert len(drawn) == 5
    assert drawn[0] == "####  ####  #  #  ####"
    assert drawn[2] == "####  ####  ####  ####"
    assert big_digits("1") != big_digits("7")


def test_a_simulated_scan_counts_the_plan_or_one_over() -> None:
    document = {
        "lines": [
            {"line_no": 1, "product_id": "a", "barcodes": ["460"], "planned_qty": "2.5"},
            {"line_no": 2, "product_id": "b", "planned_qty": "3"},
        ]
    }
    exact = planned_facts(document)
    assert [(f.line_no, f.barcode, f.quantity) for f in exact] == [
        (1, "460", Decimal("2.5")),
        (2, "", Decimal(3)),
    ]
    over = planned_facts(document, over_plan=True)
    assert [f.quantity for f in over] == [Decimal("3.5"), Decimal(3)]


def test_document_titles_as_the_terminal_lists_them() -> None:
    summary = {
        "terminal_type": "Поступление",
        "number": "0000-000123",
        "date": "2026-11-28T10:15:00",
    }
    assert document_title(summary, "ru") == "Поступление № 0000-000123 от 28.11.2026"
    assert document_title(summary, "en") == "Поступление No. 0000-000123 of 2026-11-28"
    assert document_title({"accounting_type": "Заказ", "document_id": "x"}, "ru") == "Заказ № x"


def _outcome(answer: dict[str, object]) -> Outcome:
    request = UploadRequested.model_validate(
        {
            "request_id": "r-1",
            "process": "p",
            "target": {"kind": "pin", "value": "5546"},
            "documents": [{"header": {"accounting_type": "З", "id": "doc-1", "number": "N-1"}}],
        }
    )
    return Outcome("o.json", request, answer=answer)


def test_answers_are_told_one_line_per_file_and_delivery() -> None:
    accepted = _outcome(
        {
            "request_id": "r-1",
            "status": "accepted",
            "deliveries": [
                {"delivery_id": "d-1", "document_id": "doc-1", "device_pin": "5546",
                 "device_name": "EDA50", "target": {"kind": "device", "value": "x"}},
            ],
        }
    )  # fmt: skip
    said = "o.json: принят (запрос r-1)\n  N-1 → 5546 EDA50  [копия d-1]"
    assert outcome_line(accepted, "ru") == said
    english = "o.json: accepted (request r-1)\n  N-1 → 5546 EDA50  [delivery d-1]"
    assert outcome_line(accepted, "en") == english
    refused = _outcome(
        {"request_id": "r-1", "status": "refused", "code": "process_not_found", "message": "Нет."}
    )
    assert outcome_line(refused, "ru") == "o.json: отклонён process_not_found: Нет."
    assert outcome_line(refused, "en") == "o.json: refused process_not_found: Нет."
    pending = _outcome({"request_id": "r-1", "status": "pending"})
    assert outcome_line(pending, "en").endswith("ask later: tsdx upload-status r-1")


@pytest.mark.parametrize(
    ("environment", "argv", "language"),
    [
        ({}, ["devices"], "ru"),  # Russian unless told otherwise
        ({"TSDX_LANGUAGE": "en"}, ["devices"], "en"),
        ({"TSDX_DEFAULT_LANGUAGE": "en"}, ["devices"], "en"),  # the server's setting
        ({"TSDX_LANGUAGE": "ru", "TSDX_DEFAULT_LANGUAGE": "en"}, ["devices"], "ru"),
        ({"TSDX_LANGUAGE": "fr"}, ["devices"], "ru"),  # not one of ours: the default
        ({}, ["--lang", "en", "devices"], "en"),  # before the command
        ({}, ["devices", "--lang", "en"], "en"),  # after it
        ({}, ["--lang", "en", "devices", "--lang", "ru"], "ru"),  # the command's own wins
        ({"TSDX_LANGUAGE": "en"}, ["demo", "--lang", "ru"], "ru"),
        ({}, ["--lang", "en", "up"], "en"),
        ({}, ["--lang", "en", "tenant", "list"], "en"),
        ({}, ["--lang", "en", "tsd", "inbox"], "en"),
    ],
)
def test_the_language_comes_from_lang_or_tsdx_language(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], argv: list[str], language: str
) -> None:
    for variable in ("TSDX_LANGUAGE", "TSDX_DEFAULT_LANGUAGE"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    assert build_parser().parse_args(argv).lang == language


def test_whom_a_document_is_for_is_said_in_words() -> None:
    group = {"kind": "group", "value": "Кладовщики"}
    assert target_text(group, "ru") == "группа Кладовщики"
    assert target_text(group, "en") == "group Кладовщики"
    assert target_text({"kind": "everyone", "value": None}, "ru") == "все"


def test_an_unknown_language_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--lang", "fr", "devices"])
    assert exited.value.code == 2
    assert "--lang" in capsys.readouterr().err


def test_times_are_shown_as_the_reader_writes_them() -> None:
    assert moment("2026-11-28T10:15:00", "ru") == "28.11.2026 10:15:00"
    assert moment("2026-11-28T10:15:00", "en") == "2026-11-28 10:15:00"
    assert moment("2026-11-28T10:15:00", "ru", date_only=True) == "28.11.2026"
    # A time with a zone is shown in this machine's own time.
    aware = datetime(2026, 12, 7, 8, 15, 51, 125928, tzinfo=UTC)
    local = aware.astimezone().strftime("%d.%m.%Y %H:%M:%S")
    assert moment(aware.isoformat(), "ru") == local
    assert moment(None, "ru") == moment("", "en") == "—"
    assert moment("вчера", "ru") == "вчера"  # not a time: as it came


def test_an_unreachable_server_is_named_by_the_address_the_command_found(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A terminal's command learns its gateway from its state file while it runs.
    async def command(args: argparse.Namespace) -> int:
        args.url = "http://127.0.0.1:18999"
        raise httpx.ConnectError("All connection attempts failed")

    code = run_command(argparse.Namespace(url=None, lang="en"), command)
    assert code == UNREACHABLE
    err = capsys.readouterr().err
    assert "http://127.0.0.1:18999" in err and "None" not in err


def test_the_gateway_is_found_on_this_machine_s_port_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TSDX_URL", raising=False)
    monkeypatch.delenv("TSDX_GATEWAY_PORT", raising=False)
    assert default_gateway_url() == "http://127.0.0.1:8080"
    monkeypatch.setenv("TSDX_GATEWAY_PORT", "18080")  # as `tsdx up` was started
    assert default_gateway_url() == "http://127.0.0.1:18080"
    monkeypatch.setenv("TSDX_URL", "https://tsdx.example.ru")  # said outright: wins
    assert default_gateway_url() == "https://tsdx.example.ru"
