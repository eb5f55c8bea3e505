"""1C's own JSON over HTTP: a document as ``ЗаписатьJSON`` or the XDTO serialisation writes it,
uploaded as it is (with a BOM, Cyrillic keys, quantities as 1C writes them), checked and
refused as the CLI import is; and ``null`` (1C's ``Неопределено``) in every optional field."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import httpx

from tests.e2e.test_gateway_accounting import paired, raw
from tests.support.documents import by_pin, upload
from tools.cli.stack import Stack
from tools.client import AccountingClient

BOM = "\ufeff"


def structure(document_id: str, quantity: object = "1 234,5") -> dict[str, Any]:
    """A document as ЗаписатьJSON of a Структура writes it."""
    return {
        "ВидДокумента": "ЗаказПоставщику",
        "Ссылка": document_id,
        "Номер": "ЗП-000017",
        "Дата": "2026-11-28T10:15:00",
        "Контрагент": {"Ссылка": str(uuid.uuid4()), "Наименование": "ООО «Ромашка»"},
        "Склад": "Основной склад",
        "Комментарий": None,
        "Товары": [
            {
                "НомерСтроки": 1,
                "Номенклатура": str(uuid.uuid4()),
                "Наименование": "Сахар песок",
                "Артикул": "000000000000000042",
                "Штрихкод": "4601234567890",
                "ЕдиницаИзмерения": "кг",
                "Количество": quantity,
            },
            {
                "НомерСтроки": 2,
                "Номенклатура": str(uuid.uuid4()),
                "Наименование": "Соль",
                "Количество": "два с половиной" if quantity == "broken" else 3,
            },
        ],
    }


def xdto(document_id: str) -> str:
    """The XDTO serialisation; its JSON number 2.250 is written as 1C writes it."""
    return (
        '{"#type": "jcfg:DocumentObject.ЗаказПоставщику", "#value": {'
        f'"Ref": "{document_id}", "Number": "0000-000124", "Date": "2026-11-28T10:15:00",'
        '"Склад": {"#type": "jcfg:CatalogRef.Склады", "#value": {"Ref": "5c6d7e8f-8b4d-11ef-9a1c-'
        '005056b2f3a1", "Description": "Основной склад"}},'
        '"Товары": [{"LineNumber": "1", "Номенклатура": {"#type": "jcfg:CatalogRef.Номенклатура",'
        ' "#value": "e1f20011-8b4d-11ef-9a1c-005056b2f3a1"}, "Количество": 2.250}]}}'
    )


def onec_query(pin: str, **more: str) -> dict[str, str]:
    return {"request_id": uuid.uuid4().hex, "process": "purchase-receipt", "pin": pin, **more}


async def delivered_lines(terminal: Any, document_id: str) -> list[dict[str, Any]]:
    inbox = await terminal.inbox()
    [summary] = [d for d in inbox["documents"] if d["document_id"] == document_id]
    copy = await terminal.download(summary["delivery_id"])
    lines: list[dict[str, Any]] = copy["document"]["lines"]
    return lines


async def test_structure_json_with_a_bom_is_uploaded_as_1c_wrote_it(
    stack: Stack, tenant: dict[str, str]
) -> None:
    async with paired(stack, tenant) as terminal, raw(stack, tenant["api_key"]) as http:
        document_id = str(uuid.uuid4())
        body = (BOM + json.dumps(structure(document_id), ensure_ascii=False)).encode()
        answer = await http.post(
            "/api/v1/uploads",
            params=onec_query(terminal.device["pin"]),
            content=body,
            headers={"Content-Type": "application/vnd.1c+json; charset=utf-8"},
        )
        assert answer.status_code == 200, answer.text
        [delivery] = answer.json()["deliveries"]
        assert delivery["document_id"] == document_id

        first, second = await delivered_lines(terminal, document_id)
        assert Decimal(first["planned_qty"]) == Decimal("1234.5")
        assert first["article"] == "000000000000000042"  # text stays text
        assert first["barcodes"] == ["4601234567890"]
        assert Decimal(second["planned_qty"]) == 3


async def test_xdto_json_by_the_format_parameter_keeps_quantities_exact(
    stack: Stack, tenant: dict[str, str]
) -> None:
    async with paired(stack, tenant) as terminal, raw(stack, tenant["api_key"]) as http:
        document_id = str(uuid.uuid4())
        answer = await http.post(
            "/api/v1/uploads",
            params=onec_query(terminal.device["pin"], format="1c-json"),
            content=(BOM + xdto(document_id)).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        [line] = await delivered_lines(terminal, document_id)
        assert line["planned_qty"] == "2.250"


async def test_a_bad_quantity_is_refused_with_the_cli_imports_message_and_nothing_is_stored(
    stack: Stack, tenant: dict[str, str]
) -> None:
    async with raw(stack, tenant["api_key"]) as http, raw(stack, tenant["api_key"], "en") as en:
        query = onec_query("5546")
        body = json.dumps(structure(str(uuid.uuid4()), "broken"), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/vnd.1c+json"}
        answer = await http.post("/api/v1/uploads", params=query, content=body, headers=headers)
        assert answer.status_code == 422
        assert answer.json()["code"] == "onec_bad_quantity"
        assert answer.json()["message"] == (
            "Документ 1, строка 1: количество «broken» в поле «Количество» не является числом "
            "в пределах правила: до 15 цифр до запятой и до 6 после, без экспоненты."
        )
        assert answer.json()["params"] == {
            "document": 1, "line": 1, "field": "Количество", "value": "broken"
        }  # fmt: skip
        english = await en.post("/api/v1/uploads", params=query, content=body, headers=headers)
        assert english.json()["message"].startswith("Document 1, line 1:")

        second_line = structure(str(uuid.uuid4()))
        second_line["Товары"][1]["Количество"] = "два с половиной"
        answer = await http.post(
            "/api/v1/uploads",
            params=query,
            content=json.dumps(second_line, ensure_ascii=False).encode(),
            headers=headers,
        )
        assert answer.json()["message"] == (
            "Документ 1, строка 2: количество «два с половиной» в поле «Количество» "
            "не является числом в пределах правила: до 15 цифр до запятой и до 6 после, "
            "без экспоненты."
        )
        # Refused before routing: the request id was never taken.
        status = await http.get(f"/api/v1/uploads/{query['request_id']}")
        assert status.status_code == 404


async def test_what_goes_with_a_1c_body_is_checked(stack: Stack, tenant: dict[str, str]) -> None:
    body = json.dumps(structure(str(uuid.uuid4())), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/vnd.1c+json"}
    async with raw(stack, tenant["api_key"]) as http:
        for query, field in [
            ({"process": "purchase-receipt", "pin": "5546"}, "query.request_id"),
            ({"request_id": "r", "pin": "5546"}, "query.process"),
            ({"request_id": "r", "process": "purchase-receipt"}, "query"),
            ({"request_id": "r", "process": "purchase-receipt", "pin": "1", "user": "u"}, "query"),
        ]:
            answer = await http.post("/api/v1/uploads", params=query, content=body, headers=headers)
            assert answer.status_code == 422, answer.text
            assert answer.json()["code"] == "validation_error"
            assert answer.json()["errors"][0]["field"] == field
            if field == "query":  # no target, or two: said in the reader's words
                assert answer.json()["errors"][0]["reason"] == (
                    "укажите ровно одного получателя, одним из параметров: "
                    "pin, device, any_device, group, user, everyone"
                )
        not_utf8 = await http.post(
            "/api/v1/uploads", params=onec_query("5546"), content="Заказ".encode("cp1251"),
            headers=headers,
        )  # fmt: skip
        assert not_utf8.json()["code"] == "onec_not_utf8"


async def test_a_1c_export_sent_as_tsdx_json_is_told_how_to_be_sent(
    stack: Stack, tenant: dict[str, str]
) -> None:
    export = json.dumps(structure(str(uuid.uuid4()))).encode()
    json_type = {"Content-Type": "application/json"}
    async with raw(stack, tenant["api_key"]) as http:
        answers = [
            await http.post("/api/v1/uploads", content=export, headers=json_type),
            # The query given, only the content type forgotten: the likeliest slip of all.
            await http.post(
                "/api/v1/uploads", params=onec_query("5546"), content=export, headers=json_type
            ),
            await http.post(
                "/api/v1/uploads",
                content=export,
                headers={"Content-Type": "application/json; charset=utf-8"},
            ),
        ]
    for answer in answers:
        assert answer.status_code == 422, answer.text
        refused = answer.json()
        assert refused["code"] == "validation_error"  # what clients act on, as before
        assert refused["message"].startswith(
            "Похоже на выгрузку 1С, отправленную как JSON tsdx."
        ), refused
        assert "application/vnd.1c+json" in refused["message"]
        # The fields it lacks as every validation error lists them, in the reader's words.
        assert "body.request_id" in refused["params"]["details"]
        assert "обязательное поле не указано" in refused["params"]["details"]
        assert refused["errors"][0]["field"].startswith("body")


async def test_a_body_that_is_not_json_is_told_why_and_where(
    stack: Stack, tenant: dict[str, str]
) -> None:
    broken = b'{"request_id": "r-1", "target": {"kind": "pin", "value": "5546"} "documents": []}'
    async with raw(stack, tenant["api_key"]) as http:
        russian = await http.post(
            "/api/v1/uploads", content=broken, headers={"Content-Type": "application/json"}
        )
        english = await http.post(
            "/api/v1/uploads",
            content=broken,
            headers={"Content-Type": "application/json", "Accept-Language": "en"},
        )
    assert russian.status_code == english.status_code == 422, russian.text
    assert russian.json()["errors"] == [
        {
            "field": "body",
            "reason": "это не JSON: ожидалась запятая между значениями (строка 1, символ 66)",
            "type": "json_invalid",
        }
    ]
    assert english.json()["errors"][0]["reason"] == (
        "not JSON: Expecting ',' delimiter: line 1 column 66 (char 65)"
    )


async def test_a_1c_body_without_a_key_is_unauthorized_before_it_is_read(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url("gateway")) as http:
        answer = await http.post(
            "/api/v1/uploads",
            params=onec_query("5546"),
            content=b"not json at all",
            headers={"Content-Type": "application/vnd.1c+json"},
        )
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthorized"


async def test_null_in_every_optional_field_of_an_upload_is_not_given(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with paired(stack, tenant) as terminal:
        document_id = str(uuid.uuid4())
        header_nulls = dict.fromkeys(
            ("number", "date", "counterparty", "warehouse", "comment", "extra")
        )
        line_nulls = dict.fromkeys(("name", "article", "barcodes", "unit", "planned_qty", "extra"))
        body = upload(
            by_pin(terminal.device["pin"]),
            {
                "header": {"accounting_type": "Заказ поставщику", "id": document_id,
                           **header_nulls},
                "lines": [{"line_no": 1, "product_id": "prod-1", **line_nulls}],
            },
        )  # fmt: skip
        body.update(channel=None, recall=None)
        answer = await accounting.upload(body)
        assert answer["status"] == "accepted", answer
        [line] = await delivered_lines(terminal, document_id)
        assert (line["article"], line["barcodes"]) == ("", [])
        assert Decimal(line["planned_qty"]) == 0


async def test_a_device_process_without_a_named_device_picks_the_only_one(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    """Routing rule 5: ``{"kind": "device"}`` (or ``any_device=true`` with a 1C body)."""
    moved = {"header": {"accounting_type": "Перемещение товаров", "id": str(uuid.uuid4())},
             "lines": [{"line_no": 1, "product_id": "prod-1", "planned_qty": "1"}]}  # fmt: skip
    async with paired(stack, tenant) as only:
        picked = await accounting.upload(upload({"kind": "device"}, moved, process="device-only"))
        assert picked["status"] == "accepted", picked
        assert picked["deliveries"][0]["target"] == {
            "kind": "device", "value": only.device["device_id"]
        }  # fmt: skip

        async with raw(stack, tenant["api_key"]) as http:
            body = structure(str(uuid.uuid4()))
            answer = await http.post(
                "/api/v1/uploads",
                params={"request_id": uuid.uuid4().hex, "process": "device-only",
                        "any_device": "true", "accounting_type": "Перемещение товаров"},
                content=json.dumps(body, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/vnd.1c+json"},
            )  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert answer.json()["deliveries"][0]["target"]["value"] == only.device["device_id"]

        async with paired(stack, tenant):
            several = await accounting.upload(
                upload({"kind": "device"}, moved, process="device-only")
            )
        assert (several["status"], several["code"]) == ("refused", "device_not_chosen")
