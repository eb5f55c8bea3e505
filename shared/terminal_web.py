"""Serving the terminal web app at ``/tsd/``: the same files from the gateway and the LAN writer.

The app learns its mode from where it is served: the page carries it in a ``<meta>`` tag
rendered here, so there is one copy of the files and no configuration on the terminal.
"""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from terminal_app import WEB_DIR

AppMode = Literal["internet", "lan"]
PREFIX = "/tsd"
MODE_MARK = "__TSDX_MODE__"


class _Revalidated(StaticFiles):
    """Static files the browser checks again each time (cheap with ETags), so an update of
    tsdx reaches terminals at once; the service worker keeps copies for offline work."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        return response


def page(mode: AppMode) -> str:
    return (WEB_DIR / "index.html").read_text(encoding="utf-8").replace(MODE_MARK, mode)


def mount_terminal_app(app: FastAPI, mode: AppMode) -> None:
    """``/tsd/``: the app's page in ``mode``; ``/tsd/...``: its scripts, styles and icons."""
    html = page(mode)

    async def index() -> HTMLResponse:
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})

    async def to_index() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/")

    app.add_api_route(f"{PREFIX}/", index, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{PREFIX}/index.html", index, methods=["GET"], include_in_schema=False)
    app.add_api_route(PREFIX, to_index, methods=["GET"], include_in_schema=False)
    app.mount(PREFIX, _Revalidated(directory=WEB_DIR), name="terminal_app")
