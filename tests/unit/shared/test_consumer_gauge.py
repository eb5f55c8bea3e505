"""``tsdx_consumers`` says whether a queue's reader consumes when it is scraped: 0 while its
connection is down, not the 1 it was set to at start."""

from __future__ import annotations

from prometheus_client import REGISTRY

from shared.metrics import counted_while_alive


class _Reader:
    alive = True


def _value(queue: str) -> float | None:
    return REGISTRY.get_sample_value("tsdx_consumers", {"service": "test", "queue": queue})


def test_the_gauge_follows_the_reader_when_scraped() -> None:
    reader = _Reader()
    counted_while_alive("test", "gauge.work", reader)
    assert _value("gauge.work") == 1.0
    reader.alive = False  # its connection lost, or stopped
    assert _value("gauge.work") == 0.0
    reader.alive = True  # reconnected
    assert _value("gauge.work") == 1.0
