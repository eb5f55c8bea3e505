"""A stack of its own for the bench's probes (``tools.bench.half_load``,
``tools.bench.big_document_profile``): a fresh RabbitMQ virtual host, every service its own
process as ``tsdx bench`` starts them, a tenant and its paired terminals. Everything is
stopped and deleted at the end; the services' logs are removed after a run that went
through, and kept (their directory printed) after one that failed."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from tools.bench import api
from tools.bench.api import Terminal
from tools.bench.cpu import ms_each
from tools.bench.plan import Plan
from tools.bench.run import HOST, Bench
from tools.bench.uploads import Outcome
from tools.bench.vhost import VirtualHost
from tools.bench.wire import Pool
from tools.cli.stack import Stack


@dataclass(frozen=True)
class OwnStack:
    bench: Bench
    stack: Stack
    pool: Pool  # connections to the gateway
    tenant: dict[str, Any]  # as created through the admin API (its api_key among the rest)
    terminals: list[Terminal]

    async def metered(self, deliveries: Awaitable[Outcome]) -> tuple[Outcome, str]:
        """The deliveries' outcome, and the CPU each process (the client too) spent on them,
        in ms a document ("name 1.23, ...")."""
        meter = self.bench.cpu_meter(self.stack, client=True)
        meter.start()
        outcome = await deliveries
        return outcome, ms_each(meter.stop(), len(outcome.samples))


@asynccontextmanager
async def own_stack(
    plan: Plan, tenant_name: str, terminals: int, prefix: str
) -> AsyncIterator[OwnStack]:
    """The stack up with ``terminals`` paired to a new tenant (their names begin with
    ``prefix``)."""
    bench = Bench(plan, print)
    vhost = VirtualHost(bench.settings.amqp_url, bench.settings.rabbitmq_api_url)
    created = False
    try:
        vhost.create()
        created = True
        stack = bench.stack_on(vhost)
        try:
            stack.start_all()
            await asyncio.to_thread(stack.wait_ready, 90.0)
            pool = Pool(HOST, stack.ports["gateway"])
            try:
                tenant = await api.create_tenant(pool, bench.admin_token, tenant_name)
                paired = await api.pair_many(pool, tenant["connection_code"], terminals, prefix)
                yield OwnStack(bench, stack, pool, tenant, paired)
            finally:
                await pool.close()
        finally:
            await asyncio.to_thread(stack.stop_all)
    except BaseException:
        print(f"the services' logs are kept in {bench.scratch / 'logs'}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(bench.scratch, ignore_errors=True)
    finally:
        if created:
            vhost.delete()
