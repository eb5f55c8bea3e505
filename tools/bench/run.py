"""One bench run: the ceilings first, then the whole stack under each load in turn.

Everything is started here and stopped again: a RabbitMQ virtual host of its own, the bare
FastAPI server, the stack (every service its own process, embedded SQLite in a scratch
directory), and the load generator processes.
"""

from __future__ import annotations

import asyncio
import math
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx
from prometheus_client.parser import text_string_to_metric_families

from shared.collector import long_lived_frozen
from shared.outbox import OUTBOX
from shared.settings import Settings
from shared.storage import open_store
from tools.bench import api
from tools.bench import catalog as catalog_bench
from tools.bench.amqp_ceiling import round_trip_rate
from tools.bench.api import Terminal
from tools.bench.big_document import big_document
from tools.bench.cpu import CpuMeter, broker_pid, ms_each
from tools.bench.documents import order, upload_to_device
from tools.bench.figures import Figure, figure
from tools.bench.http_load import LoadResult, LoadSpec, run_in_own_process
from tools.bench.long_polls import LongPollProcess, LongPollSpec
from tools.bench.machine import Machine, this_machine
from tools.bench.memory import PeakTracker, snapshot
from tools.bench.plan import Plan
from tools.bench.seed import OPEN_STATES, seed_inbox_base
from tools.bench.stats import Latency
from tools.bench.uploads import Outcome, UploadDriver
from tools.bench.vhost import MessageCounts, VirtualHost
from tools.bench.wire import Pool, WireError
from tools.cli.stack import SERVICES, Stack

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
# The request-rate limit per credential is a policy, not a capacity: lifted for the bench.
UNLIMITED = str(10**9)
# Bounds of the long-poll phase: opening every connection, then every document arriving.
LONG_POLL_PHASE = "long polls"
LONG_POLL_CONNECT_SECONDS = 300.0
LONG_POLL_UPLOAD_SECONDS = 60.0
LONG_POLL_SETTLE_SECONDS = 120.0
# Let the services settle after start before the idle memory is read.
SETTLE_SECONDS = 2.0


