"""A JSON log line carries the request's correlation id and whatever is bound in the context,
with the level, the time, secrets redacted and an exception's traceback."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import structlog

from shared.logging import configure_logging, correlation, current_correlation_id, get_logger


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    saved = structlog.get_config()
    configure_logging("unit", "INFO", "json")
    yield stream
    structlog.configure(**saved)
    structlog.contextvars.clear_contextvars()


def _written(stream: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_in_a_correlation_carries_its_id_and_the_bound_context(
    lines: io.StringIO,
) -> None:
    log = get_logger("unit")
    with (
        correlation("erp-4711") as cid,
        structlog.contextvars.bound_contextvars(message_id="m-1"),
    ):
        assert current_correlation_id() == cid == "erp-4711"
        log.warning("first", token="s3cret", step=1)
    log.info("after")
    first, after = _written(lines)
    assert {k: v for k, v in first.items() if k != "timestamp"} == {
        "event": "first",
        "token": "***",
        "step": 1,
        "service": "unit",
        "message_id": "m-1",
        "correlation_id": "erp-4711",
        "level": "warning",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", first["timestamp"])
    assert "correlation_id" not in after and "message_id" not in after
    assert after["service"] == "unit"


def test_a_new_correlation_id_is_32_hex_digits_and_new_each_time(lines: io.StringIO) -> None:
    with correlation(None) as one, correlation(None) as two:
        get_logger("unit").info("inner")
    assert re.fullmatch(r"[0-9a-f]{32}", one) and re.fullmatch(r"[0-9a-f]{32}", two)
    assert one != two
    assert _written(lines)[0]["correlation_id"] == two


def test_an_exception_is_written_with_its_traceback(lines: io.StringIO) -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        get_logger("unit").exception("failed")
    (line,) = _written(lines)
    assert line["level"] == "error"
    assert "ValueError: broken" in line["exception"]
    assert "exc_info" not in line
