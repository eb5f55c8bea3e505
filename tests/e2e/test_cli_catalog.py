"""``tsdx catalog upload FILE`` as an operator runs it: a file sent in several calls with a
progress bar, idempotent when sent again; a wrong file refused before anything is sent,
and an item the server refuses named by its place in the file."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.cli.output import OK, REFUSED, USAGE
from shared.cli.stack import Stack
from shared.client import AccountingClient, TerminalClient
from tests.support.catalog import product, sync_all
from tests.support.cli import tsdx
from tests.support.waiting import eventually


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
    path.write_text("\ufeff" + json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return path


def export(products: int) -> dict[str, Any]:
    """A 1C export: a warehouse with a cell, and products with box barcodes."""
    return {
        "Склады": [{"Ссылка": "wh-1", "Наименование": "Основной"}],
        "Ячейки": [{"Ссылка": "c-1", "Склад": "wh-1", "Штрихкод": "CELL-1"}],
        "Товары": [product(n, box=12) for n in range(1, products + 1)],
    }


async def test_a_file_goes_in_several_calls_and_again_changes_nothing(
    env: dict[str, str], terminal: TerminalClient, tmp_path: Path
) -> None:
    path = write(tmp_path / "catalog.json", export(45))
    ran = await tsdx("catalog", "upload", str(path), "--batch", "10", "--json", env=env)
    assert ran.code == OK, ran.err
    assert json.loads(ran.out) == {
        "store": "",
        "items": 47,
        "changed": 47,
        "unchanged": 0,
        "version": 47,
    }
    assert "47/47" in ran.err  # the progress bar's last line

    await eventually(lambda: terminal.catalog(limit=1), until=lambda p: p["head"] == 47)
    synced = await sync_all(terminal.catalog)
    assert len(synced["items"]) == 47

    again = await tsdx("catalog", "upload", str(path), "--batch", "10", env=env)
    assert again.code == OK, again.err
    assert "изменено 0, без изменений 47; версия 47" in again.out


async def test_a_wrong_file_is_refused_whole_before_anything_is_sent(
    env: dict[str, str], accounting: AccountingClient, tmp_path: Path
) -> None:
    body = export(3)
    body["Товары"][2] = {"Ссылка": "p-3"}  # no name
    ran = await tsdx("catalog", "upload", str(write(tmp_path / "bad.json", body)), env=env)
    assert ran.code == USAGE
    assert "Товар №3 (p-3): не заполнено поле «Наименование»." in ran.err
    assert await accounting.catalogs() == []

    broken = tmp_path / "broken.json"
    broken.write_text('{"Товары": [', encoding="utf-8")
    assert (await tsdx("catalog", "upload", str(broken), env=env)).code == USAGE
    missing = await tsdx("catalog", "upload", str(tmp_path / "none.json"), env=env)
    assert missing.code == USAGE and "файл не найден" in missing.err


async def test_an_item_the_server_refuses_is_named_by_its_place_in_the_file(
    env: dict[str, str], accounting: AccountingClient, tmp_path: Path
) -> None:
    await accounting.upload_catalog({"products": [product(100)]})
    products = [product(n) for n in range(1, 8)]
    products[5]["barcodes"] = [{"barcode": "4600000000100"}]  # p-100's barcode
    path = write(tmp_path / "taken.json", {"products": products})
    ran = await tsdx("catalog", "upload", str(path), "--batch", "4", env=env)
    assert ran.code == REFUSED
    assert "Товар №6 (p-6): штрихкод 4600000000100 уже принадлежит «p-100»." in ran.err
    # The first call (four products) stays applied; the refused one changed nothing.
    assert await accounting.catalogs() == [{"store": "", "version": 5}]
