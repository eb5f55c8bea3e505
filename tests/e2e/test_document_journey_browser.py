"""The operator on call finds a document on the dashboard by its number and sees its journey:
every step in order, with the terminal (internet) or the user (LAN), growing live while the
page is open, including the steps only the gateway keeps (here: the first pull by 1C)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, DEADLINE_MS
from tests.e2e.test_document_journey import finished_document
from tests.e2e.test_gateway_terminal import facts
from tests.support.documents import order, upload
from tests.support.stack import ADMIN_TOKEN
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient
from tools.client.api import LanClient

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent"),
]

INTERNET_STEPS = [
    "запрошена выгрузка",
    "выгрузка принята",
    "направлен",
    "доставлен",
    "загружен на ТСД",
    "результат",
    "результат",
    "завершён",
    "получен учётной системой",  # kept by the gateway, asked of it by the dashboard
    "загружен в учётную систему",
]


async def lan_document_finished(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient, admin: AdminClient
) -> tuple[str, str]:
    """A document for a LAN user, taken and finished by that user: its number and the login."""
    login = f"ivanov{uuid.uuid4().hex[:4]}"
    await admin.create_user(tenant["tenant"], login, password="пароль-1")
    number = f"ЛВС-{uuid.uuid4().int % 10**6:06d}"
    body: dict[str, Any] = upload({"kind": "user", "value": login}, order(number=number))
    body["channel"] = "lan"
    answer = await accounting.upload(body)
    assert answer["status"] == "accepted", answer
    delivery_id = answer["deliveries"][0]["delivery_id"]
    async with LanClient(stack.url("lan_writer")) as lan:
        await lan.login(tenant["tenant"], login, "пароль-1")
        await eventually(
            lan.documents,
            until=lambda docs: delivery_id in [d["delivery_id"] for d in docs],
            what="the document in the LAN base",
        )
        await lan.take(delivery_id)
        await lan.send_result(delivery_id, "r-1", facts("2", "4"), final=True)
    return number, login


async def test_the_dashboard_finds_a_document_by_number_and_shows_its_journey(
    stack: Stack,
    tenant: dict[str, str],
    accounting: AccountingClient,
    admin: AdminClient,
    tmp_path: Path,
) -> None:
    from playwright.async_api import async_playwright, expect

    number = f"0000-{uuid.uuid4().int % 10**6:06d}"
    document_id, device = await finished_document(stack, tenant, accounting, number)
    lan_number, login = await lan_document_finished(stack, tenant, accounting, admin)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1440, "height": 1000}, locale="ru-RU")
            script_errors: list[str] = []
            page.on("pageerror", lambda error: script_errors.append(str(error)))
            await page.goto(f"{stack.url('dashboard')}/")
            await page.fill("#admin-token", ADMIN_TOKEN)

            await page.fill("#journey-query", number)
            await page.click("#journey-form button[type=submit]")
            rows = page.locator("#journey-timeline tbody tr")
            # Live: the page polls, so the last step shows up even if it lands after the search.
            await expect(rows).to_have_count(len(INTERNET_STEPS), timeout=DEADLINE_MS)
            await expect(page.locator("#journey-state")).to_have_text(
                "загружен в учётную систему", timeout=DEADLINE_MS
            )
            steps = await rows.locator("td:nth-child(2)").all_inner_texts()
            assert steps == INTERNET_STEPS
            await expect(page.locator("#journey-heading")).to_contain_text(number)
            await expect(page.locator("#journey-heading")).to_contain_text(document_id)
            downloaded = page.locator('#journey-timeline tr[data-step="downloaded"]')
            await expect(downloaded).to_contain_text(f"{device['pin']} EDA50")
            await expect(downloaded).to_contain_text("gateway")
            pulled = page.locator('#journey-timeline tr[data-step="pulled"]')
            await expect(pulled).to_contain_text("gateway")
            # The mode in the page's words, like the channel: no English word on a Russian page.
            routed = page.locator('#journey-timeline tr[data-step="routed"]')
            await expect(routed).to_contain_text("интернет, онлайн")
            await expect(page.locator("#journey-incomplete")).to_be_hidden()
            await page.screenshot(path=str(tmp_path / "journey.png"), full_page=True)

            await page.fill("#journey-query", lan_number)
            await page.click("#journey-form button[type=submit]")
            taken = page.locator('#journey-timeline tr[data-step="taken"]')
            await expect(taken).to_contain_text(login, timeout=DEADLINE_MS)
            await expect(taken).to_contain_text("lan_writer")
            result = page.locator('#journey-timeline tr[data-step="result"]')
            await expect(result).to_contain_text(login)
            await expect(result).to_contain_text("итоговый")
            lan_steps = await rows.locator("td:nth-child(2)").all_inner_texts()
            assert lan_steps[:4] == INTERNET_STEPS[:4]
            assert lan_steps[4:6] == ["взят в работу", "результат"]

            # The gateway away: the page says its steps may be missing (the answer is the
            # dashboard's real one, with the flag it sets when the gateway does not answer).
            async def gateway_away(route: Any) -> None:
                response = await route.fetch()
                view = await response.json()
                await route.fulfill(response=response, json={**view, "incomplete": ["gateway"]})

            await page.route(f"**/api/v1/dashboard/documents/*/{document_id}", gateway_away)
            await page.fill("#journey-query", number)
            await page.click("#journey-form button[type=submit]")
            await expect(page.locator("#journey-incomplete")).to_be_visible(timeout=DEADLINE_MS)
            await expect(page.locator("#journey-incomplete")).to_contain_text("Шлюз не ответил")
            await page.unroute(f"**/api/v1/dashboard/documents/*/{document_id}")

            await page.fill("#journey-query", f"нет-такого-{uuid.uuid4().hex[:6]}")
            await page.click("#journey-form button[type=submit]")
            await expect(page.locator("#journey-status")).to_contain_text("Документ не найден")
            await expect(page.locator("#journey-document")).to_be_hidden()
            assert script_errors == []
        finally:
            await browser.close()
