"""The clients never reuse a connection the server may be closing (pure: no request made)."""

from __future__ import annotations

import uvicorn

from shared.client.api import KEEPALIVE_EXPIRY_SECONDS


def test_idle_connections_expire_well_before_the_server_closes_them() -> None:
    server_keep_alive = uvicorn.Config(app=None).timeout_keep_alive
    assert server_keep_alive / 2 >= KEEPALIVE_EXPIRY_SECONDS
