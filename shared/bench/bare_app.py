"""The HTTP ceiling: a bare FastAPI JSON endpoint, served by uvicorn exactly as the services
are served (same server class settings: no access log, no lifespan), and nothing else.

Run as ``python -m shared.bench.bare_app HOST PORT``.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, Any]:
    return {"documents": [], "withdrawn": []}


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, lifespan="off")


if __name__ == "__main__":
    main()