@dataclass
class Results:
    plan: Plan
    machine: Machine
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    prefetch: int = 0
    settle_seconds: float = SETTLE_SECONDS
    seconds: float = 0.0  # how long the whole run took


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Bench:
    def __init__(
        self,
        plan: Plan,
        progress: Callable[[str], None],
        *,
        only_catalog: bool = False,
        only_polls: bool = False,
    ) -> None:
        self.plan = plan
        self.only_catalog = only_catalog
        self.only_polls = only_polls
        self.say = progress
        self.settings = Settings()
        self.scratch = Path(tempfile.mkdtemp(prefix="tsdx-bench-"))
        self.admin_token = secrets.token_urlsafe(24)
        self.results = Results(plan, this_machine(), prefetch=self.settings.prefetch)
        # Resident memory peaks of the services, by load phase.
        self.peaks: dict[str, dict[str, float]] = {}
        # The inbox-poll base's API key and its terminals without documents (long polls).
        self._long_poll_base: tuple[str, list[Terminal]] | None = None

    # The run -----------------------------------------------------------------------------

    async def run(self) -> Results:
        self.results.load_before = os.getloadavg()
        started = time.monotonic()
        vhost = VirtualHost(self.settings.amqp_url, self.settings.rabbitmq_api_url)
        vhost.create()
        # This process's garbage collector as the services': a full pass over what the client
        # holds stops its event loop (39-47 ms seen over some 80,000 objects), and the
        # latencies it measures would carry the client's own pauses.
        try:
            async with long_lived_frozen(full_passes=False):
                await self._measure(vhost)
        finally:
            vhost.delete()
        # Only after a run that went through: a failed one leaves the service logs here.
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.results.load_after = os.getloadavg()
        self.results.seconds = time.monotonic() - started
        return self.results

    async def _measure(self, vhost: VirtualHost) -> None:
        if self.only_catalog:
            await self._measure_catalog_only(vhost)
        elif self.only_polls:
            await self._measure_polls_only(vhost, await self._http_ceiling())
        else:
            amqp_rate = await self._amqp_ceiling(vhost.amqp_url)
            bare = await self._http_ceiling()
            skeleton = await self._skeleton_ceiling(vhost.amqp_url, amqp_rate)
            await self._measure_stack(vhost, skeleton, bare)

    async def _amqp_ceiling(self, amqp_url: str) -> float:
        self.say(f"ceiling: raw aio-pika round trip, {self.plan.amqp_messages} messages")
        rate = await round_trip_rate(
            amqp_url,
            self.plan.amqp_messages,
            prefetch=self.settings.prefetch,
            quorum=self.settings.quorum_queues,
        )
        self.note(f"raw aio-pika round trip: {rate:.0f} msg/s")
        return rate

    async def _http_ceiling(self) -> LoadResult:
        self.say("ceiling: bare FastAPI JSON endpoint under uvicorn")
        bare = await self._bare_endpoint(logged=False)
        self._note_load("bare FastAPI", bare)
        self.say("the same endpoint behind tsdx's HTTP middleware")
        logged = await self._bare_endpoint(logged=True)
        self._note_load(
            "the bare endpoint behind tsdx's HTTP middleware (log line, metrics, correlation id)",
            logged,
            ratio_to=bare,
        )
        return bare

    async def _start_bare(
        self, port: int, *, logged: bool, pages: Path | None = None
    ) -> asyncio.subprocess.Process:
        log_name = f"bare-{'logged' if logged else 'plain'}{'-pages' if pages else ''}.log"
        env = {**os.environ, "TSDX_BENCH_PAGES": str(pages)} if pages else None
        with _log_file(self.scratch / "logs" / log_name) as log:
            server = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tools.bench.bare_app",
                HOST,
                str(port),
                *(["logged"] if logged else []),
                cwd=ROOT,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
            )
        await _wait_http(f"http://{HOST}:{port}/ping", server)
        return server

    async def _bare_endpoint(self, *, logged: bool) -> LoadResult:
        port = free_port()
        name = "with tsdx's middleware" if logged else "bare FastAPI"
        server = await self._start_bare(port, logged=logged)
        try:
            meter = CpuMeter({name: server.pid})
            meter.start()
            result = await self._load(port, "/ping", [])
            spent = meter.stop()
            self._note_cpu(f"per request of the bare endpoint, {name}", spent, result.answered)
        finally:
            server.terminate()
            await server.wait()
        return result

    async def _skeleton_ceiling(self, amqp_url: str, amqp_rate: float) -> float:
        plan = self.plan
        self.say(
            f"ceiling: the skeleton pipeline, {plan.lanes} uploaders for {plan.upload_seconds:g} s"
        )
        port = free_port()
        with _log_file(self.scratch / "logs" / "skeleton.log") as log:
            server = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tools.bench.skeleton_app",
                HOST,
                str(port),
                amqp_url,
                str(self.settings.prefetch),
                cwd=ROOT,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        pool = Pool(HOST, port)
        try:
            await _wait_http(f"http://{HOST}:{port}/ping", server)
            # The skeleton takes a device's id as its credential: nothing to pair.
            terminals = [Terminal(f"dev-{n}", f"dev-{n}") for n in range(plan.terminals)]
            driver = UploadDriver(pool, "skeleton", terminals, plan.upload_lines)
            pids = {"skeleton pipeline": server.pid, "bench client": os.getpid()}
            broker = broker_pid()
            if broker is not None:
                pids["RabbitMQ (whole broker)"] = broker
            meter = CpuMeter(pids)
            meter.start()
            outcome = await driver.closed_loop(plan.lanes, plan.upload_warmup, plan.upload_seconds)
            spent = meter.stop()
            self._note_cpu("per document of the skeleton pipeline", spent, len(outcome.samples))
        finally:
            await pool.close()
            server.terminate()
            await server.wait()
        self._note_outcome("the skeleton pipeline", outcome)
        rate, latency = outcome.rate, outcome.latency
        self.note(
            f"skeleton pipeline: {rate:.0f} docs/s, p50 {latency.p50 * 1000:.1f} ms, "
            f"p99 {latency.p99 * 1000:.1f} ms ({rate / amqp_rate:.2f} of the raw round trip)"
        )
        self.add(figure("skeleton_throughput", rate, amqp_rate, lanes=plan.lanes))
        return rate

    def stack_on(self, vhost: VirtualHost) -> Stack:
        """The stack as the bench runs it (every service its own process, this run's scratch
        directory and logs) on ``vhost``; not started. The probes' own stack uses it too."""
        return Stack(
            env={
                "TSDX_AMQP_URL": vhost.amqp_url,
                "TSDX_STORE": "sqlite",
                "TSDX_DATA_DIR": str(self.scratch / "data"),
                "TSDX_ADMIN_TOKEN": self.admin_token,
                "TSDX_LOG_FORMAT": "json",
                "TSDX_RATE_LIMIT_PER_SECOND": UNLIMITED,
                "TSDX_RATE_LIMIT_BURST": UNLIMITED,
            },
            host=HOST,
            ports={service: free_port() for service in SERVICES},
            log_dir=self.scratch / "logs",
        )

    async def _measure_catalog_only(self, vhost: VirtualHost) -> None:
        stack = self.stack_on(vhost)
        self.say(f"starting the stack: {', '.join(stack.services)}")
        stack.start_all()
        try:
            await asyncio.to_thread(stack.wait_ready, 90.0)
            pool = Pool(HOST, stack.ports["gateway"])
            try:
                await self._catalog(stack, pool)
            finally:
                await pool.close()
        finally:
            self.say("stopping the stack")
            await asyncio.to_thread(stack.stop_all)
        self._catalog_rss(stack)

    async def _measure_polls_only(self, vhost: VirtualHost, bare: LoadResult) -> None:
        """The inbox polls and the long polls alone, on a stack that took no uploads before."""
        stack = self.stack_on(vhost)
        self.say(f"starting the stack: {', '.join(stack.services)}")
        stack.start_all()
        try:
            await asyncio.to_thread(stack.wait_ready, 90.0)
            pool = Pool(HOST, stack.ports["gateway"])
            try:
                polls = await self._polls(stack, pool)
                await self._long_polls(stack)
            finally:
                await pool.close()
        finally:
            self.say("stopping the stack")
            await asyncio.to_thread(stack.stop_all)
        self._add_inbox_polls(polls, bare)
        self._note_peaks()

    def _add_inbox_polls(self, polls: LoadResult, bare: LoadResult) -> None:
        plan = self.plan
        self.add(
            figure(
                "inbox_polls",
                polls.rate,
                bare.rate,
                devices=plan.poll_devices,
                documents=plan.poll_documents,
            )
        )

    def _note_peaks(self) -> None:
        for phase, peaks in self.peaks.items():
            self.note(
                f"RSS peak during {phase}, MB: "
                + ", ".join(f"{name} {mb:.0f}" for name, mb in peaks.items())
            )

    async def _measure_stack(self, vhost: VirtualHost, skeleton: float, bare: LoadResult) -> None:
        stack = self.stack_on(vhost)
        self.say(f"starting the stack: {', '.join(stack.services)}")
        stack.start_all()
        try:
            await asyncio.to_thread(stack.wait_ready, 90.0)
            await asyncio.sleep(SETTLE_SECONDS)
            idle = snapshot(_pids(stack))
            pool = Pool(HOST, stack.ports["gateway"])
            try:
                await self._uploads(stack, pool, skeleton, vhost)
                polls = await self._polls(stack, pool)
                await self._catalog(stack, pool)
                # Last: ten thousand connections leave the gateway's memory grown for good.
                await self._long_polls(stack)
            finally:
                await pool.close()
        finally:
            self.say("stopping the stack")
            await asyncio.to_thread(stack.stop_all)
        self._add_inbox_polls(polls, bare)
        for service in stack.services:
            if service in idle:
                self.add(figure(f"rss_idle_{service}", idle[service]))
        for service in stack.services:
            # The long polls have a memory figure (and bound) of their own.
            by_phase = [
                peaks[service]
                for phase, peaks in self.peaks.items()
                if service in peaks and phase != LONG_POLL_PHASE
            ]
            if by_phase:
                self.add(figure(f"rss_load_{service}", max(by_phase)))
        self._catalog_rss(stack)
        self._note_peaks()

    # Uploads -----------------------------------------------------------------------------

    async def _uploads(self, stack: Stack, pool: Pool, skeleton: float, vhost: VirtualHost) -> None:
        plan = self.plan
        tenant = await api.create_tenant(pool, self.admin_token, "Бенчмарк: выгрузки")
        self.say(f"pairing {plan.terminals + 1} terminals through the API")
        started = time.perf_counter()
        terminals = await api.pair_many(
            pool, tenant["connection_code"], plan.terminals + 1, "BENCH-UP"
        )
        seconds = time.perf_counter() - started
        self.note(
            f"paired {len(terminals)} terminals through POST /api/v1/terminal/pair in "
            f"{seconds:.1f} s ({len(terminals) / seconds:.0f}/s)"
        )
        big_terminal = terminals.pop()
        driver = UploadDriver(pool, tenant["api_key"], terminals, plan.upload_lines)
        self.say(
            f"uploads, full load: {plan.lanes} uploaders for {plan.upload_seconds:g} s "
            f"after {plan.upload_warmup:g} s of warm-up"
        )
        before = await vhost.settled_counts()
        timers_before = await _timer_messages(stack)
        meter = self.cpu_meter(stack, client=True)
        async with self._tracking_peaks(stack, "uploads"):
            meter.start()
            full = await driver.closed_loop(plan.lanes, plan.upload_warmup, plan.upload_seconds)
            self._note_cpu("per document at full load", meter.stop(), len(full.samples))
            half_rate = full.rate / 2
            self.say(f"uploads, half load: {half_rate:.1f} docs/s for {plan.half_seconds:g} s")
            half = await driver.open_loop(half_rate, plan.half_warmup, plan.half_seconds)
        after = await vhost.settled_counts()
        timers_after = await _timer_messages(stack)
        timers = None
        if timers_before is not None and timers_after is not None:
            timers = timers_after - timers_before
        if before is None or after is None:
            self.note("broker messages per upload: not counted (no settled management API)")
        else:
            documents = len(full.samples) + len(half.samples)
            self._note_messages(after - before, timers, documents, full.rate)
        self._note_outcome("full load", full)
        latency = full.latency
        self.add(figure("upload_throughput", full.rate, skeleton, lanes=plan.lanes))
        self.add(figure("upload_p50", latency.p50 * 1000))
        self.add(figure("upload_p95", latency.p95 * 1000))
        self.add(figure("upload_p99", latency.p99 * 1000))

        self._note_outcome("half load", half)
        self.add(figure("upload_half_p99", half.latency.p99 * 1000, rate=half_rate))

        self.say(
            f"uploads of {plan.batch_documents} documents: {plan.batch_lanes} uploaders for "
            f"{plan.batch_seconds:g} s after {plan.batch_warmup:g} s of warm-up"
        )
        batches = UploadDriver(
            pool, tenant["api_key"], terminals, plan.upload_lines, plan.batch_documents
        )
        meter = self.cpu_meter(stack, client=True)
        async with self._tracking_peaks(stack, f"{plan.batch_documents}-document uploads"):
            meter.start()
            batch = await batches.closed_loop(
                plan.batch_lanes, plan.batch_warmup, plan.batch_seconds
            )
            self._note_cpu(
                f"per document of {plan.batch_documents}-document uploads",
                meter.stop(),
                len(batch.samples),
            )
        self._note_outcome(f"{plan.batch_documents}-document uploads", batch)
        self.add(
            figure(
                "batch_throughput",
                batch.rate,
                skeleton,
                lanes=plan.batch_lanes,
                documents=plan.batch_documents,
            )
        )

        # The uploads' last messages (the terminals' progress, the device lists' notes) are
        # still being handled: the large document is timed once the broker is quiet again,
        # so that its figure and its CPU are its own.
        if await vhost.settled_counts() is None:
            self.note("the large document: sent before the broker was quiet after the uploads")
        self.say(f"one document of {plan.big_lines} lines, there and back")
        meter = self.cpu_meter(stack, client=True)
        async with self._tracking_peaks(stack, "the large document"):
            meter.start()
            times = await big_document(pool, tenant["api_key"], big_terminal, plan.big_lines)
            self._note_cpu(f"for the {plan.big_lines}-line document", meter.stop(), 1)
        self.add(figure("big_download", times.upload_to_download, lines=plan.big_lines))
        self.add(figure("big_result", times.result_to_completed, lines=plan.big_lines))

    # The catalog -------------------------------------------------------------------------

    async def _catalog(self, stack: Stack, pool: Pool) -> None:
        plan = self.plan
        tenant = await api.create_tenant(pool, self.admin_token, "Бенчмарк: справочники")
        [terminal] = await api.pair_many(pool, tenant["connection_code"], 1, "BENCH-CATALOG")
        items = catalog_bench.products(plan.catalog_products)
        barcodes = sum(len(p["barcodes"]) for p in items)
        calls = catalog_bench.bodies(items)
        changes = catalog_bench.bodies(
            catalog_bench.products(plan.catalog_changes, renamed=plan.catalog_changes)
        )
        gateway = httpx.AsyncClient(base_url=stack.url("gateway"), timeout=120)
        self.say(f"catalog: {len(items)} products with {barcodes} barcodes, {len(calls)} calls")
        try:
            async with self._tracking_peaks(stack, "the catalog"):
                meter = self.cpu_meter(stack, client=True)
                meter.start()
                answered = await catalog_bench.upload(gateway, tenant["api_key"], calls)
                visible = answered + await catalog_bench.wait_head(
                    gateway, terminal.credential, len(items)
                )
                # Where the upload's time goes: each process's share, the copies' included.
                self._note_cpu(
                    f"per 1,000 products of the catalog upload, until the gateway's copy "
                    f"serves them ({len(items)} products)",
                    meter.stop(),
                    len(items) // 1000,
                )
                self.say("catalog: full sync to one terminal")
                full = await catalog_bench.sync(gateway, terminal.credential)
                self.say(f"catalog: {plan.catalog_changes} changes, then a delta sync")
                await catalog_bench.upload(gateway, tenant["api_key"], changes)
                await catalog_bench.wait_head(
                    gateway, terminal.credential, len(items) + plan.catalog_changes
                )
                delta = await catalog_bench.sync(gateway, terminal.credential, full.version)
                delta_seconds = await catalog_bench.median_of(
                    catalog_bench.DELTA_REPEATS,
                    lambda: catalog_bench.sync(gateway, terminal.credential, full.version),
                )
        finally:
            await gateway.aclose()
        if full.items != len(items) or delta.items != plan.catalog_changes:
            raise api.BenchError(
                f"catalog sync: {full.items} items in full, {delta.items} in the delta"
            )
        pages = self.scratch / "catalog-pages"
        catalog_bench.write_pages(pages, [*full.pages, *delta.pages])
        port = free_port()
        server = await self._start_bare(port, logged=False, pages=pages)
        bare = httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=120)
        try:
            sink_seconds = await catalog_bench.sink(bare, calls)
            replay_seconds = await catalog_bench.replay(bare, len(full.pages))
            delta_page = len(full.pages)
            bare_delta = await catalog_bench.median_of(
                catalog_bench.DELTA_REPEATS,
                lambda: bare.get(f"/pages/{delta_page}", headers=catalog_bench.GZIP),
            )
        finally:
            await bare.aclose()
            server.terminate()
            await server.wait()
        self.add(
            figure("catalog_upload", answered, sink_seconds, products=len(items), barcodes=barcodes)
        )
        self.add(figure("catalog_upload_visible", visible))
        self.add(figure("catalog_full_sync", full.seconds, replay_seconds, pages=len(full.pages)))
        self.add(figure("catalog_full_sync_wire", full.wire_bytes / 1e6))
        self.add(
            figure(
                "catalog_delta_sync",
                delta_seconds * 1000,
                bare_delta * 1000,
                changes=plan.catalog_changes,
            )
        )
        self.note(
            f"catalog: full sync of {full.items} products in {len(full.pages)} pages, "
            f"{full.wire_bytes / 1e6:.1f} MB gzipped on the wire; delta of "
            f"{delta.items} items, {delta.wire_bytes / 1e3:.1f} kB"
        )

    def _catalog_rss(self, stack: Stack) -> None:
        peaks = self.peaks.get("the catalog", {})
        for service in stack.services:
            if service in peaks:
                self.add(figure(f"rss_catalog_{service}", peaks[service]))

    # Inbox polls -------------------------------------------------------------------------

    async def _polls(self, stack: Stack, pool: Pool) -> LoadResult:
        plan = self.plan
        tenant = await api.create_tenant(pool, self.admin_token, "Бенчмарк: опрос")
        # The template: one terminal paired and one document routed through the real API.
        [template] = await api.pair_many(pool, tenant["connection_code"], 1, "BENCH-POLL")
        document = order(plan.upload_lines)
        async with pool.connection() as conn:
            await api.upload(
                conn, tenant["api_key"], upload_to_device(template.device_id, document)
            )
            # Not acknowledged: the template document stays waiting.
            await api.wait_in_inbox(conn, template, document["header"]["id"], timeout=30)
        await pool.close()  # its connections go to the gateway about to stop

        self.say(
            f"seeding {plan.poll_devices} devices and {plan.poll_documents} documents "
            "into the stopped registry and gateway"
        )
        for service in ("gateway", "registry"):
            stack.kill(service, signal.SIGTERM)
        started = time.perf_counter()
        settings = Settings(store="sqlite", data_dir=self.scratch / "data")
        terminals, quiet = await seed_inbox_base(
            settings, template, plan.poll_devices, plan.per_device, plan.long_polls
        )
        self._long_poll_base = (tenant["api_key"], quiet)
        self.note(
            f"seeded {plan.poll_devices - 1} devices and "
            f"{plan.poll_documents - 1} documents, and {len(quiet)} devices without documents "
            f"for the long polls, in {time.perf_counter() - started:.1f} s"
        )
        for service in ("registry", "gateway"):
            stack.start(service)
        await asyncio.to_thread(stack.wait_ready, 90.0, ("registry", "gateway"))
        await self._check_seeded(pool, [terminals[0], terminals[-1]])

        self.say(
            f"inbox polls: {plan.http_connections} connections for {plan.http_seconds:g} s, "
            f"after one poll from each of the {len(terminals)} devices"
        )
        meter = self.cpu_meter(stack, client=False)
        async with self._tracking_peaks(stack, "inbox polls"):
            meter.start()
            result = await self._load(
                stack.ports["gateway"],
                "/api/v1/terminal/inbox?wait=0",
                [t.credential for t in terminals],
                prime=True,
            )
            self._note_cpu("per inbox poll", meter.stop(), result.answered)
        self._note_load("inbox polls", result)
        return result

    # Long polls ---------------------------------------------------------------------------

    async def _long_polls(self, stack: Stack) -> None:
        """Documents sent to terminals that wait in long polls, ``plan.long_polls`` at once."""
        plan = self.plan
        assert self._long_poll_base is not None
        api_key, quiet = self._long_poll_base
        port = stack.ports["gateway"]
        self.say(f"long polls: {len(quiet)} terminals waiting on one gateway at once")
        holder = LongPollProcess(
            LongPollSpec(HOST, port, [t.credential for t in quiet], plan.long_poll_wait),
            self.scratch,
        )
        pool = Pool(HOST, port)
        sent: dict[str, float] = {}
        news = await _service_metric(port, "tsdx_inbox_polls_total", outcome="news")
        news_before = max(0.0, news)
        try:
            async with self._tracking_peaks(stack, LONG_POLL_PHASE):
                try:
                    connected = await holder.start(timeout=LONG_POLL_CONNECT_SECONDS)
                except RuntimeError as exc:  # a result too: the gateway did not take them all
                    self.note(f"long polls: {exc}")
                    self.add(figure("long_poll_p99", math.inf, terminals=len(quiet)))
                    return
                waiting = await _until_metric(
                    port, "tsdx_long_polls_waiting", 0.9 * connected, timeout=60
                )
                await self._outbox_drained()
                self.say(
                    f"{connected} connections held, {waiting:.0f} polls waiting: sending "
                    f"{plan.long_poll_documents} documents at {plan.long_poll_rate:g}/s"
                )
                targets = quiet[: plan.long_poll_documents]

                failed: Counter[str] = Counter()

                async def send(terminal: Terminal, due: float) -> None:
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    document = order(plan.upload_lines)
                    sent[document["header"]["id"]] = time.time()
                    body = upload_to_device(terminal.device_id, document)
                    try:
                        async with pool.connection() as conn:
                            await asyncio.wait_for(
                                api.upload(conn, api_key, body), LONG_POLL_UPLOAD_SECONDS
                            )
                    except (TimeoutError, api.BenchError, WireError) as exc:
                        failed[type(exc).__name__] += 1

                begin = time.perf_counter()
                await asyncio.gather(
                    *(send(t, begin + n / plan.long_poll_rate) for n, t in enumerate(targets))
                )
                # Each document ends one poll with news: wait for them (bounded).
                await _until_metric(
                    port,
                    "tsdx_inbox_polls_total",
                    news_before + len(targets),
                    timeout=30,
                    outcome="news",
                )
            result = await holder.stop()
        finally:
            await holder.kill()
            await pool.close()
            rss = self.peaks.get(LONG_POLL_PHASE, {}).get("gateway")
            if rss is not None:
                self.add(figure("long_poll_rss", rss, terminals=len(quiet)))
        if failed:
            self.note(f"long polls: uploads that failed: {dict(failed)}")
        latencies = [result.arrivals[d] - at for d, at in sent.items() if d in result.arrivals]
        # A document that never reached its terminal counts as never: the p99 is then infinite
        # once more than 1% are missing, and the table says so.
        latencies += [math.inf] * (len(sent) - len(latencies))
        latency = Latency.of(latencies) if latencies else Latency.of([math.inf])
        p99 = math.inf if math.isnan(latency.p99) else latency.p99
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(result.statuses.items()))
        self.note(
            f"long polls: {result.connected} terminals held a poll each (wait="
            f"{plan.long_poll_wait:g}); {len(result.arrivals)} of {len(sent)} documents reached "
            f"their waiting terminal, p50 {latency.p50 * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms; answers {statuses or 'none'}; errors {result.errors}"
        )
        terminals = result.connected
        self.add(figure("long_poll_p99", p99 * 1000, terminals=terminals))

    async def _outbox_drained(self) -> None:
        """Each terminal's first poll is a sighting, an event in the gateway's outbox: ten
        thousand of them at once are a start-up burst, not the steady state the documents are
        to be measured in. Wait (bounded) until the gateway has published them."""
        settings = Settings(store="sqlite", data_dir=self.scratch / "data")
        store = await open_store(settings, "gateway", [OUTBOX])
        try:
            started = time.perf_counter()
            waiting = first = await store.count(OUTBOX.name)
            while waiting and time.perf_counter() - started < LONG_POLL_SETTLE_SECONDS:
                await asyncio.sleep(0.5)
                waiting = await store.count(OUTBOX.name)
        finally:
            await store.close()
        self.note(
            f"long polls: {first} events of the first polls (sightings) in the gateway's outbox "
            f"once every poll waited; {waiting} left after {time.perf_counter() - started:.1f} s, "
            "then the documents were sent"
        )

    async def _check_seeded(self, pool: Pool, terminals: list[api.Terminal]) -> None:
        """The seeded inbox is what the terminals' own API lists (the open documents)."""
        expected = min(self.plan.per_device, len(OPEN_STATES))
        async with pool.connection() as conn:
            for terminal in terminals:
                status, answer = await conn.call(
                    "GET", "/api/v1/terminal/inbox?wait=0", terminal.credential
                )
                api.expect(status, answer, 200)
                if len(answer["documents"]) != expected:
                    raise api.BenchError(
                        f"a seeded inbox lists {len(answer['documents'])} documents, "
                        f"expected {expected}"
                    )

    # Helpers -----------------------------------------------------------------------------

    async def _load(
        self, port: int, path: str, tokens: list[str], *, prime: bool = False
    ) -> LoadResult:
        spec = LoadSpec(
            host=HOST,
            port=port,
            path=path,
            connections=self.plan.http_connections,
            duration=self.plan.http_seconds,
            warmup=self.plan.http_warmup,
            tokens=tokens,
            prime=prime,
        )
        result = await run_in_own_process(spec, self.scratch)
        if result.requests == 0:
            raise api.BenchError(f"no answer from {path} in {spec.duration} s")
        return result

    def add(self, fig: Figure) -> None:
        self.results.figures.append(fig)

    def note(self, text: str) -> None:
        self.results.notes.append(text)

    def _note_load(self, what: str, result: LoadResult, ratio_to: LoadResult | None = None) -> None:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(result.statuses.items()))
        ratio = f" ({result.rate / ratio_to.rate:.2f} of bare)" if ratio_to else ""
        self.note(
            f"{what}: {result.rate:.0f} req/s{ratio} over {result.seconds:g} s "
            f"(p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms; statuses {statuses}; "
            f"errors {result.errors}"
            + (f"; {result.primed} priming requests first" if result.primed else "")
            + ")"
        )

    @asynccontextmanager
    async def _tracking_peaks(self, stack: Stack, phase: str) -> AsyncIterator[None]:
        """Keep each service's peak resident memory through a phase."""
        tracker = PeakTracker(lambda: _pids(stack))
        tracker.start()
        try:
            yield
        finally:
            await tracker.stop()
            self.peaks[phase] = tracker.peaks

    def cpu_meter(self, stack: Stack, *, client: bool) -> CpuMeter:
        pids = _pids(stack)
        broker = broker_pid()
        if broker is not None:
            pids["RabbitMQ (whole broker)"] = broker
        if client:
            pids["bench client"] = os.getpid()
        return CpuMeter(pids)

    def _note_cpu(self, what: str, spent: dict[str, float], count: int) -> None:
        if count == 0:
            return
        self.note(f"CPU ms {what} ({count} measured): {ms_each(spent, count)}")

    def _note_messages(
        self, counts: MessageCounts, timers: TimerMessages | None, documents: int, rate: float
    ) -> None:
        if documents == 0:
            return
        # The stack's own timers publish whatever the load; the figure is what uploads cost.
        if timers is None:
            subtracted = 0
            timed = "nothing subtracted: a service did not tell its timers' count"
        else:
            subtracted = timers.total
            timed = (
                f"less {timers.total} from the stack's timers meanwhile: "
                f"{timers.catalog_checks} catalog checks by the copies, a request and a reply "
                f"each, and {timers.greetings} inbox greetings"
            )
        published = (counts.published - subtracted) / documents
        self.note(
            f"broker messages per upload (RabbitMQ's own counts over both upload phases, "
            f"{documents} documents): {published:.3f} published ({counts.published} in all, "
            f"{timed}), "
            f"{counts.delivered / documents:.1f} delivered to consumers; at full load about "
            f"{rate * published:.0f} messages/s published"
        )
        self.add(figure("messages_per_upload", published))

    def _note_outcome(self, what: str, outcome: Outcome) -> None:
        text = (
            f"uploads at {what}: {len(outcome.counted)} deliveries measured "
            f"({len(outcome.samples)} with the warm-up)"
        )
        if outcome.late_starts:
            text += f", {outcome.late_starts} started late (latency counts from the due time)"
        if outcome.errors:
            text += "; errors: " + "; ".join(f"{n} × {e}" for e, n in outcome.errors.items())
        self.note(text)


