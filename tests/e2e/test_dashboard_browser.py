"""The operator's page in a real headless Chromium: a decision made a moment ago shows up live,
and the replay button brings a parked message back to work.

The page's screenshot is saved with the test's files; with ``TSDX_UPDATE_SCREENSHOT=1`` it
replaces docs/images/dashboard.png, the documentation's picture (a plain run leaves the
checkout as it was).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.messaging.topology import ROUTING_WORK
from tests.e2e.test_dashboard_api import (
    PARK_REASON,
    decided_upload,
    park_upload,
    upload_status,
)
from tests.support.documents import by_pin, order, upload
from tests.support.stack import ADMIN_TOKEN, running_stack
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
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "dashboard.png"
# Generous: the page polls every 1.5-2 s and the management API samples every few seconds.
DEADLINE_MS = 20_000
# The Russian page's text may hold Latin letters only in names shown as they are: the product
# and units, what the page marks translate="no" (bases, processes, codes, queues, devices),
# and the names this test gave (the terminal's model, a user's login).
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
LATIN_ALLOWED = {"tsdx"}
TEST_NAMES = ("EDA50", "petrov")
LAN_GROUP = "Смена 1"
LAN_USER = "petrov"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of the page's own: what it shows is this test's data only, not other tests'
    names quoted in their refusals' messages on the session's shared stack."""
    with running_stack(tmp_path_factory.mktemp("dashboard")) as own:
        yield own


def english_words(text: str, as_is: list[str]) -> list[str]:
    for name in sorted(as_is, key=len, reverse=True):
        text = text.replace(name, " ", 1)
    for name in TEST_NAMES:
        text = text.replace(name, " ")
    return [word for word in LATIN_WORD.findall(text) if word not in LATIN_ALLOWED]


