"""The terminal app's files are served at /tsd/ with the mode of the service serving them."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.terminal_web import mount_terminal_app


@pytest.mark.parametrize("mode", ["internet", "lan"])
def test_the_page_carries_the_mode_of_the_service_serving_it(mode: str) -> None:
    app = FastAPI()
    mount_terminal_app(app, mode)  # type: ignore[arg-type]
    client = TestClient(app)

    page = client.get("/tsd/")
    assert page.status_code == 200
    assert f'<meta name="tsdx-mode" content="{mode}">' in page.text
    assert "__TSDX_MODE__" not in client.get("/tsd/index.html").text
    assert client.get("/tsd", follow_redirects=False).headers["location"] == "/tsd/"

    script = client.get("/tsd/js/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "no-cache"
    assert client.get("/tsd/sw.js").status_code == 200
    assert client.get("/tsd/manifest.webmanifest").status_code == 200
    assert client.get("/tsd/js/missing.js").status_code == 404
