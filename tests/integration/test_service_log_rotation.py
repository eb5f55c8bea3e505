"""Under ``tsdx up`` each service's log rotates by size and keeps a bounded number of files.

A real registry process runs with tiny limits (2 KiB, 3 older files) and is asked enough to
write ten times that: the log directory then holds exactly ``registry.log`` and ``.1``-``.3``,
none larger than the limit, every line whole, and the newest requests are all there in order.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.support.broker import amqp_url, create_vhost, delete_vhost, require_broker
from tests.support.stack import free_port
from tests.support.waiting import eventually
from tools.cli.stack import Stack

MAX_BYTES = 2048
BACKUPS = 3
REQUESTS = 120


def _marks(path: Path) -> list[int]:
    """The request numbers in one log file, in the order they were written."""
    marks = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)  # every line whole: JSON from start to end
        cid = entry.get("correlation_id", "")
        if entry.get("event") == "http.request" and cid.startswith("rotation-"):
            marks.append(int(cid.removeprefix("rotation-")))
    return marks


async def test_a_service_log_rotates_by_size_and_keeps_a_bounded_number_of_files(
    tmp_path: Path,
) -> None:
    require_broker()
    vhost = create_vhost()
    logs = tmp_path / "logs"
    stack = Stack(
        env={
            "TSDX_AMQP_URL": amqp_url(vhost),
            "TSDX_DATA_DIR": str(tmp_path / "data"),
            "TSDX_LOG_FORMAT": "json",
        },
        ports={"registry": free_port()},
        services=("registry",),
        log_dir=logs,
        log_max_bytes=MAX_BYTES,
        log_backups=BACKUPS,
    )
    try:
        stack.start_all()
        stack.wait_ready(timeout=60)
        async with httpx.AsyncClient(base_url=stack.url("registry")) as client:
            for n in range(REQUESTS):
                response = await client.get(
                    "/no-such-page", headers={"X-Correlation-ID": f"rotation-{n}"}
                )
                assert response.status_code == 404

        async def newest_logged() -> list[int]:
            path = logs / "registry.log"
            return _marks(path) if path.exists() else []

        await eventually(
            newest_logged, until=lambda m: REQUESTS - 1 in m, what="last request logged"
        )
    finally:
        stack.stop_all()
        delete_vhost(vhost)

    names = sorted(p.name for p in logs.iterdir())
    assert names == ["registry.log", *(f"registry.log.{i}" for i in range(1, BACKUPS + 1))]
    for path in logs.iterdir():
        assert 0 < path.stat().st_size <= MAX_BYTES, (path.name, path.stat().st_size)
    # Oldest file first: what is kept is the newest requests, none missing, none twice.
    kept = [n for i in range(BACKUPS, 0, -1) for n in _marks(logs / f"registry.log.{i}")]
    kept += _marks(logs / "registry.log")
    assert kept == list(range(kept[0], REQUESTS))
    assert kept[0] > 0  # the oldest lines were rotated away: the limits hold
