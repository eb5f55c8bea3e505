"""What the bench reads from the machine and from HTTP answers, parsed without I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tools.bench.machine import cpu_model, memory_mb
from tools.bench.memory import status_mb
from tools.bench.plan import plan_for
from tools.bench.seed import clone_device, clone_row, states
from tools.bench.wire import WireError, build_request, parse_head

STATUS = """Name:\tpython
VmPeak:\t  300000 kB
VmHWM:\t  122880 kB
VmRSS:\t   81920 kB
RssAnon:\t   70000 kB
"""


def test_rss_and_its_peak_are_read_in_megabytes() -> None:
    assert status_mb(STATUS) == 80.0
    assert status_mb(STATUS, "VmHWM") == 120.0


def test_a_process_without_the_field_is_an_error() -> None:
    with pytest.raises(ValueError, match="VmRSS"):
        status_mb("Name:\tkthreadd\n")


def test_cpu_model_and_memory() -> None:
    cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel Xeon 2.20GHz\n"
    assert cpu_model(cpuinfo) == "Intel Xeon 2.20GHz"
    assert cpu_model("processor\t: 0\n") == "unknown"
    assert memory_mb("MemTotal:       24684544 kB\nMemFree: 1 kB\n") == 24106
    with pytest.raises(ValueError, match="MemTotal"):
        memory_mb("MemFree: 1 kB\n")


def test_request_bytes() -> None:
    raw = build_request("POST", "/api/v1/uploads", "127.0.0.1:8080", {"X-A": "1"}, b'{"a":1}')
    head, body = raw.split(b"\r\n\r\n")
    assert head.split(b"\r\n") == [
        b"POST /api/v1/uploads HTTP/1.1",
        b"Host: 127.0.0.1:8080",
        b"X-A: 1",
        b"Content-Type: application/json",
        b"Content-Length: 7",
    ]
    assert body == b'{"a":1}'
    assert build_request("GET", "/ping", "h").endswith(b"Host: h\r\n\r\n")


def test_response_head() -> None:
    head = b"HTTP/1.1 201 Created\r\ndate: x\r\nContent-Length: 42\r\ncontent-type: a\r\n\r\n"
    assert parse_head(head) == (201, 42)
    with pytest.raises(WireError, match="Content-Length"):
        parse_head(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    with pytest.raises(WireError, match="not an HTTP response"):
        parse_head(b"garbage at all\r\n\r\n")


def test_seeded_devices_hold_three_open_documents_then_finished_ones() -> None:
    assert states(10) == ["waiting", "downloaded", "in_progress"] + ["done"] * 7
    assert states(2) == ["waiting", "downloaded"]


def test_a_cloned_device_keeps_the_record_shape_with_its_own_identity() -> None:
    template = {
        "id": "d0",
        "tenant": "t",
        "pin": "5546",
        "hardware_id": "@HW",
        "credential_hash": "h0",
        "status": "active",
        "revision": 3,
        "last_seen": "2026-01-01T00:00:00+00:00",
    }
    clone = clone_device(template, 7, "tsd_secret")
    assert clone["tenant"] == "t" and clone["status"] == "active"
    assert clone["id"] != "d0" and clone["hardware_id"] == "@BENCH-POLL-00007"
    assert clone["pin"] == "100007"
    assert clone["credential_hash"] not in ("h0", "tsd_secret")
    assert clone["revision"] == 1
    assert "last_seen" not in clone
    assert template["id"] == "d0"  # the template is left as it was


def test_a_cloned_inbox_row_is_another_document_for_another_device() -> None:
    template: dict[str, Any] = {
        "id": "r0",
        "tenant": "t",
        "device_id": "d0",
        "document_id": "doc0",
        "request_id": "q0",
        "version": 1,
        "header": {"accounting_type": "Заказ поставщику", "number": "1", "date": ""},
        "lines_count": 1,
        "state": "waiting",
        "routed_at": "x",
    }
    at = datetime(2026, 1, 2, tzinfo=UTC)
    row = clone_row(template, "d9", "done", at, 12)
    assert row["device_id"] == "d9" and row["state"] == "done"
    assert row["document_id"] != "doc0"
    assert row["header"]["number"] == "БЕН-000012"
    assert row["header"]["accounting_type"] == "Заказ поставщику"
    assert row["lines_count"] == 1
    assert row["routed_at"] == at.isoformat()
    assert row["id"] != "r0" and row["request_id"] != "q0"


def test_plans() -> None:
    full = plan_for(None, quick=False)
    assert full.upload_seconds == 30
    assert (full.poll_devices, full.poll_documents) == (10_000, 100_000)
    assert full.big_lines == 10_000
    assert plan_for(60, quick=False).upload_seconds == 60
    quick = plan_for(None, quick=True)
    assert quick.upload_seconds < full.upload_seconds
    assert quick.poll_documents < full.poll_documents
    with pytest.raises(ValueError, match="positive"):
        plan_for(0, quick=False)
    with pytest.raises(ValueError, match="positive"):
        plan_for(-1, quick=True)
