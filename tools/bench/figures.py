"""The figures of a bench run, their targets, and the table they are printed as.

Every figure the bench reports is named once here (``CATALOGUE``): its label, its unit and the
target it is held to. A run only supplies values (and ceilings), so the printed table, the
written docs and the smoke test all agree on what the figures are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

SERVICES = ("registry", "routing", "gateway", "lan_writer", "dashboard")


@dataclass(frozen=True)
class Target:
    """``ratio_at_least``: value / ceiling >= bound; ``at_most``: value <= bound (in the unit).

    ``bound`` is what must hold; ``aim`` (same kind) is where tsdx is going."""

    kind: Literal["ratio_at_least", "at_most"]
    bound: float
    aim: float | None = None

    def text(self, unit: str) -> str:
        return self._text(self.bound, unit)

    def aim_text(self, unit: str) -> str:
        return "—" if self.aim is None else self._text(self.aim, unit)

    def _text(self, bound: float, unit: str) -> str:
        if self.kind == "ratio_at_least":
            return f"≥ {bound:g} × ceiling"
        return f"≤ {bound:g} {unit}"

    def holds(self, value: float, ratio: float | None, bound: float) -> bool | None:
        if self.kind == "at_most":
            return value <= bound
        return None if ratio is None else ratio >= bound


@dataclass(frozen=True)
class Spec:
    label: str  # may name parameters of the run, e.g. {rate}
    unit: str
    target: Target | None = None
    ceiling_label: str = ""


def _rss_specs() -> dict[str, Spec]:
    specs: dict[str, Spec] = {}
    for service in SERVICES:
        specs[f"rss_idle_{service}"] = Spec(f"RSS of {service}, idle", "MB")
    for service in SERVICES:
        specs[f"rss_load_{service}"] = Spec(
            f"RSS of {service}, under load (peak)", "MB", Target("at_most", 150, 120)
        )
    for service in SERVICES:
        specs[f"rss_catalog_{service}"] = Spec(
            f"RSS of {service}, catalog upload and syncs (peak)", "MB", Target("at_most", 150)
        )
    return specs


SKELETON = "skeleton pipeline, docs/s"

CATALOG_SPECS: dict[str, Spec] = {
    "catalog_upload": Spec(
        "Catalog upload, {products:,} products with {barcodes:,} barcodes, answered",
        "s",
        Target("at_most", 10),
        "the same bodies to the bare endpoint, s",
    ),
    "catalog_upload_visible": Spec("Catalog upload → served by the gateway's copy", "s"),
    "catalog_full_sync": Spec(
        "Full catalog sync to one terminal ({pages} pages)",
        "s",
        Target("at_most", 3),
        "the same bytes from the bare endpoint, s",
    ),
    "catalog_full_sync_wire": Spec(
        "Full catalog sync on the wire (gzip)", "MB", Target("at_most", 10)
    ),
    "catalog_delta_sync": Spec(
        "Delta sync after {changes} changes (median)",
        "ms",
        Target("at_most", 50),
        "the same bytes from the bare endpoint, ms",
    ),
}


CATALOGUE: dict[str, Spec] = {
    "skeleton_throughput": Spec(
        "Skeleton pipeline: upload → inbox ({lanes} uploaders)",
        "docs/s",
        None,
        "raw aio-pika round trip, msg/s",
    ),
    "upload_throughput": Spec(
        "Upload → inbox, sustained ({lanes} uploaders)",
        "docs/s",
        Target("ratio_at_least", 0.2, 0.4),
        SKELETON,
    ),
    "batch_throughput": Spec(
        "{documents}-document uploads → inbox ({lanes} uploaders)",
        "docs/s",
        Target("ratio_at_least", 1.0, 2.0),
        SKELETON,
    ),
    "messages_per_upload": Spec(
        "Broker messages published per single-document upload",
        "msgs",
        Target("at_most", 3, 3),
    ),
    "upload_p50": Spec("Upload → inbox latency p50, full load", "ms"),
    "upload_p95": Spec("Upload → inbox latency p95, full load", "ms"),
    "upload_p99": Spec("Upload → inbox latency p99, full load", "ms"),
    "upload_half_p99": Spec(
        "Upload → inbox latency p99, half load ({rate:.0f} docs/s)",
        "ms",
        Target("at_most", 50, 25),
    ),
    "inbox_polls": Spec(
        "Inbox polls, wait=0 ({devices:,} devices, {documents:,} documents)",
        "req/s",
        Target("ratio_at_least", 0.5, 0.7),
        "bare FastAPI JSON endpoint, req/s",
    ),
    "long_poll_p99": Spec(
        "Document → waiting terminal p99, {terminals:,} long polls on one gateway",
        "ms",
        Target("at_most", 200, 100),
    ),
    "long_poll_rss": Spec(
        "RSS of the gateway holding {terminals:,} long polls (peak)",
        "MB",
        Target("at_most", 300, 200),
    ),
    "big_download": Spec(
        "{lines:,}-line document, upload → downloaded", "s", Target("at_most", 0.6, 0.3)
    ),
    "big_result": Spec("{lines:,}-line final result → completed in /results", "s"),
    **CATALOG_SPECS,
    **_rss_specs(),
}


@dataclass(frozen=True)
class Figure:
    key: str
    value: float
    ceiling: float | None = None
    # Values for the placeholders of the label.
    params: tuple[tuple[str, object], ...] = ()

    @property
    def spec(self) -> Spec:
        return CATALOGUE[self.key]

    @property
    def label(self) -> str:
        return self.spec.label.format(**dict(self.params))

    @property
    def ratio(self) -> float | None:
        if self.ceiling is None or self.ceiling <= 0:
            return None
        return self.value / self.ceiling

    @property
    def met(self) -> bool | None:
        """Whether the target holds; None when the figure has no target (or no ceiling)."""
        target = self.spec.target
        if target is None:
            return None
        return target.holds(self.value, self.ratio, target.bound)

    @property
    def aim_met(self) -> bool | None:
        target = self.spec.target
        if target is None or target.aim is None:
            return None
        return target.holds(self.value, self.ratio, target.aim)


def figure(key: str, value: float, ceiling: float | None = None, **params: object) -> Figure:
    if key not in CATALOGUE:
        raise KeyError(f"unknown figure {key!r}")
    return Figure(key, value, ceiling, tuple(sorted(params.items())))


def number(value: float) -> str:
    """A figure's value with as many digits as it deserves."""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


HEADER = ("figure", "value", "ceiling", "ratio", "must", "met", "aim", "aim met")
_VERDICT = {True: "yes", False: "NO", None: "—"}


def row(fig: Figure) -> tuple[str, ...]:
    spec = fig.spec
    ceiling = f"{number(fig.ceiling)} ({spec.ceiling_label})" if fig.ceiling is not None else "—"
    ratio = f"{fig.ratio:.3f}" if fig.ratio is not None else "—"
    target = spec.target.text(spec.unit) if spec.target else "—"
    aim = spec.target.aim_text(spec.unit) if spec.target else "—"
    return (
        fig.label,
        f"{number(fig.value)} {spec.unit}",
        ceiling,
        ratio,
        target,
        _VERDICT[fig.met],
        aim,
        _VERDICT[fig.aim_met],
    )


def table(figures: Iterable[Figure]) -> str:
    """A pipe table: aligned for the terminal, and valid Markdown for the docs."""
    rows = [HEADER, *(row(f) for f in figures)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(rows[0]), rule, *(line(r) for r in rows[1:])])


def missed(figures: Iterable[Figure]) -> list[Figure]:
    return [f for f in figures if f.met is False]
