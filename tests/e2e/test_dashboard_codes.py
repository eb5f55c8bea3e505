"""The dashboard lists the accounting bases and issues a new connection code with its QR code
(the old code is kept hashed, so a code can be shown only as it is issued)."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, DEADLINE_MS
from tests.e2e.test_gateway_terminal import paired
from tests.support.stack import ADMIN_TOKEN
from tools.cli.stack import Stack
from tools.client import AdminClient, ApiError

API = "/api/v1/dashboard"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SVG = "{http://www.w3.org/2000/svg}"


async def test_a_new_code_comes_with_its_qr_and_pairs_a_terminal(
    stack: Stack, tenant: dict[str, str]
) -> None:
    base = tenant["tenant"]
    async with httpx.AsyncClient(base_url=stack.url("dashboard"), headers=ADMIN) as dashboard:
        listed = (await dashboard.get(f"{API}/tenants")).json()["tenants"]
        assert any(t["tenant"] == base for t in listed)

        answer = await dashboard.post(f"{API}/tenants/{base}/connection-code")
        assert answer.status_code == 200, answer.text
        issued = answer.json()
    assert issued["tenant"] == base and issued["connection_code"] != tenant["connection_code"]
    svg = ET.fromstring(issued["qr_svg"])
    assert svg.tag == f"{SVG}svg"
    assert base in (svg.find(f"{SVG}title").text or "")  # type: ignore[union-attr]
    # The new code pairs; the old one no longer does.
    async with paired(stack, {**tenant, "connection_code": issued["connection_code"]}) as terminal:
        assert terminal.device["tenant"] == base
    with pytest.raises(ApiError) as refused:
        async with paired(stack, tenant):
            pass
    assert refused.value.code == "bad_connection_code"


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        (f"{API}/tenants/no-such-base/connection-code", ADMIN, 404, "tenant_not_found"),
        (f"{API}/tenants/Not%20A%20Base/connection-code", ADMIN, 422, "validation_error"),
        (f"{API}/tenants/any/connection-code", {}, 401, "unauthorized"),
        (
            f"{API}/tenants/any/connection-code",
            {"Authorization": "Bearer wrong"},
            401,
            "unauthorized",
        ),
    ],
)
async def test_bad_calls_are_refused_clearly(
    stack: Stack, path: str, headers: dict[str, str], status: int, code: str
) -> None:
    async with httpx.AsyncClient(base_url=stack.url("dashboard")) as dashboard:
        answer = await dashboard.post(path, headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (status, code)


async def test_tenants_need_the_admin_token(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url("dashboard")) as dashboard:
        answer = await dashboard.get(f"{API}/tenants")
    assert (answer.status_code, answer.json()["code"]) == (401, "unauthorized")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent")
async def test_the_page_shows_a_new_code_as_a_qr_code(
    stack: Stack, admin: AdminClient, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    created = await admin.create_tenant("Склад для QR", f"qr-{uuid.uuid4().hex[:6]}")
    base = created["tenant"]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1440, "height": 1000}, locale="ru-RU")
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("dialog", lambda dialog: dialog.accept())
            await page.goto(f"{stack.url('dashboard')}/")
            await page.fill("#admin-token", ADMIN_TOKEN)
            row = page.locator(f'#tenants tr[data-tenant="{base}"]')
            await expect(row).to_contain_text("Склад для QR", timeout=DEADLINE_MS)
            await row.locator("button.new-code").click()
            text = page.locator("#new-code-text")
            await expect(text).to_contain_text(f"Код подключения базы {base}:", timeout=DEADLINE_MS)
            await expect(page.locator("#new-code-qr svg")).to_be_visible()
            code = (await text.text_content() or "").split(": ", 1)[1].split(".", 1)[0]
            await page.locator("#new-code").screenshot(path=str(tmp_path / "new-code.png"))
            assert errors == []
        finally:
            await browser.close()
    async with paired(stack, {**created, "connection_code": code}) as terminal:
        assert terminal.device["tenant"] == base
