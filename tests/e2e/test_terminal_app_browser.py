"""The terminal web app in a real headless Chromium at a handheld's 480×800, against the real
stack: pairing and the PIN, a document arriving without a reload, scanning by keyboard wedge
(plain, in-store weight and marking codes), finishing; the same with the network cut in the
middle; and two users of one group on the LAN.

Screenshots are saved with the test's files; with ``TSDX_UPDATE_SCREENSHOT=1`` they replace
docs/images/terminal-*.png, the documentation's pictures.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.documents import by_pin, upload
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, TerminalClient

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is absent: install Debian's chromium package (scripts/setup.sh)",
    ),
]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
HANDHELD = {"width": 480, "height": 800}
DEADLINE_MS = 20_000
GS = "\x1d"


def ean13(first12: str) -> str:
    odd = sum(int(d) for d in first12[0::2])
    even = sum(int(d) for d in first12[1::2])
    return first12 + str((10 - (odd + 3 * even) % 10) % 10)


MILK = ean13("460123456789")
BAGS = ean13("460000000002")
CHEESE = ean13("221234500000")  # an in-store weighed product: item 12345, weight 0
CHEESE_1235_G = ean13("221234501235")


def marking(serial: str) -> str:
    """A dairy Честный ЗНАК code: 01 GTIN, 21 serial, GS, 93 crypto tail."""
    return f"010{MILK}21{serial}{GS}93Ab1x"


MARK_A = marking("5hT(a!q8Wc&k9")
MARK_B = marking("Xy7-Lm2:pQ4rS")


def receipt() -> dict[str, Any]:
    return {
        "header": {
            "accounting_type": "Заказ поставщику",
            "id": str(uuid.uuid4()),
            "number": "0000-000123",
            "date": "2026-11-28T10:15:00",
            "counterparty": "ООО «Ромашка»",
            "warehouse": "Основной склад",
            "comment": "Принять до 12:00, паллеты — на рампу 2",
        },
        "lines": [
            line(1, "Молоко «Домик в деревне» 3,2% 1 л", "МЛК-032", MILK, "шт", "2"),
            line(2, "Пакет-майка 30×50", "ПКТ-3050", BAGS, "шт", "3"),
            line(3, "Сыр «Российский» весовой", "СЫР-050", CHEESE, "кг", "1.5"),
        ],
    }


def line(n: int, name: str, article: str, barcode: str, unit: str, planned: str) -> dict[str, Any]:
    return {
        "line_no": n,
        "product_id": f"prod-{n}",
        "name": name,
        "article": article,
        "barcodes": [barcode],
        "unit": unit,
        "planned_qty": planned,
    }


def screenshot_path(tmp_path: Path, name: str) -> Path:
    if os.environ.get("TSDX_UPDATE_SCREENSHOT") == "1":
        return DOCS_IMAGES / name
    return tmp_path / name


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


async def handheld(browser: Any) -> tuple[Any, Any, list[str]]:
    context = await browser.new_context(viewport=HANDHELD, locale="ru-RU", has_touch=True)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


async def scan(page: Any, code: str, suffix: str = "Enter") -> None:
    """A keyboard-wedge scanner: the code's characters, then Enter (or Tab, as some are set)."""
    await page.keyboard.type(code)
    await page.keyboard.press(suffix)


async def type_by_hand(page: Any, selector: str, text: str) -> None:
    """Typed as a person types on a terminal's keypad: a key at a time, not at a scanner's pace
    (the quantity field takes a code that came faster as a scan)."""
    await page.locator(selector).press_sequentially(text, delay=80)


def qty(page: Any, line_no: int) -> Any:
    return page.locator(f'#lines li[data-line-no="{line_no}"] .qty-count')


async def pair_in_browser(page: Any, url: str, code: str) -> str:
    from playwright.async_api import expect

    await page.goto(f"{url}/tsd/")
    await expect(page.locator("#connection-code")).to_be_focused()
    await page.fill("#connection-code", code)
    await page.click("#pair-button")
    pin_box = page.locator("#menu-pin")
    await expect(pin_box).to_have_text(re.compile(r"^\d{4,}$"), timeout=DEADLINE_MS)
    return str(await pin_box.text_content())


