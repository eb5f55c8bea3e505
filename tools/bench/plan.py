"""How much of each measurement a run makes: the full run, or the short smoke-test run."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_DURATION = 30.0
QUICK_DURATION = 3.0


@dataclass(frozen=True)
class Plan:
    amqp_messages: int
    # The HTTP load generator: keep-alive connections, measured seconds, unmeasured warm-up.
    http_connections: int
    http_seconds: float
    http_warmup: float
    # Uploads: closed-loop uploaders, terminals they share, lines of each document.
    lanes: int
    terminals: int
    upload_lines: int
    upload_warmup: float
    upload_seconds: float
    half_warmup: float
    half_seconds: float
    big_lines: int
    # The inbox-poll base: paired devices and documents stored for each.
    poll_devices: int
    per_device: int
    # Uploads of several documents each: uploaders, documents per upload, seconds measured.
    batch_lanes: int = 8
    batch_documents: int = 50
    batch_warmup: float = 3.0
    batch_seconds: float = 15.0
    # Terminals long-polling one gateway at once, and the documents sent to them meanwhile
    # (at a steady rate, each to a terminal of its own).
    long_polls: int = 10_000
    long_poll_documents: int = 200
    long_poll_rate: float = 20.0
    long_poll_wait: float = 30.0
    # The catalog: products uploaded, and products changed before the delta sync.
    catalog_products: int = 100_000
    catalog_changes: int = 100

    @property
    def poll_documents(self) -> int:
        return self.poll_devices * self.per_device


def plan_for(duration: float | None, quick: bool) -> Plan:
    """The full run sustains uploads for ``duration`` seconds (30 by default); ``quick`` is a
    smoke test of every step with small counts, well under a minute."""
    if duration is not None and duration <= 0:
        raise ValueError("the duration must be positive")
    if quick:
        seconds = duration if duration is not None else QUICK_DURATION
        return Plan(
            amqp_messages=1000,
            http_connections=8,
            http_seconds=2.0,
            http_warmup=0.5,
            lanes=4,
            terminals=16,
            upload_lines=20,
            upload_warmup=1.0,
            upload_seconds=seconds,
            half_warmup=0.5,
            half_seconds=max(2.0, seconds / 2),
            big_lines=1_000,
            poll_devices=200,
            per_device=10,
            batch_lanes=2,
            batch_warmup=0.5,
            batch_seconds=2.0,
            long_polls=200,
            long_poll_documents=10,
            long_poll_rate=10.0,
            catalog_products=2_000,
        )
    seconds = duration if duration is not None else DEFAULT_DURATION
    return Plan(
        amqp_messages=5000,
        http_connections=16,
        http_seconds=10.0,
        http_warmup=2.0,
        lanes=32,
        terminals=256,
        upload_lines=20,
        upload_warmup=5.0,
        upload_seconds=seconds,
        half_warmup=3.0,
        half_seconds=max(10.0, seconds / 2),
        big_lines=10_000,
        poll_devices=10_000,
        per_device=10,
        batch_seconds=max(10.0, seconds / 2),
    )
