"""The clients never send a request on a connection the server may be closing.

uvicorn closes a connection idle for its keep-alive (5 s). A client that reuses a connection
idle for about that long races the close: its request goes out as the server hangs up, and
fails with a read error (it failed a CI run so). The clients drop idle connections well before.
Here a real uvicorn server, with its default keep-alive, is called, left idle to just short of
its keep-alive, and called again: the second call must come on a new connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from tests.support.stack import free_port
from tests.support.waiting import eventually
from tools.client import AdminClient


class Server:
    """Answers every request with an empty tenant list, noting the client port it came from."""

    def __init__(self) -> None:
        self.client_ports: list[int] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        self.client_ports.append(scope["client"][1])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"tenants": []}'})


@pytest.fixture
async def served() -> AsyncIterator[tuple[Server, uvicorn.Config]]:
    app = Server()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0, server.started), what="server started")
        yield app, config
    finally:
        server.should_exit = True
        await task


async def test_a_call_after_an_idle_spell_near_the_keep_alive_uses_a_new_connection(
    served: tuple[Server, uvicorn.Config],
) -> None:
    app, config = served
    async with AdminClient(f"http://127.0.0.1:{config.port}", "t") as client:
        await client.tenants()
        await client.tenants()  # at once: the connection is reused
        assert len(set(app.client_ports)) == 1
        # Idle for most of the server's keep-alive: the time itself is what is tested here.
        await asyncio.sleep(config.timeout_keep_alive - 1)
        await client.tenants()
    assert len(app.client_ports) == 3
    assert app.client_ports[2] != app.client_ports[0], "a connection near its close was reused"
