"""Data as 1C writes it goes all the way round unchanged: Cyrillic everywhere, emoji, long
numbers kept as text, dates without a time zone, quantities with three decimals. The terminal
downloads exactly what was uploaded; the accounting side gets back exactly what was counted.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.security.helpers import delivered, paired
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient

DATAMATRIX = "0104600000000017215Bb+;c\x1d93dGVz"  # a marking code with its group separator


def document_1c() -> dict[str, Any]:
    return {
        "header": {
            "accounting_type": "Заказ поставщику",
            "id": f"ЗП-{uuid.uuid4().hex[:8]} от 28.11.2026 🚚",
            "number": "ЦБ-000000000000000123",
            "date": "2026-11-28T10:15:00",
            "counterparty": "ООО «Ромашка и Ёжик» 🌼",
            "warehouse": "Склад №2 (Ёлкино), ряд «Б»",
            "comment": "Срочно! Проверить маркировку 🔍 — «Честный знак»; ед. изм.: кг/шт",
            "extra": {
                "Организация": "ИП Щукин Э. Ю.",
                "ИНН": "007712345678",
                "Характеристики": {"Цвет": "Зелёный", "Размер": ["42", "XL 👕"]},
            },
        },
        "lines": [
            {
                "line_no": 1,
                "product_id": "Номенклатура-ёЁ-0001",
                "name": "Молоко «Домик в деревне» 3,2% 🥛",
                "article": "000012345678901234567890",
                "barcodes": ["4600000000017", DATAMATRIX],
                "unit": "кг",
                "planned_qty": "2.250",
                "extra": {"Серия": "000000000000000000001", "ГоденДо": "2026-12-31T00:00:00"},
            },
            {
                "line_no": 2,
                "product_id": "00000000-0000-0000-0000-000000000002",
                "name": "Пакет-майка 🛍",
                "article": "98765432109876543210",
                "barcodes": [],
                "unit": "шт",
                "planned_qty": "0.001",
                "extra": {},
            },
        ],
    }


def _as_sent(got: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """What came back, of the fields that were sent; a field not sent may only come back at its
    empty default (a field added since 1C's module was written, such as ``series``)."""
    unsent = {k: v for k, v in got.items() if k not in sent}
    assert all(v in ("", [], {}, None) for v in unsent.values()), unsent
    shown = {k: got[k] for k in sent if k in got}
    if isinstance(sent.get("lines"), list) and isinstance(got.get("lines"), list):
        shown["lines"] = [_as_sent(g, s) for g, s in zip(got["lines"], sent["lines"], strict=True)]
    return shown


async def test_1c_data_goes_round_exactly_as_sent(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    name = "ТСД «Склад №1» 📦"
    async with paired(stack, tenant, mode="offline", name=name) as terminal:
        document = document_1c()
        answer = await delivered(accounting, terminal, document)
        delivery_id = answer["deliveries"][0]["delivery_id"]
        [device] = await accounting.devices()
        assert device["name"] == name
        assert device["title"].startswith(f"{terminal.device['pin']}  {name}, (@HW-")

        downloaded = await terminal.download(delivery_id)
        assert _as_sent(downloaded["document"], document) == document
        assert (downloaded["number"], downloaded["date"]) == (
            "ЦБ-000000000000000123",
            "2026-11-28T10:15:00",
        )

        facts = [
            {
                "line_no": 1,
                "product_id": "Номенклатура-ёЁ-0001",
                "barcode": DATAMATRIX,
                "quantity": "2.250",
                "user": "Кладовщик Пётр 👷",
                "extra": {"Примечание": "Коробка помята 📦", "Ячейка": "А-01-001"},
            },
            {
                "line_no": 2,
                "product_id": "00000000-0000-0000-0000-000000000002",
                "barcode": "",
                "quantity": "0.001",
                "user": None,
                "extra": {},
            },
        ]
        await terminal.acknowledge(delivery_id)
        await terminal.send_result(delivery_id, "результат-1 ✅", facts, final=True)
        await eventually(accounting.results, what="the result waiting to be loaded")

        completed = await accounting.result(document["header"]["id"])
        result = completed["result"]
        assert result["document_id"] == document["header"]["id"]
        assert result["header"] == document["header"]
        # Merged per line: the counter's name is kept per user only, not on merged lines.
        # (``marks``: the marking codes counted on a line, none here.)
        # Each line also carries its plan line's extra back, 1C's own keys beside the
        # terminal's, exactly as sent.
        planned_extra: dict[str, Any] = document["lines"][0]["extra"]
        facts_extra: dict[str, Any] = {"Примечание": "Коробка помята 📦", "Ячейка": "А-01-001"}
        assert [_as_sent(got, sent) for got, sent in zip(result["lines"], facts, strict=True)] == [
            {**facts[0], "user": None, "extra": {**facts_extra, **planned_extra}},
            facts[1],
        ]
