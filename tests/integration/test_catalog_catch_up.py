"""A copy of the catalog that missed its messages catches up from the registry by itself.

The LAN writer starts after the catalog was uploaded, and the messages meant for it are gone
(purged from its queue, as a parked or lost message would be): at start-up it sees it is
behind the registry and asks for the changes, page by page. Real RabbitMQ, real processes.
"""

from __future__ import annotations

from pathlib import Path

import aio_pika

from shared.client import AccountingClient, AdminClient, TerminalClient
from shared.client.api import LanClient
from shared.messaging.topology import LAN_WRITER_WORK
from tests.support.catalog import product, sync_all
from tests.support.stack import ADMIN_TOKEN, running_stack
from tests.support.waiting import eventually


async def test_a_lan_writer_that_missed_the_messages_catches_up_at_start(tmp_path: Path) -> None:
    env = {"TSDX_CATALOG_CHECK_SECONDS": "0.5"}
    with running_stack(tmp_path, services=("registry", "gateway"), extra_env=env) as stack:
        async with AdminClient(stack.url("gateway"), ADMIN_TOKEN) as admin:
            tenant = await admin.create_tenant("Склад для догоняющей копии")
            await admin.create_user(tenant["tenant"], "ivanov", name="Иванов", password="пароль-1")
        async with AccountingClient(stack.url("gateway"), tenant["api_key"]) as accounting:
            for start in range(0, 60, 20):  # three batches, three sets of messages
                batch = [product(n, box=12) for n in range(start + 1, start + 21)]
                await accounting.upload_catalog({"products": batch})
            await accounting.upload_catalog({"delete": {"products": ["p-7"]}})
        async with TerminalClient(stack.url("gateway")) as terminal:
            await terminal.pair(tenant["connection_code"], "@HW-CATCH-UP")
            await eventually(lambda: terminal.catalog(limit=1), until=lambda p: p["head"] == 61)

        connection = await aio_pika.connect_robust(stack.env["TSDX_AMQP_URL"])
        async with connection:
            channel = await connection.channel()
            queue = await channel.get_queue(LAN_WRITER_WORK.name)
            assert (await queue.purge()).message_count >= 4

        stack.start("lan_writer")
        stack.wait_ready(services=("lan_writer",))
        async with LanClient(stack.url("lan_writer")) as lan:
            await lan.login(tenant["tenant"], "ivanov", "пароль-1")
            await eventually(lambda: lan.catalog(limit=1), until=lambda p: p["head"] == 61)
            synced = await sync_all(lan.catalog, limit=25)
        assert synced["version"] == 61
        assert {i for _, i in synced["items"]} == {f"p-{n}" for n in range(1, 61)} - {"p-7"}