async def test_page_shows_a_live_decision_and_replays_a_parked_message(
    stack: Stack,
    admin: AdminClient,
    tenant: dict[str, str],
    accounting: AccountingClient,
    tmp_path: Path,
) -> None:
    from playwright.async_api import Dialog, async_playwright, expect

    async with TerminalClient(stack.url("gateway")) as terminal:
        paired = await terminal.pair(
            tenant["connection_code"], "@HONEYWELL-EDA50-V-16204B17A7", "EDA50", "EDA50"
        )
        pin = paired["pin"]
        accepted = await decided_upload(accounting, upload(by_pin(pin), order(lines=3)))
        assert accepted["status"] == "accepted", accepted
        wrong = ("1" if pin[0] != "1" else "2") + pin[1:]
        refused = await decided_upload(accounting, upload(by_pin(wrong)))
        assert refused["code"] == "device_not_found_by_pin"
        parked_id, parked_request = await park_upload(stack, tenant["tenant"], pin)
        junk_id, _ = await park_upload(stack, tenant["tenant"], "0000")
        # LAN uploads to a group and to a user: their kinds must be named in Russian too.
        await admin.create_group(tenant["tenant"], LAN_GROUP)
        await admin.create_user(tenant["tenant"], LAN_USER, name="Петров П.", password="secret-1")
        await admin.add_member(tenant["tenant"], LAN_GROUP, LAN_USER)
        lan_uploads = {}
        for kind, value in (("group", LAN_GROUP), ("user", LAN_USER)):
            body = upload({"kind": kind, "value": value}, order(lines=1), channel="lan")
            answer = await decided_upload(accounting, body)
            assert answer["status"] == "accepted", answer
            lan_uploads[kind] = answer["request_id"]

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                page = await browser.new_page(
                    viewport={"width": 1440, "height": 1000}, locale="ru-RU"
                )
                script_errors: list[str] = []
                page.on("pageerror", lambda error: script_errors.append(str(error)))
                await page.goto(f"{stack.url('dashboard')}/")
                await expect(page.locator("h1")).to_have_text("tsdx — панель оператора")
                # Every figure is for operators: without the admin token the page asks for it.
                await expect(page.locator("#status")).to_contain_text(
                    "Введите токен администратора", timeout=DEADLINE_MS
                )
                await expect(page.locator("#feed tr[data-request-id]")).to_have_count(0)
                # A wrong one is named as the token, not as a dashboard that does not answer.
                await page.fill("#admin-token", "wrong")
                await expect(page.locator("#status")).to_have_text(
                    "Нет доступа: неверный или отсутствующий токен администратора "
                    "(TSDX_ADMIN_TOKEN на сервере).",
                    timeout=DEADLINE_MS,
                )
                await page.fill("#admin-token", ADMIN_TOKEN)

                decision = page.locator(f'#feed tr[data-request-id="{accepted["request_id"]}"]')
                await expect(decision).to_contain_text("принят", timeout=DEADLINE_MS)
                await expect(decision).to_contain_text(f"{pin} (EDA50)")
                await expect(decision).to_contain_text("purchase-receipt")
                refusal = page.locator('#refusals tr[data-code="device_not_found_by_pin"]')
                await expect(refusal).to_contain_text("Устройство по пин-коду не найдено")
                device = page.locator(f'#devices tr[data-device-id="{paired["device_id"]}"]')
                await expect(device).to_contain_text(pin, timeout=DEADLINE_MS)
                await expect(page.locator('#queues tr[data-queue="routing.work"]')).to_be_visible(
                    timeout=DEADLINE_MS
                )
                parked_row = page.locator(f'#parked tr[data-message-id="{parked_id}"]')
                await expect(parked_row).to_contain_text(PARK_REASON, timeout=DEADLINE_MS)
                await expect(parked_row).to_contain_text(ROUTING_WORK.name)
                await expect(page.locator("#c-accepted")).not_to_have_text("0")
                to_group = page.locator(f'#feed tr[data-request-id="{lan_uploads["group"]}"]')
                await expect(to_group).to_contain_text(
                    f"группа {LAN_GROUP} → группа {LAN_GROUP}", timeout=DEADLINE_MS
                )
                to_user = page.locator(f'#feed tr[data-request-id="{lan_uploads["user"]}"]')
                await expect(to_user).to_contain_text(f"пользователь {LAN_USER} → пользователь")

                # Live data on every table: the Russian page says nothing in English.
                text = await page.inner_text("body")
                as_is = await page.eval_on_selector_all(
                    '[translate="no"]', "nodes => nodes.map(n => n.innerText)"
                )
                assert english_words(text, as_is) == [], text

                screenshot = (
                    DOCS_SCREENSHOT
                    if os.environ.get("TSDX_UPDATE_SCREENSHOT") == "1"
                    else tmp_path / "dashboard.png"
                )
                await page.screenshot(path=str(screenshot), full_page=True)
                assert screenshot.stat().st_size > 10_000  # a page, not a blank

                await parked_row.locator("button.replay").click()
                await expect(page.locator("#replay-status")).to_contain_text(
                    "Возвращено в очередь: 1", timeout=DEADLINE_MS
                )
                await expect(parked_row).to_have_count(0, timeout=DEADLINE_MS)
                replayed = page.locator(f'#feed tr[data-request-id="{parked_request}"]')
                await expect(replayed).to_contain_text("принят", timeout=DEADLINE_MS)

                # One that will never apply is deleted, once the operator says yes.
                junk_row = page.locator(f'#parked tr[data-message-id="{junk_id}"]')
                asked: list[str] = []

                async def say_no(dialog: Dialog) -> None:
                    asked.append(dialog.message)
                    await dialog.dismiss()

                async def say_yes(dialog: Dialog) -> None:
                    asked.append(dialog.message)
                    await dialog.accept()

                page.once("dialog", say_no)
                await junk_row.locator("button.discard").click()
                await expect(junk_row.locator("button.discard")).to_be_enabled()
                page.once("dialog", say_yes)
                await junk_row.locator("button.discard").click()
                await expect(page.locator("#replay-status")).to_contain_text(
                    "Удалено сообщений: 1", timeout=DEADLINE_MS
                )
                await expect(junk_row).to_have_count(0, timeout=DEADLINE_MS)
                assert len(asked) == 2 and f"Удалить отложенное сообщение {junk_id}" in asked[0]
                assert script_errors == []

                # The English page stays English, the server's names of kinds included.
                await page.goto(f"{stack.url('dashboard')}/?lang=en")
                await expect(page.locator("h1")).to_have_text("tsdx — operator dashboard")
                to_group = page.locator(f'#feed tr[data-request-id="{lan_uploads["group"]}"]')
                await expect(to_group).to_contain_text(
                    f"group {LAN_GROUP} → group {LAN_GROUP}", timeout=DEADLINE_MS
                )
                await expect(page.locator("#feed thead")).to_contain_text("Business process")
            finally:
                await browser.close()

        # Routing really consumed it: the gateway has the decision and the terminal the copy.
        status = await eventually(
            lambda: upload_status(accounting, parked_request),
            until=lambda s: s.get("status") == "accepted",
            what="the replayed request decided",
        )
        inbox = await eventually(
            lambda: terminal.inbox(),
            until=lambda r: len(r["documents"]) == 2,
            what="both copies in the terminal's inbox",
        )
        delivered = {d["delivery_id"] for d in inbox["documents"]}
        assert delivered == {
            accepted["deliveries"][0]["delivery_id"],
            status["deliveries"][0]["delivery_id"],
        }
