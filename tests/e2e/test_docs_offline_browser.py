"""The API documentation pages work on a site without internet: headless Chromium opens each
service's ``/docs`` (Swagger UI) and ``/redoc`` with every request to another origin refused,
and still sees the operations listed, their scripts and styles served by tsdx itself."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tools.cli.stack import Stack

if TYPE_CHECKING:
    from playwright.async_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is absent: install Debian's chromium package (scripts/setup.sh)",
    ),
]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEADLINE_MS = 20_000

# A path each service's schema has, shown by both pages.
OPERATIONS = {
    "gateway": "/api/v1/uploads",
    "lan_writer": "/api/v1/lan/login",
    "dashboard": "/api/v1/dashboard/",
}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def test_docs_pages_list_the_operations_with_the_outside_network_refused(
    stack: Stack,
) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            for service, operation in OPERATIONS.items():
                await _check_pages(browser, stack.url(service), operation)
        finally:
            await browser.close()


async def _check_pages(browser: Browser, base: str, operation: str) -> None:
    from playwright.async_api import Route, expect

    page = await browser.new_page()
    served: list[str] = []
    refused: list[str] = []

    async def only_tsdx(route: Route) -> None:
        url = route.request.url
        if _origin(url) == _origin(base):
            served.append(url)
            await route.continue_()
        elif url.startswith("data:"):
            await route.continue_()
        else:
            refused.append(url)
            await route.abort("internetdisconnected")

    await page.route("**/*", only_tsdx)

    await page.goto(f"{base}/docs")
    await expect(page.locator(".opblock .opblock-summary-path").first).to_be_visible(
        timeout=DEADLINE_MS
    )
    await expect(
        page.locator(f'.opblock-summary-path[data-path^="{operation}"]').first
    ).to_be_visible()
    assert any(u.endswith("/docs-assets/swagger-ui-bundle.js") for u in served)
    assert any(u.endswith("/docs-assets/swagger-ui.css") for u in served)

    await page.goto(f"{base}/redoc")
    await expect(page.locator(".api-content").first).to_be_visible(timeout=DEADLINE_MS)
    await expect(page.get_by_text(operation).first).to_be_attached()
    assert any(u.endswith("/docs-assets/redoc.standalone.js") for u in served)
    await page.close()