async def send_to(accounting: AccountingClient, pin: str, document: dict[str, Any]) -> str:
    body = upload(by_pin(pin), document)
    answer = await accounting.upload(body)
    if answer["status"] == "pending":
        answer = await eventually(
            lambda: accounting.upload_status(body["request_id"]),
            until=lambda a: a["status"] != "pending",
            what="upload decided",
        )
    assert answer["status"] == "accepted", answer
    return str(answer["deliveries"][0]["delivery_id"])


async def completed(accounting: AccountingClient, document_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        listed = [r for r in await accounting.results() if r["document_id"] == document_id]
        return await accounting.result(document_id) if listed else None

    found = await eventually(probe, timeout=30, what="the completed document")
    assert found is not None
    return found


def lines_of(result: dict[str, Any]) -> dict[int, tuple[Decimal, list[str]]]:
    return {
        fact["line_no"]: (Decimal(str(fact["quantity"])), fact.get("marks", []))
        for fact in result["result"]["lines"]
    }


async def test_pair_receive_scan_and_finish_online(
    stack: Stack,
    tenant: dict[str, str],
    accounting: AccountingClient,
    browser: Any,
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    context, page, errors = await handheld(browser)
    await page.goto(f"{stack.url('gateway')}/tsd/")
    await expect(page.locator("h1")).to_have_text("Подключение к базе")
    await expect(page.locator("#unsent")).to_be_hidden()  # nothing could have been sent yet
    # Said once the server has answered, not taken from the browser's own guess.
    await expect(page.locator("#connection")).to_have_text("В сети")
    await page.screenshot(path=str(screenshot_path(tmp_path, "terminal-pair.png")))
    # No code, then a wrong one: said, and the field ready for the next scan, its text selected.
    await page.click("#pair-button")
    await expect(page.locator("#notice")).to_have_text("Введите или отсканируйте код подключения")
    await expect(page.locator("#connection-code")).to_be_focused()
    await page.fill("#connection-code", "ABCD-EFGH-JKLM")
    await page.click("#pair-button")
    await expect(page.locator("#notice")).to_contain_text("код подключения", timeout=DEADLINE_MS)
    await expect(page.locator("#connection-code")).to_be_focused()
    selected = "(() => { const f = document.querySelector('#connection-code');"
    selected += " return f.value.substring(f.selectionStart, f.selectionEnd); })()"
    assert await page.evaluate(selected) == "ABCD-EFGH-JKLM"

    # Typed as a handheld's keyboard types it: lower case, without the dashes.
    await page.fill("#connection-code", tenant["connection_code"].lower().replace("-", ""))
    await page.click("#pair-button")
    pin_box = page.locator("#menu-pin")
    await expect(pin_box).to_have_text(re.compile(r"^\d{4,}$"), timeout=DEADLINE_MS)
    pin = str(await pin_box.text_content())
    await expect(page.locator("#notice")).to_be_hidden()  # the earlier refusal no longer holds
    await expect(page.locator("#menu-hardware-id")).to_have_text(re.compile(r"^@TSDX-WEB-"))
    await expect(page.locator("#menu-connection")).to_have_text("В сети")
    await expect(page.locator("#menu-unsent")).to_have_text("0")
    await page.screenshot(path=str(screenshot_path(tmp_path, "terminal-menu.png")))
    await page.click("#language-toggle")  # English by a setting, Russian by default
    await expect(page.locator("#menu-connection")).to_have_text("Online")
    await page.click("#language-toggle")
    await expect(page.locator("#menu-connection")).to_have_text("В сети")
    await page.click("#menu-close")
    await expect(page.locator("#pin")).to_have_text(pin)

    document = receipt()
    delivery_id = await send_to(accounting, pin, document)
    card = page.locator(f'.doc-card[data-delivery-id="{delivery_id}"]')
    await expect(card).to_contain_text(
        "Поступление № 0000-000123 от 28.11.2026", timeout=DEADLINE_MS
    )
    await expect(card).to_contain_text("строк: 3")
    # Heard where the storekeeper is: a chime unlike any scan's answer.
    await expect(page.locator("body")).to_have_attribute("data-feedback", "arrived")
    await expect(card).to_contain_text("ООО «Ромашка» · Основной склад")
    comment = "Принять до 12:00, паллеты — на рампу 2"
    await expect(card.locator(".doc-comment")).to_have_text(comment)
    await expect(card).to_contain_text("Загружен")
    await page.screenshot(path=str(screenshot_path(tmp_path, "terminal-inbox.png")))

    # On the list, a scan opens the document it names by the number printed on the paper; a
    # product's barcode there is said to be none, with the error sound.
    await scan(page, "4600000000019")
    await expect(page.locator("#notice")).to_contain_text("не номер документа из списка")
    await expect(page.locator("#scan")).to_have_count(0)
    await card.click()  # the list's notice goes once a document is open
    await expect(page.locator("#notice")).to_be_hidden()
    await page.click("#back")
    await scan(page, "4600000000019")
    await expect(page.locator("#notice")).to_be_visible()
    await page.click("#menu-button")  # the side menu open: a scan still opens the document
    await scan(page, "0000-000123", suffix="Tab")
    await expect(page.locator("#drawer")).to_be_hidden()
    await expect(page.locator("#scan")).to_be_focused()
    await expect(page.locator("#notice")).to_be_hidden()
    await expect(page.locator("#work-comment")).to_have_text(
        "Принять до 12:00, паллеты — на рампу 2"
    )
    message = page.locator("#message")
    await scan(page, MARK_A)
    await expect(qty(page, 1)).to_have_text("1")
    await scan(page, BAGS, suffix="Tab")  # a scanner set to end its codes with Tab
    await expect(qty(page, 2)).to_have_text("1")
    await expect(page.locator("#scan")).to_be_focused()
    # Scanned twice by mistake: the last scan taken back, once.
    await scan(page, BAGS)
    await expect(qty(page, 2)).to_have_text("2")
    await page.click("#undo")
    await expect(qty(page, 2)).to_have_text("1")
    await expect(page.locator("#message")).to_have_text("Отменено: Пакет-майка 30×50 −1 шт")
    await expect(page.locator("#undo")).to_be_disabled()
    await expect(page.locator("#scan")).to_be_focused()
    await scan(page, CHEESE_1235_G)
    await expect(qty(page, 3)).to_have_text("1,235")
    await scan(page, MARK_B)
    await expect(qty(page, 1)).to_have_text("2")
    await scan(page, MARK_A)  # the same pack again
    await expect(message).to_have_attribute("data-kind", "error")
    await expect(message).to_contain_text("код маркировки уже отсканирован")
    await expect(qty(page, 1)).to_have_text("2")
    # A damaged code typed on the on-screen keyboard: once it is in, the keyboard goes.
    await page.click("#keyboard")
    await expect(page.locator("#scan")).to_have_attribute("inputmode", "text")
    await scan(page, "4600000999990")
    await expect(message).to_contain_text("Неизвестный штрихкод: 4600000999990")
    await expect(page.locator("#scan")).to_have_attribute("inputmode", "none")
    await expect(page.locator("#scan")).to_be_focused()
    await page.screenshot(path=str(screenshot_path(tmp_path, "terminal-document.png")))

    await page.click("#finish")
    await expect(page.locator("#dialog")).to_contain_text("Не всё отсканировано")
    # A scan while the question is open answers nothing and counts nothing: refused out loud.
    await expect(page.locator("#dialog")).to_be_focused()
    await scan(page, BAGS)
    await expect(page.locator("body")).to_have_attribute("data-feedback", "error")
    await expect(page.locator("#dialog")).to_be_visible()
    await expect(qty(page, 2)).to_have_text("1")
    await page.keyboard.press("Escape")  # Cancel, as a keyboard's user expects
    await expect(page.locator("#dialog")).to_have_count(0)
    await page.click("#finish")
    await page.click("#dialog-ok")
    await expect(page.locator("#notice")).to_contain_text("Результат отправлен")
    await expect(card).to_have_count(0)
    await expect(page.locator("#unsent")).to_have_attribute("data-unsent", "0")

    result = await completed(accounting, document["header"]["id"])
    assert lines_of(result) == {
        1: (Decimal(2), [MARK_A.rstrip(GS), MARK_B.rstrip(GS)]),
        2: (Decimal(1), []),
        3: (Decimal("1.235"), []),
    }
    assert errors == []
    await context.close()


async def test_a_blocked_terminal_says_so_until_let_in_again_and_a_retired_one_pairs_anew(
    stack: Stack,
    tenant: dict[str, str],
    admin: AdminClient,
    accounting: AccountingClient,
    browser: Any,
) -> None:
    """The refusal stays on the screen (a notice would vanish and leave a terminal that looks
    as if it worked); a blocked terminal asks again and takes documents once let in."""
    from playwright.async_api import expect

    context, page, errors = await handheld(browser)
    pin = await pair_in_browser(page, stack.url("gateway"), tenant["connection_code"])
    await page.click("#menu-close")
    base = tenant["tenant"]
    [device] = [d for d in await admin.devices(base) if d["pin"] == pin]
    refusal = page.locator("#refusal")
    await expect(refusal).to_be_hidden()

    await admin.block_device(base, device["device_id"])
    await expect(refusal).to_be_visible(timeout=DEADLINE_MS)
    await expect(refusal).to_have_attribute("data-code", "device_blocked")
    await expect(refusal).to_contain_text(f"Устройство {pin} заблокировано")
    await expect(refusal).to_contain_text("спрашивает сервер снова каждые 15 с")
    await expect(page.locator("#connection")).to_have_text("Отказ")  # not "online"
    await expect(page.locator("#pair-anew")).to_have_count(0)

    await admin.unblock_device(base, device["device_id"])
    # Its next ask comes within 15 s of the last, and is answered at once.
    await expect(refusal).to_be_hidden(timeout=2 * DEADLINE_MS)
    document = receipt()
    delivery_id = await send_to(accounting, pin, document)
    card = page.locator(f'.doc-card[data-delivery-id="{delivery_id}"]')
    await expect(card).to_contain_text("Поступление", timeout=DEADLINE_MS)
    await expect(page.locator("#connection")).to_have_text("В сети")

    # Disconnected and paired again (the same device, a new key): holding nothing now, its
    # first poll says so, and is answered at once with the document still on the server.
    await page.click("#menu-button")
    await page.click("#unpair")
    await page.click("#dialog-ok")
    await page.fill("#connection-code", tenant["connection_code"])
    async with page.expect_request(lambda r: "/api/v1/terminal/inbox" in r.url) as first_poll:
        await page.click("#pair-button")
    assert "known=0" in (await first_poll.value).url
    await page.click("#menu-close")
    await expect(card).to_contain_text("Поступление", timeout=DEADLINE_MS)

    await admin.retire_device(base, device["device_id"])
    await expect(refusal).to_have_attribute("data-code", "device_retired", timeout=DEADLINE_MS)
    await expect(refusal).to_contain_text(f"Устройство {pin} выведено из работы")
    await page.click("#menu-button")
    await page.click("#language-toggle")  # the band follows the app's language
    await page.click("#menu-close")
    await expect(refusal).to_contain_text(f"Device {pin} is retired.")
    await page.click("#pair-anew")
    await expect(page.locator("#dialog")).to_contain_text("Disconnect this terminal from the base?")
    await page.click("#dialog-ok")
    await expect(page.locator("#pair-button")).to_be_visible()
    await expect(refusal).to_be_hidden()
    assert errors == []
    await context.close()


async def test_scans_survive_a_cut_network_and_a_reload_and_the_result_arrives_once(
    stack: Stack,
    tenant: dict[str, str],
    accounting: AccountingClient,
    browser: Any,
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    gateway = stack.url("gateway")
    context, page, errors = await handheld(browser)
    pin = await pair_in_browser(page, gateway, tenant["connection_code"])
    await page.click("#menu-close")
    # The app shell must be in the service worker's cache before the network goes.
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    await expect(page.locator("#unsent")).to_have_text("✓ Всё отправлено")

    document = receipt()
    delivery_id = await send_to(accounting, pin, document)
    card = page.locator(f'.doc-card[data-delivery-id="{delivery_id}"]')
    await card.click(timeout=DEADLINE_MS)
    await scan(page, MARK_A)
    await expect(qty(page, 1)).to_have_text("1")

    # The network goes: requests to the server are refused, and the browser is offline too
    # (set_offline alone may miss the service worker's own fetches).
    async def refuse(route: Any) -> None:
        await route.abort("internetdisconnected")

    await context.route(f"{gateway}/**", refuse)
    await context.set_offline(True)
    await scan(page, BAGS)
    await scan(page, CHEESE_1235_G)
    await expect(qty(page, 3)).to_have_text("1,235")

    await page.reload()
    await expect(page.locator("#connection")).to_have_text("Нет связи", timeout=DEADLINE_MS)
    await expect(qty(page, 1)).to_have_text("1")
    await expect(qty(page, 2)).to_have_text("1")
    await expect(qty(page, 3)).to_have_text("1,235")
    await page.screenshot(path=str(screenshot_path(tmp_path, "terminal-offline.png")))
    await scan(page, MARK_A)  # remembered across the reload: still refused
    await expect(page.locator("#message")).to_contain_text("уже отсканирован")
    await scan(page, MARK_B)
    await expect(qty(page, 1)).to_have_text("2")
    await page.click("#finish")
    await page.click("#dialog-ok")
    await expect(page.locator("#notice")).to_contain_text("будет отправлен, когда появится связь")
    unsent = page.locator("#unsent")
    await expect(unsent).to_have_attribute("data-unsent", "1")
    await expect(unsent).to_contain_text("Не отправлено: 1")
    # The finished document has left the list; the strip shows what still waits to go.
    await unsent.click()
    await expect(page.locator("#dialog")).to_contain_text(
        "Поступление № 0000-000123 от 28.11.2026 — окончательный результат, строк: 3"
    )
    await page.click("#dialog-cancel")
    await page.reload()  # the queue is on disk too
    await expect(unsent).to_have_attribute("data-unsent", "1", timeout=DEADLINE_MS)
    assert await accounting.results() == []
    queued = await page.evaluate(
        """() => new Promise((resolve, reject) => {
            const opening = indexedDB.open("tsdx-terminal");
            opening.onsuccess = () => {
                const all = opening.result.transaction("outbox").objectStore("outbox").getAll();
                all.onsuccess = () => resolve(all.result);
                all.onerror = () => reject(all.error);
            };
        })"""
    )
    [item] = queued
    assert item["final"] is True and item["delivery_id"] == delivery_id

    # Back online, but the first answer is lost on the way: the server applied the result,
    # the terminal does not know and sends it again with the same result id.
    lost_answers: list[str] = []

    async def lose_first_answer(route: Any) -> None:
        if route.request.method == "POST" and "/results" in route.request.url and not lost_answers:
            await route.fetch()
            lost_answers.append(route.request.url)
            await route.abort("connectionreset")
            return
        await route.continue_()

    await context.unroute(f"{gateway}/**", refuse)
    await context.route(f"{gateway}/**", lose_first_answer)
    await context.set_offline(False)
    await expect(unsent).to_have_attribute("data-unsent", "0", timeout=30_000)
    await expect(page.locator("#connection")).to_have_text("В сети")
    assert len(lost_answers) == 1

    result = await completed(accounting, document["header"]["id"])
    assert lines_of(result) == {
        1: (Decimal(2), [MARK_A.rstrip(GS), MARK_B.rstrip(GS)]),
        2: (Decimal(1), []),
        3: (Decimal("1.235"), []),
    }
    assert [r["document_id"] for r in await accounting.results()] == [document["header"]["id"]]
    credential = await page.evaluate("JSON.parse(localStorage.getItem('tsdx.device')).credential")
    async with TerminalClient(gateway, credential) as terminal:
        again = await terminal.send_result(
            delivery_id, item["result_id"], item["lines"], final=True
        )
        assert again["duplicate"] is True
    assert errors == []
    await context.close()


async def storekeepers(admin: AdminClient, tenant: dict[str, str]) -> str:
    """The group «storekeepers» of ivanov and petrov in the tenant's base."""
    base = tenant["tenant"]
    await admin.create_group(base, "storekeepers")
    for login, name in (("ivanov", "Иванов И."), ("petrov", "Петров П.")):
        await admin.create_user(base, login, name=name, password="секрет-1", barcode=badge(login))
        await admin.add_member(base, "storekeepers", login)
    return base


def badge(login: str) -> str:
    return f"BADGE-{login.upper()}"


async def signed_in(
    browser: Any, stack: Stack, base: str, login: str, *, by_badge: bool = False
) -> tuple[Any, Any, list[str]]:
    """A handheld signed in to the LAN app with a login and password, or by scanning a badge."""
    from playwright.async_api import expect

    context, page, errors = await handheld(browser)
    await page.goto(f"{stack.url('lan_writer')}/tsd/")
    await expect(page.locator("h1")).to_have_text("Вход на склад")
    await sign_in(page, base, login, by_badge=by_badge)
    return context, page, errors


async def sign_in(page: Any, base: str, login: str, *, by_badge: bool = False) -> None:
    """Sign in on the LAN app's sign-in screen, shown on this terminal."""
    from playwright.async_api import expect

    await page.fill("#lan-base", base)
    if by_badge:
        await page.click("#lan-badge")
        await scan(page, badge(login))
    else:
        await page.fill("#lan-login", login)
        await page.fill("#lan-password", "секрет-1")
        await page.click("#login-button")
    await expect(page.locator("#screen")).to_have_attribute("data-screen", "list")


async def test_two_users_of_a_group_on_the_lan_one_takes_the_other_sees_it_taken(
    stack: Stack,
    tenant: dict[str, str],
    admin: AdminClient,
    accounting: AccountingClient,
    browser: Any,
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    base = await storekeepers(admin, tenant)
    document = receipt()
    body = upload({"kind": "group", "value": "storekeepers"}, document, channel="lan")
    answer = await accounting.upload(body)
    assert answer["status"] in ("accepted", "pending"), answer

    pages = {
        "ivanov": await signed_in(browser, stack, base, "ivanov"),
        "petrov": await signed_in(browser, stack, base, "petrov", by_badge=True),
    }

    ivanov, petrov = pages["ivanov"][1], pages["petrov"][1]
    card = '.doc-card:has-text("Поступление № 0000-000123 от 28.11.2026")'
    await expect(ivanov.locator(card)).to_contain_text("Свободен", timeout=DEADLINE_MS)
    await expect(petrov.locator(card)).to_contain_text("Свободен", timeout=DEADLINE_MS)

    await ivanov.click(card)
    await expect(ivanov.locator("#scan")).to_be_focused()
    await expect(petrov.locator(card)).to_contain_text("Взят: ivanov", timeout=DEADLINE_MS)
    await petrov.click(card)
    await expect(petrov.locator("#notice")).to_contain_text(
        "Документ уже взят в работу пользователем"
    )
    await expect(petrov.locator("#scan")).to_have_count(0)
    await petrov.screenshot(path=str(screenshot_path(tmp_path, "terminal-lan-taken.png")))

    await scan(ivanov, BAGS)
    await expect(qty(ivanov, 2)).to_have_text("1")
    await ivanov.click("#finish")
    await ivanov.click("#dialog-ok")
    await expect(ivanov.locator("#unsent")).to_have_attribute("data-unsent", "0")
    result = await completed(accounting, document["header"]["id"])
    assert lines_of(result) == {2: (Decimal(1), [])}

    await ivanov.click("#menu-button")
    await expect(ivanov.locator("#menu-user")).to_have_text("Иванов И.")
    await ivanov.click("#logout")
    await expect(ivanov.locator("h1")).to_have_text("Вход на склад")
    for context, _, errors in pages.values():
        assert errors == []
        await context.close()


async def test_quantity_control_typed_quantities_and_a_withdrawn_document(
    stack: Stack,
    tenant: dict[str, str],
    accounting: AccountingClient,
    browser: Any,
) -> None:
    from playwright.async_api import expect

    gateway = stack.url("gateway")
    context, page, errors = await handheld(browser)
    # A QR code may hold a link to the app with the code: the field comes filled in.
    await page.goto(f"{gateway}/tsd/?code={tenant['connection_code']}")
    await expect(page.locator("#connection-code")).to_have_value(tenant["connection_code"])
    await page.click("#pair-button")
    pin = str(await page.locator("#menu-pin").text_content(timeout=DEADLINE_MS))
    await page.click("#menu-close")

    document = receipt()
    document["header"]["accounting_type"] = "Заказ клиента"  # picking: quantity control on
    body = upload(by_pin(pin), document, process="picking")
    answer = await accounting.upload(body)
    assert answer["status"] == "accepted", answer
    first = answer["deliveries"][0]["delivery_id"]
    await page.locator(f'.doc-card[data-delivery-id="{first}"]').click(timeout=DEADLINE_MS)
    for _ in range(3):
        await scan(page, BAGS)
    await expect(qty(page, 2)).to_have_text("3")
    await scan(page, BAGS)
    await expect(page.locator("#message")).to_contain_text("Больше плана нельзя")
    await expect(qty(page, 2)).to_have_text("3")

    # A Tab-suffixed scan while the quantity field is open is a scan, not a quantity.
    await page.click('#lines li[data-line-no="1"]')
    await expect(page.locator("#dialog-input")).to_be_focused()
    await scan(page, CHEESE_1235_G, suffix="Tab")
    await expect(page.locator("#dialog")).to_have_count(0)
    await expect(qty(page, 3)).to_have_text("1,235")
    await page.click('#lines li[data-line-no="3"]')
    await page.click("#dialog-clear")
    await page.click("#dialog-ok")
    await expect(qty(page, 3)).to_have_text("0")
    # A short code scanned there (a scanner's pace) is a scan too, not 123456 pieces.
    await page.click('#lines li[data-line-no="2"]')
    await scan(page, "123456")
    await expect(page.locator("#message")).to_contain_text("Неизвестный штрихкод: 123456")
    await expect(qty(page, 2)).to_have_text("3")

    # Milk is counted in pieces: half a pack typed is a slip, refused, nothing counted.
    await page.click('#lines li[data-line-no="1"]')
    await type_by_hand(page, "#dialog-input", "1,5")
    await page.click("#dialog-ok")
    await expect(page.locator("#message")).to_have_text("Количество в «шт» — целое число, а не 1,5")
    await expect(qty(page, 1)).to_have_text("0")
    await page.click('#lines li[data-line-no="3"]')  # weighed cheese without a label
    await type_by_hand(page, "#dialog-input", "0,75")
    await page.click("#dialog-ok")
    await expect(qty(page, 3)).to_have_text("0,75")
    await page.click('#lines li[data-line-no="3"]')
    await type_by_hand(page, "#dialog-input", "1")
    await page.click("#dialog-ok")
    await expect(page.locator("#message")).to_contain_text("план 1,5, было бы 1,75")
    await expect(qty(page, 3)).to_have_text("0,75")
    # A count put right: the line cleared (after a question), to be counted again.
    await page.click('#lines li[data-line-no="3"]')
    await page.click("#dialog-clear")
    await expect(page.locator("#dialog")).to_contain_text("Обнулить строку")
    await expect(page.locator("#dialog")).to_contain_text("(0,75 кг)")  # the count with its unit
    await expect(page.locator("#dialog")).to_be_focused()  # a scan's Enter: no answer
    await expect(page.locator("#dialog-ok")).to_have_class(re.compile(r"\bdestructive\b"))
    await page.click("#dialog-ok")
    await expect(qty(page, 3)).to_have_text("0")
    await expect(page.locator("#message")).to_contain_text("строка обнулена")
    await expect(page.locator("#scan")).to_be_focused()

    # 1C replaces the document while it is being counted, its quantity question open: the old
    # copy goes, with a notice, and the answer given after counts nothing into it.
    await page.click('#lines li[data-line-no="3"]')
    await type_by_hand(page, "#dialog-input", "0,5")
    again = upload(by_pin(pin), document, process="picking")
    again["recall"] = True
    replaced = await accounting.upload(again)
    assert replaced["status"] == "accepted", replaced
    second = replaced["deliveries"][0]["delivery_id"]
    await expect(page.locator("#notice")).to_contain_text(
        "Документ отозван: Подбор № 0000-000123 от 28.11.2026", timeout=DEADLINE_MS
    )
    await page.click("#dialog-ok")
    await expect(page.locator("#scan")).to_have_count(0)
    await expect(page.locator(f'.doc-card[data-delivery-id="{first}"]')).to_have_count(0)
    await expect(page.locator("body")).not_to_have_attribute("data-feedback", "ok")
    await page.locator(f'.doc-card[data-delivery-id="{second}"]').click(timeout=DEADLINE_MS)
    await expect(qty(page, 2)).to_have_text("0")
    assert errors == []
    await context.close()


async def test_a_collective_count_on_the_lan_adds_a_partial_send_and_two_users_results(
    stack: Stack,
    tenant: dict[str, str],
    admin: AdminClient,
    accounting: AccountingClient,
    browser: Any,
) -> None:
    from playwright.async_api import expect

    base = await storekeepers(admin, tenant)
    document = receipt()
    document["header"]["accounting_type"] = "Инвентаризация товаров на складе"
    body = upload(
        {"kind": "group", "value": "storekeepers"},
        document,
        channel="lan",
        process="inventory-count",
    )
    assert (await accounting.upload(body))["status"] in ("accepted", "pending")
    pages = {login: await signed_in(browser, stack, base, login) for login in ("ivanov", "petrov")}
    ivanov, petrov = pages["ivanov"][1], pages["petrov"][1]
    card = '.doc-card:has-text("Инвентаризация № 0000-000123 от 28.11.2026")'
    for page in (ivanov, petrov):
        await expect(page.locator(card)).to_contain_text("Совместный", timeout=DEADLINE_MS)
        await page.click(card)  # both join the collective document
        await expect(page.locator("#scan")).to_be_focused()

    await scan(ivanov, BAGS)
    await scan(ivanov, BAGS)
    await expect(qty(ivanov, 2)).to_have_text("2")
    await ivanov.click("#partial")
    await expect(ivanov.locator("#message")).to_have_text("Отсканированное отправлено частично")
    await expect(ivanov.locator("#unsent")).to_have_attribute("data-unsent", "0")

    await scan(petrov, BAGS)
    await expect(qty(petrov, 2)).to_have_text("1")
    for page in (petrov, ivanov):
        await page.click("#finish")
        await page.click("#dialog-ok")
        await expect(page.locator("#unsent")).to_have_attribute("data-unsent", "0")

    result = await completed(accounting, document["header"]["id"])
    assert lines_of(result) == {2: (Decimal(3), [])}
    for context, _, errors in pages.values():
        assert errors == []
        await context.close()
