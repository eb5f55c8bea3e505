"""One upload is one trace: from the accounting call at the gateway, through routing, to the
terminal's download, across processes and the broker.

Every service of a stack of the test's own exports its spans over OTLP/HTTP (the real
exporter, ``TSDX_OTLP_ENDPOINT``) to a small receiver the test runs, which decodes them with
OpenTelemetry's own protobuf messages.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.documents import by_pin, order, upload
from tests.support.stack import ADMIN_TOKEN, running_stack
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, TerminalClient

trace_service = pytest.importorskip(
    "opentelemetry.proto.collector.trace.v1.trace_service_pb2",
    reason="the otel extra is not installed (scripts/setup.sh --test installs it)",
)


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver: keeps every span it is sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.spans: list[Span] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = trace_service.ExportTraceServiceRequest.FromString(body)
        found = []
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    found.append(Span(attributes["service.name"], span.name, span.trace_id.hex()))
        with self.server.lock:
            self.server.spans.extend(found)
        answer = trace_service.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def traced_stack(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Stack]:
    env = {"TSDX_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    services = ("registry", "routing", "gateway")
    with running_stack(tmp_path_factory.mktemp("traced"), services, env) as stack:
        yield stack


async def test_one_upload_is_one_trace_from_the_accounting_call_to_the_download(
    traced_stack: Stack, receiver: Receiver, tmp_path: Path
) -> None:
    gateway = traced_stack.url("gateway")
    async with AdminClient(gateway, ADMIN_TOKEN) as admin:
        tenant = await admin.create_tenant("Склад трассировки")
    async with (
        AccountingClient(gateway, tenant["api_key"]) as accounting,
        TerminalClient(gateway) as terminal,
    ):
        paired = await terminal.pair(tenant["connection_code"], "@HW-TRACE", "EDA50", "EDA50")
        answer = await accounting.upload(upload(by_pin(paired["pin"]), order()))
        assert answer["status"] == "accepted", answer
        delivery_id = answer["deliveries"][0]["delivery_id"]
        await eventually(
            terminal.inbox,
            until=lambda r: [d["delivery_id"] for d in r["documents"]] == [delivery_id],
            what="the document in the inbox",
        )
        await terminal.download(delivery_id)
        await terminal.acknowledge(delivery_id)

    def spans() -> list[Span]:
        with receiver.lock:
            return list(receiver.spans)

    async def exported() -> list[Span]:
        return spans()

    def has(name: str, service: str) -> bool:
        return any(s.name == name and s.service == service for s in spans())

    await eventually(
        exported,
        # Every span the asserts below name: routing may export its span before the
        # gateway's request span ends (the relay sends the progress once it commits).
        until=lambda _: (
            has("terminal download", "tsdx-gateway")
            and has("terminal acknowledge", "tsdx-gateway")
            and has("delivery.progressed process", "tsdx-routing")
        ),
        timeout=30,
        what="the spans exported",
    )
    [upload_call] = [
        s for s in spans() if s.service == "tsdx-gateway" and s.name == "POST /api/v1/uploads"
    ]
    trace = {(s.service, s.name) for s in spans() if s.trace_id == upload_call.trace_id}
    assert ("tsdx-routing", "upload.requested process") in trace
    assert ("tsdx-gateway", "document.routed process") in trace
    assert ("tsdx-gateway", "terminal download") in trace
    assert ("tsdx-gateway", "terminal acknowledge") in trace
    assert ("tsdx-routing", "delivery.progressed process") in trace
    # The upload's steps are in no other trace: one upload, one trace.
    for name in ("upload.requested process", "terminal download"):
        assert {s.trace_id for s in spans() if s.name == name} == {upload_call.trace_id}
