"""The API documentation pages (Swagger UI at ``/docs``, ReDoc at ``/redoc``), served whole by
tsdx itself: their JavaScript and CSS come from the pinned ``fastapi-offline`` package, not from
a CDN, so the pages work on a site without internet.

Every service that shows its API builds its app with ``documented_app``; FastAPI's own pages
(which load from jsdelivr) are never registered.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs-assets"


def assets_dir() -> Path:
    """Where the pinned package keeps swagger-ui-bundle.js, swagger-ui.css,
    redoc.standalone.js and favicon.png."""
    return Path(str(files("fastapi_offline") / "static"))


def documented_app(**kwargs: Any) -> FastAPI:
    """A FastAPI app whose ``/docs`` and ``/redoc`` load everything from this server."""
    app = FastAPI(docs_url=None, redoc_url=None, **kwargs)
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")
    # Both pages read the same schema under the same title; only the viewer differs.
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} — API"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=title,
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    return app