@dataclass(frozen=True)
class TimerMessages:
    """What the stack publishes on timers of its own, counted by the services themselves."""

    catalog_checks: int
    greetings: int

    @property
    def total(self) -> int:
        return 2 * self.catalog_checks + self.greetings

    def __sub__(self, other: TimerMessages) -> TimerMessages:
        return TimerMessages(
            self.catalog_checks - other.catalog_checks, self.greetings - other.greetings
        )


async def _timer_messages(stack: Stack) -> TimerMessages | None:
    """The catalog copies' checks the registry has served (``catalog.heads``) and the
    gateway's greetings on its inbox broadcast, so far; None if either did not answer."""
    checks = await _service_metric(
        stack.ports["registry"], "tsdx_rpc_calls_total", method="catalog.heads"
    )
    greetings = await _service_metric(stack.ports["gateway"], "tsdx_inbox_greetings_total")
    if math.isinf(checks) or math.isinf(greetings):
        return None
    return TimerMessages(int(checks), int(greetings))


async def _service_metric(port: int, name: str, **labels: str) -> float:
    """The sum of one metric's samples carrying ``labels``, as the service on ``port`` reports
    it now (minus infinity while it is too busy to answer in time)."""
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            text = (await client.get(f"http://{HOST}:{port}/metrics")).text
    except httpx.HTTPError:
        return float("-inf")
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


async def _until_metric(
    port: int, name: str, at_least: float, timeout: float, **labels: str
) -> float:
    """Wait (bounded) until the gateway's metric reaches ``at_least``; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await _service_metric(port, name, **labels)
        if value >= at_least or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


def _log_file(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


def _pids(stack: Stack) -> dict[str, int]:
    return {name: proc.pid for name, proc in stack.processes.items() if proc.poll() is None}


async def _wait_http(url: str, process: asyncio.subprocess.Process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if process.returncode is not None:
                raise api.BenchError(f"the server for {url} exited with {process.returncode}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise api.BenchError(f"{url} did not answer in {timeout} s")
            await asyncio.sleep(0.1)
