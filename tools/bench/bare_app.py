"""The HTTP ceiling: a bare FastAPI JSON endpoint, served by uvicorn exactly as the services
are served (same server settings: no access log, no lifespan, the same HTTP protocol writing
an answer in one socket write), and nothing else.

With ``logged``, the same endpoint sits behind what every tsdx service puts around its
endpoints (``shared.http.install_common``: the request's log line, metrics, correlation id,
body limit): the share of a request that is tsdx's, before any work of its own.

Run as ``python -m tools.bench.bare_app HOST PORT [logged]``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response

from shared.http import install_common
from shared.http_server import server_config
from shared.logging import configure_logging

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, Any]:
    return {"documents": [], "withdrawn": []}


@app.post("/sink")
async def sink(request: Request) -> dict[str, Any]:
    """Takes a body whole (the catalog upload's ceiling) and answers."""
    return {"received": len(await request.body())}


# Catalog pages as tsdx served them (gzipped), by number, from TSDX_BENCH_PAGES: read once.
_PAGES = sorted(Path(os.environ.get("TSDX_BENCH_PAGES", "/nonexistent")).glob("*.json.gz"))
_PAGE_BYTES = {int(p.name.split(".")[0]): p.read_bytes() for p in _PAGES}


@app.get("/pages/{n}")
async def page(n: int) -> Response:
    """The same bytes a catalog sync sent (the sync's ceiling)."""
    return Response(
        _PAGE_BYTES[n], media_type="application/json", headers={"Content-Encoding": "gzip"}
    )


async def _ready() -> dict[str, bool]:
    return {"ready": True}


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    if sys.argv[3:] == ["logged"]:
        configure_logging("bench", "INFO", "json")
        install_common(app, "bench", _ready, max_body_bytes=1 << 20)
    uvicorn.Server(server_config(app, host=host, port=port)).run()


if __name__ == "__main__":
    main()
