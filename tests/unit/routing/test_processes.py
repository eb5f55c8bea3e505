"""Business processes: the shipped defaults, import/export, and files refused with a clear error."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from services.routing.processes import (
    FILE_INVALID,
    BusinessProcess,
    default_processes,
    dump_processes,
    load_processes,
)
from shared.contracts.documents import DocumentHeader
from shared.errors import Refusal
from shared.i18n import render

MINIMAL: dict[str, Any] = {
    "id": "receipt",
    "name": "Приёмка",
    "source_type": "Заказ поставщику",
    "terminal_type": "Поступление",
    "result_type": "Приобретение товаров и услуг",
}


def file_of(*processes: dict[str, Any]) -> str:
    return yaml.safe_dump({"processes": [dict(p) for p in processes]}, allow_unicode=True)


def with_(**changes: Any) -> dict[str, Any]:
    return MINIMAL | changes


def test_default_processes_load() -> None:
    processes = {p.id: p for p in default_processes()}
    assert {"purchase-receipt", "inventory-count", "picking", "device-only"} <= set(processes)

    receipt = processes["purchase-receipt"]
    assert receipt.name == 'Приобретение товаров и услуг (на основании "Заказа поставщику")'
    assert (receipt.source_type, receipt.terminal_type, receipt.result_type) == (
        "Заказ поставщику",
        "Поступление",
        "Приобретение товаров и услуг",
    )
    assert receipt.assign_to == "users_groups" and receipt.fixed_assignee is None
    assert receipt.on_load.only_online and receipt.enabled and receipt.kind == "typical"

    inventory = processes["inventory-count"]
    assert inventory.collective and not inventory.own_copy_per_user
    assert processes["picking"].quantity_control
    assert processes["device-only"].assign_to == "device"

    fixed = [p for p in processes.values() if p.fixed_assignee is not None]
    assert any(p.fixed_assignee and p.fixed_assignee.value == "storekeepers" for p in fixed)
    assert all(p.fixed_assignee and p.fixed_assignee.kind == "group" for p in fixed)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_import_round_trip(fmt: str) -> None:
    processes = default_processes()
    exported = dump_processes(processes, fmt)  # type: ignore[arg-type]
    assert load_processes(exported) == processes
    assert dump_processes(load_processes(exported), fmt) == exported  # type: ignore[arg-type]


def test_export_writes_repeated_values_in_full() -> None:
    twins = [BusinessProcess.model_validate(with_(id=name)) for name in ("a", "b")]
    exported = dump_processes(twins)
    assert "*id" not in exported and "&id" not in exported
    assert load_processes(exported) == twins


def test_json_export_is_json_and_keeps_cyrillic() -> None:
    exported = dump_processes(default_processes(), "json")
    assert json.loads(exported)["processes"][0]["source_type"] == "Заказ поставщику"


def test_import_accepts_bytes_and_applies_defaults() -> None:
    (process,) = load_processes(file_of(MINIMAL).encode("utf-8"))
    assert process.enabled and process.assign_to == "users_groups"
    assert process.keep_merged and not process.quantity_control
    assert process.on_load.action == "write" and not process.on_load.only_online


def test_next_process_may_name_a_known_process() -> None:
    (process,) = load_processes(file_of(with_(next_process="placement")), known_ids={"placement"})
    assert process.next_process == "placement"


BAD_FILES = [
    pytest.param("processes: [\n  {id: a", "line", id="yaml-syntax-error"),
    pytest.param(b"\xff\xfe\x00bad", "", id="not-utf8"),
    pytest.param("- " + json.dumps(MINIMAL), "mapping with one key", id="top-level-list"),
    pytest.param("{}", "mapping with one key", id="empty-mapping"),
    pytest.param("", "mapping with one key", id="empty-file"),
    pytest.param("processes: {id: a}", "mapping with one key", id="processes-not-a-list"),
    pytest.param(file_of(MINIMAL) + "extra: 1\n", "mapping with one key", id="unknown-top-key"),
    pytest.param(
        file_of(with_(assign_to="robot")), "processes[0].assign_to", id="unknown-assign-to"
    ),
    pytest.param(file_of(MINIMAL, with_(id="Bad Id")), "processes[1].id", id="id-not-a-slug"),
    pytest.param(
        file_of({k: v for k, v in MINIMAL.items() if k != "source_type"}),
        "processes[0].source_type",
        id="missing-source-type",
    ),
    pytest.param(file_of(with_(colour="red")), "processes[0].colour", id="unknown-setting"),
    pytest.param(file_of(MINIMAL, MINIMAL), "appears twice", id="duplicate-id"),
    pytest.param(
        file_of(with_(next_process="nowhere")),
        "next process “nowhere” is unknown",
        id="unknown-next-process",
    ),
    pytest.param(
        file_of(with_(next_process="receipt")), "its own next process", id="next-process-itself"
    ),
    pytest.param(
        file_of(
            with_(assign_to="device", fixed_assignee={"kind": "group", "value": "storekeepers"})
        ),
        "no fixed user or group",
        id="device-process-with-fixed-group",
    ),
    pytest.param(
        file_of(with_(fixed_assignee={"kind": "device", "value": "dev-1"})),
        "a user or a group",
        id="fixed-assignee-device",
    ),
    pytest.param(
        file_of(with_(fixed_assignee={"kind": "group"})),
        "a user or a group",
        id="fixed-group-without-name",
    ),
    pytest.param(
        file_of(with_(own_copy_per_user=True, collective=True)),
        "exclude each other",
        id="own-copy-and-collective",
    ),
    pytest.param(
        file_of(with_(load_into_same=True, on_load={"action": "create_new"})),
        "cannot also create a new one",
        id="same-document-and-create-new",
    ),
    pytest.param(
        file_of(with_(on_load={"action": "delete"})),
        "processes[0].on_load.action",
        id="unknown-on-load-action",
    ),
    pytest.param(
        file_of(with_(header_mapping={"upload": [{"target": "Склад"}]})),
        "needs a source or a default",
        id="mapping-without-source-or-default",
    ),
    pytest.param(
        file_of(
            with_(
                line_mapping={
                    "load": [{"source": "a", "target": "Кол"}, {"source": "b", "target": "Кол"}]
                }
            )
        ),
        "mapped twice",
        id="mapping-target-twice",
    ),
    pytest.param(
        file_of(with_(header_presentation="{title} {number}")),
        "unknown placeholders",
        id="presentation-unknown-placeholder",
    ),
    pytest.param(
        file_of(with_(header_presentation="{date:%d.%m}")),
        "bad presentation",
        id="presentation-bad-format-spec",
    ),
    pytest.param(
        file_of(with_(header_presentation="{number")),
        "bad presentation",
        id="presentation-unclosed-brace",
    ),
    pytest.param(
        "a: &a [x, x]\nb: &b [*a, *a]\nprocesses: [*b]\n",
        "aliases are not allowed",
        id="yaml-aliases",
    ),
    pytest.param("processes: []\n" + "#" * (1024 * 1024), "larger than", id="too-large"),
]


@pytest.mark.parametrize(("data", "detail"), BAD_FILES)
def test_bad_file_is_refused_with_a_clear_error(data: str | bytes, detail: str) -> None:
    with pytest.raises(Refusal) as refused:
        load_processes(data)
    assert refused.value.code == FILE_INVALID
    assert refused.value.status == 422
    assert detail in refused.value.params["details"]
    assert detail in render(FILE_INVALID, "en", refused.value.params)
    assert render(FILE_INVALID, "ru", refused.value.params).startswith("Файл бизнес-процессов")


def test_presentation_renders_the_header() -> None:
    process = BusinessProcess.model_validate(
        with_(header_presentation="Поступление № {number} от {date}, {counterparty}")
    )
    header = DocumentHeader(
        accounting_type="Заказ поставщику",
        id="g-1",
        number="00042",
        date="2024-05-01",
        counterparty="ООО «Ромашка»",
    )
    assert process.present(header) == "Поступление № 00042 от 2024-05-01, ООО «Ромашка»"
    assert BusinessProcess.model_validate(MINIMAL).present(header) == (
        "Заказ поставщику № 00042 от 2024-05-01"
    )
