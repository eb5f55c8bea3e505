"""The terminal app on the floor, in a real headless Chromium at 480×800 against the real
stack: a receipt started on the terminal with no connection, finished and arriving in 1C as a
new document once; a line counted from GS1 codes with their batch and expiry; a marked-goods
receipt checked against the codes 1C expects (an aggregation code, a surplus and a missing
code)."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.e2e.test_terminal_app_browser import (
    BAGS,
    DEADLINE_MS,
    GS,
    MILK,
    browser,
    completed,
    handheld,
    line,
    marking,
    pair_in_browser,
    pytestmark,
    qty,
    scan,
    screenshot_path,
    send_to,
    sign_in,
    signed_in,
    storekeepers,
)
from tests.support.documents import upload
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient
from tools.client.api import LanClient

__all__ = ["browser", "pytestmark"]

SSCC = "00146012345678901236"  # an aggregation code (AI 00), check digit right


def order(*, expected_marks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "header": {
            "accounting_type": "Заказ поставщику",
            "id": str(uuid.uuid4()),
            "number": "0000-000777",
            "date": "2026-12-01T09:00:00",
            "counterparty": "ООО «Молочный двор»",
        },
        "lines": [line(1, "Молоко «Домик в деревне» 3,2% 1 л", "МЛК-032", MILK, "шт", "4")],
        "expected_marks": expected_marks or [],
    }


async def open_document(page: Any, delivery_id: str) -> None:
    from playwright.async_api import expect

    await page.click("#menu-close")
    await page.locator(f'.doc-card[data-delivery-id="{delivery_id}"]').click(timeout=DEADLINE_MS)
    await expect(page.locator("#scan")).to_be_focused()


async def finish(page: Any) -> None:
    from playwright.async_api import expect

    await page.click("#finish")
    await page.click("#dialog-ok")
    await expect(page.locator("#unsent")).to_have_attribute("data-unsent", "0", timeout=DEADLINE_MS)


def milk_and_bags() -> list[dict[str, Any]]:
    return [
        {"id": "milk", "name": "Молоко 3,2% 1 л", "unit": "шт", "barcodes": [{"barcode": MILK}]},
        {"id": "bags", "name": "Пакет-майка", "unit": "шт", "barcodes": [{"barcode": BAGS}]},
    ]


async def synced(page: Any) -> None:
    """The side menu (open after pairing) shows a catalog version once the sync is through."""
    from playwright.async_api import expect

    await page.click("#menu-close")
    await page.click("#menu-button")
    version = page.locator("#menu-catalog-version")

    async def reopened() -> str:
        await page.click("#menu-close")
        await page.click("#menu-button")
        return str(await version.text_content())

    await eventually(reopened, until=lambda text: text not in ("", "0"), what="catalog synced")
    await expect(page.locator("#menu-catalog-synced")).not_to_have_text("ещё нет")


RECEIPT_HERE: dict[str, Any] = {
    "id": "receipt-on-terminal",
    "name": "Приёмка без заказа",
    "source_type": "Поступление товаров",
    "terminal_type": "Приёмка",
    "result_type": "Приобретение товаров и услуг",
    "create_on_terminal": True,
    "on_load": {"action": "create_new"},
}


async def test_a_receipt_started_offline_arrives_in_1c_as_a_new_document_once(
    stack: Stack,
    tenant: dict[str, str],
    admin: AdminClient,
    accounting: AccountingClient,
    browser: Any,
) -> None:
    from playwright.async_api import expect

    await admin.put_process(RECEIPT_HERE, tenant=tenant["tenant"])
    await accounting.upload_catalog({"products": [milk_and_bags()[0], milk_and_bags()[1]]})
    gateway = stack.url("gateway")
    context, page, errors = await handheld(browser)
    await pair_in_browser(page, gateway, tenant["connection_code"])
    await synced(page)
    await page.click("#menu-close")
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    start = page.locator("#new-document")
    await expect(start).to_be_visible(timeout=DEADLINE_MS)  # the processes it may start

    async def refuse(route: Any) -> None:
        await route.abort("internetdisconnected")

    await context.route(f"{gateway}/**", refuse)
    await context.set_offline(True)
    await start.click()
    await expect(page.locator("#scan")).to_be_focused()
    await scan(page, MILK)
    await scan(page, MILK)
    await scan(page, BAGS)
    await expect(qty(page, 1)).to_have_text("2")
    await expect(qty(page, 2)).to_have_text("1")
    # A document without a plan has nothing to be over: its lines read as counted, not red.
    await expect(page.locator('#lines li[data-line-no="1"]')).to_have_class(
        re.compile(r"\bline-counted\b")
    )
    await page.click("#finish")
    await page.click("#dialog-ok")
    await expect(page.locator("#notice")).to_contain_text("будет отправлен, когда появится связь")
    await expect(page.locator("#unsent")).to_have_attribute("data-unsent", "1")

    # Back online; the first answer is lost, so the terminal sends the document again.
    lost: list[str] = []

    async def lose_first_answer(route: Any) -> None:
        if route.request.method == "POST" and route.request.url.endswith("/created") and not lost:
            await route.fetch()
            lost.append(route.request.url)
            await route.abort("connectionreset")
            return
        await route.continue_()

    await context.unroute(f"{gateway}/**", refuse)
    await context.route(f"{gateway}/**", lose_first_answer)
    await context.set_offline(False)
    await expect(page.locator("#unsent")).to_have_attribute("data-unsent", "0", timeout=30_000)
    assert lost, "the first send's answer was to be lost"

    async def made_here() -> list[dict[str, Any]]:
        return [r for r in await accounting.results() if r["process"] == RECEIPT_HERE["id"]]

    [listed] = await eventually(made_here, until=bool, timeout=30, what="the new document")
    result = (await accounting.result(listed["document_id"]))["result"]
    assert result["result_type"] == "Приобретение товаров и услуг"
    assert result["created_on_terminal"] is True
    assert result["header"]["accounting_type"] == "Приёмка"
    got = {
        f["product_id"]: (f.get("line_no"), Decimal(str(f["quantity"]))) for f in result["lines"]
    }
    assert got == {"milk": (None, Decimal(2)), "bags": (None, Decimal(1))}
    assert len(await made_here()) == 1  # sent twice, one document
    assert errors == []
    await context.close()


# A wedge scanner left in the Russian keyboard layout types each Latin letter as the Cyrillic
# one on its key.
_RUSSIAN_KEYS = str.maketrans(
    "qwertyuiopasdfghjklzxcvbnmQWERTYUIOPASDFGHJKLZXCVBNM",
    "йцукенгшщзфывапролдячсмитьЙЦУКЕНГШЩЗФЫВАПРОЛДЯЧСМИТЬ",
)


async def test_a_marking_code_scanned_in_the_russian_layout_reaches_1c_as_it_reads(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient, browser: Any
) -> None:
    # Its marks once went as typed: refused by the server (not a marking code), and the
    # finished document was lost.
    from playwright.async_api import expect

    context, page, errors = await handheld(browser)
    pin = await pair_in_browser(page, stack.url("gateway"), tenant["connection_code"])
    document = order()
    await open_document(page, await send_to(accounting, pin, document))
    mark = marking("RuLayout0001A")
    typed = mark.replace(GS, "").translate(_RUSSIAN_KEYS)  # and without its GS
    assert typed != mark.replace(GS, "")
    await scan(page, typed)
    await expect(qty(page, 1)).to_have_text("1")
    await scan(page, mark)  # the same pack, scanned as it should be
    await expect(page.locator("#message")).to_contain_text("уже отсканирован")
    await finish(page)

    result = (await completed(accounting, document["header"]["id"]))["result"]
    assert [f["marks"] for f in result["lines"]] == [[mark]]
    assert errors == []
    await context.close()


async def test_a_line_counted_from_gs1_codes_keeps_each_batch_with_its_expiry(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient, browser: Any
) -> None:
    from playwright.async_api import expect

    context, page, errors = await handheld(browser)
    pin = await pair_in_browser(page, stack.url("gateway"), tenant["connection_code"])
    document = order()
    await open_document(page, await send_to(accounting, pin, document))

    # 01 GTIN + 17 expiry + 10 batch: the batch last, so no separator is needed; then the same
    # product of another batch with the separator a scanner sends.
    await scan(page, f"010{MILK}1727033110L042")
    await scan(page, f"010{MILK}1727033110L042")
    await scan(page, f"010{MILK}17270400{GS}10L043")
    await expect(qty(page, 1)).to_have_text("3")
    batches = page.locator('#lines li[data-line-no="1"] .line-batch')
    await expect(batches).to_have_text(
        ["серия L042 · до 31.03.2027: 2", "серия L043 · до 30.04.2027: 1"]
    )
    # Past the plan of 4: not a complete line but one to look at again, and finishing says so.
    await scan(page, f"010{MILK}17270400{GS}10L043")
    # A scan with the side menu open is counted too; the menu goes.
    await page.click("#menu-button")
    await expect(page.locator("#drawer")).to_be_visible()
    await scan(page, f"010{MILK}17270400{GS}10L043")
    await expect(page.locator("#drawer")).to_be_hidden()
    await expect(page.locator("#message")).to_contain_text("всего 5 при плане 4 (сверх плана: 1)")
    await expect(page.locator("#progress")).to_have_text("0 / 1 · строк сверх плана: 1")
    await expect(page.locator('#lines li[data-line-no="1"]')).to_have_class(
        re.compile(r"\bline-over\b")
    )
    await page.click("#finish")
    await expect(page.locator("#dialog")).to_contain_text("Строк сверх плана: 1")
    await page.keyboard.press("Escape")
    await finish(page)

    result = await completed(accounting, document["header"]["id"])
    got = [
        (f["line_no"], f["series"], f["expiry"], Decimal(str(f["quantity"])))
        for f in result["result"]["lines"]
    ]
    assert got == [(1, "L042", "2027-03-31", Decimal(2)), (1, "L043", "2027-04-30", Decimal(3))]
    assert errors == []
    await context.close()


async def test_marked_goods_are_checked_against_the_codes_1c_expects(
    stack: Stack,
    tenant: dict[str, str],
    accounting: AccountingClient,
    browser: Any,
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    in_box = [marking("BoxItem00001A"), marking("BoxItem00002B")]
    missing = marking("NeverCame0003")
    surplus = marking("NotOrdered004")
    expected: list[dict[str, Any]] = [{"code": SSCC, "contents": in_box}, {"code": missing}]
    context, page, errors = await handheld(browser)
    pin = await pair_in_browser(page, stack.url("gateway"), tenant["connection_code"])
    document = order(expected_marks=expected)
    await open_document(page, await send_to(accounting, pin, document))
    check = page.locator("#marks-check")
    await expect(check).to_have_text("Коды: ожидается 3 · найдено 0 · лишних 0 · не хватает 3")

    await scan(page, SSCC)  # the box stands for both codes inside it
    await expect(qty(page, 1)).to_have_text("2")
    await expect(page.locator("#message")).to_contain_text("Упаковка: кодов маркировки +2")
    await scan(page, in_box[0])  # already in through the box
    await expect(page.locator("#message")).to_contain_text("уже отсканирован")
    await scan(page, surplus)
    await expect(page.locator("#message")).to_contain_text("лишний код")
    # Counted, but heard and seen as a warning, not as a plain accept.
    await expect(page.locator("body")).to_have_attribute("data-feedback", "warn")
    await expect(qty(page, 1)).to_have_text("3")
    await expect(check).to_have_text("Коды: ожидается 3 · найдено 2 · лишних 1 · не хватает 1")
    await page.screenshot(path=str(screenshot_path(tmp_path, "terminal-marks-check.png")))
    await check.click()  # which codes to look for, which are extra
    dialog = page.locator("#dialog")
    await expect(dialog).to_contain_text(f"• 010{MILK}21NeverCame0003")
    await expect(dialog).to_contain_text(f"• 010{MILK}21NotOrdered004")
    await expect(page.locator("#dialog-cancel")).to_have_count(0)  # it only tells: one button
    await page.click("#dialog-ok")
    await finish(page)

    result = (await completed(accounting, document["header"]["id"]))["result"]
    statuses = [(m["code"], m["status"], m.get("aggregate")) for m in result["marks_check"]]
    assert statuses == [
        (in_box[0], "found", SSCC),
        (in_box[1], "found", SSCC),
        (missing, "missing", None),
        (surplus, "surplus", None),
    ]
    assert [Decimal(str(f["quantity"])) for f in result["lines"]] == [Decimal(3)]
    assert errors == []
    await context.close()


async def test_a_count_without_lines_takes_catalog_products_and_a_box_counts_its_factor(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient, browser: Any
) -> None:
    from playwright.async_api import expect

    products = [
        {"id": "p-1", "name": "Кефир", "unit": "шт", "barcodes": [{"barcode": "4600000000101"}]},
        {"id": "p-2", "name": "Сок яблочный", "unit": "шт",
         "barcodes": [{"barcode": "4600000000202"}, {"barcode": "14600000000209", "factor": 12}]},
        {"id": "p-3", "name": "Хлеб", "unit": "шт", "barcodes": [{"barcode": "4600000000303"}]},
    ]  # fmt: skip
    await accounting.upload_catalog({"products": products})
    context, page, errors = await handheld(browser)
    pin = await pair_in_browser(page, stack.url("gateway"), tenant["connection_code"])
    await synced(page)
    count = order()
    count["header"]["number"] = "ИНВ-0001"
    count["lines"] = []
    await open_document(page, await send_to(accounting, pin, count))

    for code in ("4600000000101", "4600000000101", "14600000000209", "4600000000303"):
        await scan(page, code)
    await scan(page, "4699999999994")  # in no line and not in the catalog
    await expect(page.locator("#message")).to_contain_text("Неизвестный штрихкод: 4699999999994")
    await expect(page.locator("#lines li")).to_have_count(3)
    await finish(page)

    result = (await completed(accounting, count["header"]["id"]))["result"]
    got = {f["product_id"]: (f.get("line_no"), Decimal(f["quantity"])) for f in result["lines"]}
    assert got == {"p-1": (None, Decimal(2)), "p-2": (None, Decimal(12)), "p-3": (None, Decimal(1))}
    assert errors == []
    await context.close()


CELL_A = "e1f20011-8b4d-11ef-9a1c-00505600000a"
CELL_B = "e1f20011-8b4d-11ef-9a1c-00505600000b"


async def test_a_placement_into_two_cells_comes_back_per_cell(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient, browser: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    await accounting.upload_catalog(
        {
            "products": milk_and_bags(),
            "warehouses": [{"id": "wh-1", "name": "Основной склад"}],
            # 1C's cells are GUIDs: the storekeeper reads their names, 1C gets its ids.
            "cells": [
                {"id": CELL_A, "warehouse": "wh-1", "name": "A-01-1", "barcode": "CELL0001"},
                {"id": CELL_B, "warehouse": "wh-1", "name": "B-02-3", "barcode": "CELL0002"},
            ],
        }
    )
    context, page, errors = await handheld(browser)
    pin = await pair_in_browser(page, stack.url("gateway"), tenant["connection_code"])
    await synced(page)
    placement = order()
    placement["lines"][0]["cell"] = CELL_A  # where 1C plans it, by the cell's id
    await open_document(page, await send_to(accounting, pin, placement))
    await expect(page.locator('#lines li[data-line-no="1"] .line-meta')).to_contain_text(
        "ячейка A-01-1"
    )

    await scan(page, "CELL0001")
    await expect(page.locator("#current-cell")).to_have_text("Ячейка: A-01-1")
    await scan(page, MILK)
    await scan(page, MILK)
    await scan(page, "CELL0002")
    await expect(page.locator("#current-cell")).to_have_text("Ячейка: B-02-3")
    await scan(page, MILK)
    await expect(qty(page, 1)).to_have_text("3")
    batches = page.locator('#lines li[data-line-no="1"] .line-batch')
    await expect(batches).to_have_text(["ячейка A-01-1: 2", "ячейка B-02-3: 1"])
    await page.screenshot(path=str(screenshot_path(tmp_path, "terminal-cells.png")))
    await finish(page)

    result = (await completed(accounting, placement["header"]["id"]))["result"]
    got = [(f["line_no"], f["cell"], Decimal(f["quantity"])) for f in result["lines"]]
    assert got == [(1, CELL_A, Decimal(2)), (1, CELL_B, Decimal(1))]
    assert errors == []
    await context.close()


async def test_a_lan_user_starts_a_receipt_and_scans_a_box_from_the_catalog(
    stack: Stack,
    tenant: dict[str, str],
    admin: AdminClient,
    accounting: AccountingClient,
    browser: Any,
) -> None:
    from playwright.async_api import expect

    base = tenant["tenant"]
    await admin.put_process(RECEIPT_HERE, tenant=base)
    await admin.create_user(base, "ivanov", name="Иванов", password="секрет-1")
    juice = {
        "id": "juice",
        "name": "Сок яблочный",
        "unit": "шт",
        "barcodes": [{"barcode": "4600000000202"}, {"barcode": "14600000000209", "factor": 6}],
    }
    await accounting.upload_catalog({"products": [juice]})
    context, page, errors = await signed_in(browser, stack, base, "ivanov")
    await page.click("#menu-button")
    await synced(page)
    await page.click("#menu-close")
    await page.click("#new-document", timeout=DEADLINE_MS)
    await expect(page.locator("#scan")).to_be_focused()
    await expect(page.locator("#work-title")).to_have_text(
        re.compile(r"^Приёмка № [0-9A-F]{8} от ")
    )
    await scan(page, "14600000000209")
    await scan(page, "4600000000202")
    await expect(qty(page, 1)).to_have_text("7")
    await finish(page)

    async def made_here() -> list[dict[str, Any]]:
        return await accounting.results()

    [listed] = await eventually(made_here, until=bool, timeout=30, what="the new document")
    result = (await accounting.result(listed["document_id"]))["result"]
    assert result["created_on_terminal"] is True
    assert [(f["product_id"], Decimal(f["quantity"])) for f in result["lines"]] == [
        ("juice", Decimal(7))
    ]
    assert errors == []
    await context.close()


async def test_a_new_document_the_process_no_longer_allows_comes_back_with_the_reason(
    stack: Stack,
    tenant: dict[str, str],
    admin: AdminClient,
    accounting: AccountingClient,
    browser: Any,
) -> None:
    from playwright.async_api import expect

    await admin.put_process(RECEIPT_HERE, tenant=tenant["tenant"])
    await accounting.upload_catalog({"products": milk_and_bags()})
    context, page, errors = await handheld(browser)
    await pair_in_browser(page, stack.url("gateway"), tenant["connection_code"])
    await synced(page)
    await page.click("#menu-close")
    await page.click("#new-document", timeout=DEADLINE_MS)
    await expect(page.locator("#scan")).to_be_focused()
    await scan(page, MILK)
    await expect(qty(page, 1)).to_have_text("1")
    # Meanwhile the operator takes the permission away.
    await admin.put_process({**RECEIPT_HERE, "create_on_terminal": False}, tenant=tenant["tenant"])
    await page.click("#finish")
    await page.click("#dialog-ok")
    await expect(page.locator("#notice")).to_contain_text(
        "не разрешает создавать документы на терминале", timeout=DEADLINE_MS
    )
    card = page.locator(".doc-card")
    await expect(card).to_contain_text("Создан на ТСД")
    await card.click()
    await expect(page.locator("#message")).to_contain_text("Результат не принят")
    await expect(qty(page, 1)).to_have_text("1")  # the count is kept, to finish otherwise
    assert await accounting.results() == []
    assert errors == []
    await context.close()


async def test_a_lan_result_waits_for_its_user_while_another_uses_the_terminal(
    stack: Stack,
    tenant: dict[str, str],
    admin: AdminClient,
    accounting: AccountingClient,
    browser: Any,
) -> None:
    from playwright.async_api import expect

    base = await storekeepers(admin, tenant)
    document = order()
    answer = await accounting.upload(
        upload({"kind": "group", "value": "storekeepers"}, document, channel="lan")
    )
    assert answer["status"] in ("accepted", "pending"), answer
    lan = stack.url("lan_writer")
    context, page, errors = await signed_in(browser, stack, base, "ivanov")
    await page.locator(".doc-card").first.click(timeout=DEADLINE_MS)
    await expect(page.locator("#scan")).to_be_focused()
    await scan(page, MILK)
    await expect(qty(page, 1)).to_have_text("1")
    # «Освободить» beside «Назад» would drop the count: it asks first, Cancel keeps it.
    await page.click("#release")
    await expect(page.locator("#dialog")).to_contain_text(
        "Посчитанное на этом терминале (строк: 1)"
    )
    await page.keyboard.press("Escape")
    await expect(qty(page, 1)).to_have_text("1")

    # Finished with no network: the result waits on the terminal.
    async def refuse(route: Any) -> None:
        await route.abort("internetdisconnected")

    await context.route(f"{lan}/**", refuse)
    await context.set_offline(True)
    await page.click("#finish")
    await page.click("#dialog-ok")
    unsent = page.locator("#unsent")
    await expect(unsent).to_have_attribute("data-unsent", "1")
    # Meanwhile his session ends on the server (an operator, an expiry).
    session = await page.evaluate("JSON.parse(localStorage.getItem('tsdx.lan_session'))")
    async with LanClient(lan, session["token"]) as ivanov:
        await ivanov.logout()
    await context.unroute(f"{lan}/**", refuse)
    await context.set_offline(False)

    # Petrov signs in on the same terminal: ivanov's result is not sent under his session
    # (it would be refused for ivanov's lock and lost), it waits, and he is told whose it is.
    await expect(page.locator("h1")).to_have_text("Вход на склад", timeout=DEADLINE_MS)
    await sign_in(page, base, "petrov")
    await expect(page.locator("#notice")).to_contain_text(
        "ждут отправки результаты: ivanov", timeout=DEADLINE_MS
    )
    await unsent.click()
    await expect(page.locator("#dialog")).to_contain_text("посчитал ivanov")
    await page.click("#dialog-ok")  # «send now»: tried, and kept for ivanov
    await expect(page.locator("#dialog")).to_have_count(0)
    await expect(unsent).to_have_attribute("data-unsent", "1")
    assert await accounting.results() == []
    # Signing out keeps it too (without asking: none of it is petrov's).
    await page.click("#menu-button")
    await page.click("#logout")
    await expect(unsent).to_have_attribute("data-unsent", "1")

    await expect(page.locator("h1")).to_have_text("Вход на склад", timeout=DEADLINE_MS)
    await sign_in(page, base, "ivanov")
    await expect(unsent).to_have_attribute("data-unsent", "0", timeout=DEADLINE_MS)
    result = await completed(accounting, document["header"]["id"])
    assert [(f["line_no"], Decimal(str(f["quantity"]))) for f in result["result"]["lines"]] == [
        (1, Decimal(1))
    ]
    assert errors == []
    await context.close()


TEAM_PICKING: dict[str, Any] = {
    "id": "team-picking",
    "name": "Отбор бригадой",
    "source_type": "Заказ клиента",
    "terminal_type": "Отбор",
    "result_type": "Реализация товаров и услуг",
    "collective": True,
    "quantity_control": True,
}


async def test_a_part_the_team_s_count_takes_past_the_plan_is_said_refused_in_red(
    stack: Stack,
    tenant: dict[str, str],
    admin: AdminClient,
    accounting: AccountingClient,
    browser: Any,
) -> None:
    from playwright.async_api import expect

    base = await storekeepers(admin, tenant)
    await admin.put_process(TEAM_PICKING, tenant=base)
    document = order()
    document["header"]["accounting_type"] = "Заказ клиента"
    body = upload(
        {"kind": "group", "value": "storekeepers"}, document, channel="lan", process="team-picking"
    )
    assert (await accounting.upload(body))["status"] in ("accepted", "pending")
    pages = {login: await signed_in(browser, stack, base, login) for login in ("ivanov", "petrov")}
    ivanov, petrov = pages["ivanov"][1], pages["petrov"][1]
    for page in (ivanov, petrov):
        await page.locator(".doc-card").first.click(timeout=DEADLINE_MS)  # both join
        await expect(page.locator("#scan")).to_be_focused()

    for _ in range(3):
        await scan(ivanov, MILK)
    await ivanov.click("#partial")
    await expect(ivanov.locator("#message")).to_have_text("Отсканированное отправлено частично")
    # Petrov's own two are within the plan of 4 on his terminal; with ivanov's three they are
    # not: the server refuses his part after taking it, and he is told so, in red.
    for _ in range(2):
        await scan(petrov, MILK)
    await petrov.click("#partial")
    message = petrov.locator("#message")
    await expect(message).to_contain_text("Отправленная часть не принята", timeout=DEADLINE_MS)
    await expect(message).to_contain_text("вместе с посчитанным другими")
    await expect(message).to_have_attribute("data-kind", "error")
    for context, _, errors in pages.values():
        assert errors == []
        await context.close()
