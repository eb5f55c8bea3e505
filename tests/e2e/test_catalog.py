"""The catalog end to end: 1C uploads it to the gateway, the registry keeps it and announces
it, the gateway's and the LAN writer's copies serve terminals full and delta syncs; another
base sees nothing of it; bad input is refused item by item and changes nothing.

Every service runs in its own process on a real RabbitMQ (one vhost per stack).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.support.catalog import product, sync_all
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, ApiError, TerminalClient
from tools.client.api import LanClient


@pytest.fixture
async def terminal(stack: Stack, tenant: dict[str, str]) -> AsyncIterator[TerminalClient]:
    async with TerminalClient(stack.url("gateway")) as client:
        await client.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}", "EDA50")
        yield client


@pytest.fixture
async def lan(stack: Stack, tenant: dict[str, str], admin: AdminClient) -> AsyncIterator[LanClient]:
    await admin.create_user(tenant["tenant"], "ivanov", name="Иванов", password="секрет-1")
    async with LanClient(stack.url("lan_writer")) as client:
        await client.login(tenant["tenant"], "ivanov", "секрет-1")
        yield client


async def post_declaring(
    base_url: str, path: str, api_key: str, declared: int
) -> tuple[int, bytes]:
    """POST announcing a ``declared``-byte body, send 64 KiB of it, and read the answer."""
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {url.host}\r\nAuthorization: Bearer {api_key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n".encode()
            + b"["
            + b" " * 65535
        )
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(
            next(
                line.split(b":")[1]
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
        )
        return int(head.split(b" ")[1]), await reader.readexactly(length)
    finally:
        writer.close()


async def synced(client: TerminalClient | LanClient, version: int) -> dict[str, Any]:
    """A full sync once the copy has reached ``version``."""
    await eventually(
        lambda: client.catalog(since=0, limit=1),
        until=lambda page: page["head"] >= version,
        what=f"catalog version {version}",
    )
    return await sync_all(client.catalog)


ONEC_EXPORT = {
    "Склады": [{"Ссылка": "wh-1", "Наименование": "Основной склад"}],
    "Ячейки": [{"Ссылка": "cell-1", "Склад": "wh-1", "Наименование": "A-01", "Штрихкод": "C0001"}],
    "Товары": [
        {
            "Ссылка": "p-1",
            "Наименование": "Кефир 2,5% 900 г",
            "Артикул": "000000000000000042",
            "ЕдиницаИзмерения": {"Ссылка": "u-1", "Наименование": "шт"},
            "Штрихкоды": [
                {"Штрихкод": "4601234567890"},
                {"Штрихкод": "14601234567897", "Коэффициент": 12},
            ],
        },
        {"Ссылка": "p-2", "Наименование": "Творог 9%", "Штрихкоды": ["2200000099998"]},
        {
            "Ссылка": "p-3",
            "Наименование": "Футболка",
            "Штрихкоды": [{"Штрихкод": "4600000000017", "Характеристика": "XL"}],
        },
    ],
}


async def test_a_1c_export_reaches_terminals_of_both_channels(
    accounting: AccountingClient, terminal: TerminalClient, lan: LanClient
) -> None:
    body = "\ufeff".encode() + json.dumps(ONEC_EXPORT, ensure_ascii=False).encode()
    answer = await accounting.upload_catalog(body)
    assert answer == {"store": "", "version": 5, "changed": 5, "unchanged": 0}

    for client in (terminal, lan):
        synced_catalog = await synced(client, 5)
        items = synced_catalog["items"]
        assert synced_catalog["version"] == 5
        assert set(items) == {
            ("warehouse", "wh-1"),
            ("cell", "cell-1"),
            ("product", "p-1"),
            ("product", "p-2"),
            ("product", "p-3"),
        }
        kefir = items[("product", "p-1")]
        assert kefir["unit"] == "шт"
        assert kefir["article"] == "000000000000000042"
        assert [(b["barcode"], b["factor"]) for b in kefir["barcodes"]] == [
            ("4601234567890", "1"),
            ("14601234567897", "12"),
        ]
        assert items[("product", "p-3")]["barcodes"][0]["characteristic"] == "XL"
        assert items[("cell", "cell-1")]["barcode"] == "C0001"

    # Sent again, nothing changes and no version is spent.
    again = await accounting.upload_catalog(body)
    assert again == {"store": "", "version": 5, "changed": 0, "unchanged": 5}
    assert await accounting.catalogs() == [{"store": "", "version": 5}]


async def test_a_delta_sync_returns_exactly_the_updates_and_deletions(
    accounting: AccountingClient, terminal: TerminalClient
) -> None:
    first = await accounting.upload_catalog({"products": [product(n) for n in range(1, 11)]})
    assert first["version"] == 10
    before = await synced(terminal, 10)
    assert len(before["items"]) == 10

    second = await accounting.upload_catalog(
        {
            "products": [product(3, name="Товар 3, новое имя"), product(11)],
            "delete": {"products": ["p-5", "p-6", "p-404"]},
        }
    )
    assert second == {"store": "", "version": 14, "changed": 4, "unchanged": 1}
    await synced(terminal, 14)

    delta = await terminal.catalog(since=before["version"])
    assert delta["version"] == 14 and delta["more"] is False
    assert [(p["id"], p["name"], p["version"]) for p in delta["products"]] == [
        ("p-3", "Товар 3, новое имя", 11),
        ("p-11", "Товар 11", 12),
    ]
    assert [(d["kind"], d["id"], d["version"]) for d in delta["deleted"]] == [
        ("product", "p-5", 13),
        ("product", "p-6", 14),
    ]
    # A fresh terminal downloads what is, without the tombstones.
    fresh = await sync_all(terminal.catalog)
    assert fresh["deleted"] == []
    assert {i for _, i in fresh["items"]} == {f"p-{n}" for n in (1, 2, 3, 4, 7, 8, 9, 10, 11)}
    # Nothing changed after the last version: an empty page at the same version.
    empty = await terminal.catalog(since=14)
    assert (empty["version"], empty["products"], empty["deleted"]) == (14, [], [])


async def test_pages_follow_one_another_and_travel_compressed(
    stack: Stack, accounting: AccountingClient, terminal: TerminalClient
) -> None:
    await accounting.upload_catalog({"products": [product(n, box=6) for n in range(1, 31)]})
    await synced(terminal, 30)
    paged = await sync_all(terminal.catalog, limit=7)
    assert paged["pages"] == 5
    assert len(paged["items"]) == 30 and paged["version"] == 30

    headers = {
        "Authorization": f"Bearer {terminal.device['credential']}",
        "Accept-Encoding": "gzip",
    }
    async with httpx.AsyncClient(base_url=stack.url("gateway")) as raw:
        response = await raw.get("/api/v1/terminal/catalog", headers=headers)
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["products"]) == 30  # httpx decompressed it


async def test_stores_are_catalogs_of_their_own(
    accounting: AccountingClient, terminal: TerminalClient
) -> None:
    await accounting.upload_catalog({"store": "Магазин 15", "products": [product(1)]})
    await accounting.upload_catalog({"store": "Магазин 16", "products": [product(2), product(3)]})
    shop = await eventually(
        lambda: terminal.catalog(store="Магазин 16"), until=lambda p: p["version"] == 2
    )
    assert [p["id"] for p in shop["products"]] == ["p-2", "p-3"]
    assert (await terminal.catalog())["products"] == []  # the base's own catalog is empty


async def test_a_terminal_of_another_base_sees_nothing(
    stack: Stack, admin: AdminClient, accounting: AccountingClient, terminal: TerminalClient
) -> None:
    await accounting.upload_catalog({"products": [product(n) for n in range(1, 4)]})
    await synced(terminal, 3)
    other = await admin.create_tenant(f"Другая база {uuid.uuid4().hex[:6]}")
    async with TerminalClient(stack.url("gateway")) as stranger:
        await stranger.pair(other["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
        page = await stranger.catalog()
        assert (page["version"], page["products"], page["deleted"]) == (0, [], [])
        # Even asking from a version the other base has.
        assert (await stranger.catalog(since=2))["products"] == []


async def test_bad_input_is_refused_item_by_item_and_changes_nothing(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient, terminal: TerminalClient
) -> None:
    await accounting.upload_catalog({"products": [product(1), product(2)]})
    await synced(terminal, 2)

    answer = await accounting.upload_catalog(
        {
            "products": [
                {"id": "p-10", "name": "Новый", "barcodes": [{"barcode": "4690000000001"}]},
                {"id": "p-11", "name": "Другой", "barcodes": [{"barcode": "4690000000001"}]},
                {"id": "p-12", "barcodes": []},
                {"id": "p-13", "name": 42, "barcodes": [{"barcode": "x", "factor": "много"}]},
            ]
        }
    )
    assert answer["code"] == "catalog_invalid"
    assert "Ничего не изменено" in answer["message"]
    found = {(e["id"], e["field"], e["code"]) for e in answer["errors"]}
    assert found == {
        ("p-11", "barcodes", "catalog_barcode_duplicate"),
        ("p-12", "name", "catalog_field_missing"),
        ("p-13", "name", "catalog_field_type"),
        ("p-13", "barcodes.0.factor", "catalog_field_invalid"),
    }
    missing = next(e for e in answer["errors"] if e["id"] == "p-12")
    assert missing["message"] == "Товар №3 (p-12): не заполнено поле «Наименование»."

    # A barcode another stored product keeps: refused by the owner of the catalog.
    taken = await accounting.upload_catalog(
        {"products": [product(1), {**product(3), "barcodes": [{"barcode": "4600000000002"}]}]}
    )
    assert [(e["id"], e["code"], e["params"]["other"]) for e in taken["errors"]] == [
        ("p-3", "catalog_barcode_duplicate", "p-2")
    ]

    # In English when asked so.
    async with AccountingClient(stack.url("gateway"), tenant["api_key"], language="en") as en:
        english = await en.upload_catalog({"products": [{"id": "p-9"}]})
    assert english["errors"][0]["message"] == "Product #1 (p-9): the field “name” is missing."

    # A body of 50 MB is refused before it is read whole: the answer comes while the client
    # has sent only the first 64 KiB of it.
    status, answer_body = await post_declaring(
        stack.url("gateway"), "/api/v1/catalog", tenant["api_key"], 50 * 1024 * 1024
    )
    assert status == 413 and json.loads(answer_body)["code"] == "body_too_large"

    not_json = await accounting.upload_catalog(b'{"products": [')
    assert not_json["code"] == "onec_not_json"
    # Raw control characters are never JSON: refused by the gateway, in the same words.
    control = await accounting.upload_catalog(b'{"products": [{"id": "p-1\x01"}]}')
    assert control["code"] == "onec_not_json"
    assert control["message"].split(":")[0] == not_json["message"].split(":")[0]
    assert "в строке управляющий символ" in control["message"]  # said in the reader's words
    assert control["params"]["json_error"].startswith("Invalid control character at")

    assert await accounting.catalogs() == [{"store": "", "version": 2}]
    after = await sync_all(terminal.catalog)
    assert {i for _, i in after["items"]} == {"p-1", "p-2"}


def scan(catalog: dict[tuple[str, str], dict[str, Any]], barcode: str) -> tuple[str, Decimal]:
    """What a terminal does with a barcode the document lacks: the catalog's product and how
    many units the scan counts (KeyError: in neither, refused on the terminal)."""
    for (kind, item_id), item in catalog.items():
        if kind == "product":
            for code in item["barcodes"]:
                if code["barcode"] == barcode:
                    return item_id, Decimal(code["factor"])
    raise KeyError(barcode)


async def test_an_inventory_without_lines_comes_back_with_catalog_products(
    accounting: AccountingClient, lan: LanClient
) -> None:
    version = (
        await accounting.upload_catalog({"products": [product(n, box=12) for n in (1, 2, 3)]})
    )["version"]
    catalog = (await synced(lan, version))["items"]
    document: dict[str, Any] = {
        "header": {
            "accounting_type": "Инвентаризация товаров на складе",
            "id": f"inv-{uuid.uuid4().hex[:8]}",
            "number": "ИНВ-1",
            "warehouse": "Основной склад",
        },
        "lines": [],
    }
    answer = await accounting.upload(
        {
            "request_id": uuid.uuid4().hex,
            "process": "inventory-count",
            "channel": "lan",
            "target": {"kind": "user", "value": "ivanov"},
            "documents": [document],
        }
    )
    assert answer["status"] == "accepted", answer
    [copy] = answer["deliveries"]
    await eventually(lambda: lan.documents(), until=lambda docs: len(docs) == 1)
    await lan.take(copy["delivery_id"])

    counted: dict[str, Decimal] = {}
    scans = ["1460000000001", "4600000000002", "4600000000003", "4600000000003", "2999999999993"]
    refused = []
    for barcode in scans:
        try:
            product_id, units = scan(catalog, barcode)
        except KeyError:
            refused.append(barcode)  # in neither the document nor the catalog
            continue
        counted[product_id] = counted.get(product_id, Decimal(0)) + units
    assert refused == ["2999999999993"]
    lines = [{"product_id": p, "quantity": str(q)} for p, q in counted.items()]
    await lan.send_result(copy["delivery_id"], "r-1", lines, final=True)

    async def result() -> dict[str, Any] | None:
        try:
            return await accounting.result(document["header"]["id"])
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    done = await eventually(result, what="inventory completed")
    assert done is not None
    assert sorted(
        (line["product_id"], Decimal(line["quantity"])) for line in done["result"]["lines"]
    ) == [
        ("p-1", Decimal(12)),
        ("p-2", Decimal(1)),
        ("p-3", Decimal(2)),
    ]
