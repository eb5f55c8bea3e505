"""The bench's table: figures against ceilings and targets, one aligned Markdown table."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.bench.figures import CATALOGUE, SERVICES, figure, missed, number, table
from tools.bench.machine import Machine
from tools.bench.plan import plan_for
from tools.bench.report import CHANGES, console, markdown
from tools.bench.run import Results


def test_ratio_and_target_against_a_ceiling() -> None:
    met = figure("inbox_polls", 800, 1000, devices=10_000, documents=100_000)
    assert met.ratio == pytest.approx(0.8)
    assert met.met is True
    short = figure("upload_throughput", 100, 1000, lanes=32)
    assert short.ratio == pytest.approx(0.1)
    assert short.met is False


def test_upper_bound_targets() -> None:
    assert figure("upload_half_p99", 50.0, rate=50).met is True
    assert figure("upload_half_p99", 50.1, rate=50).met is False
    assert figure("rss_load_gateway", 151).met is False
    assert figure("big_download", 0.6, lines=10_000).met is True
    assert figure("messages_per_upload", 3.1).met is False


def test_the_aim_is_judged_beside_what_must_hold() -> None:
    between = figure("upload_throughput", 300, 1000, lanes=32)
    assert (between.met, between.aim_met) == (True, False)
    assert figure("upload_throughput", 400, 1000, lanes=32).aim_met is True
    assert figure("long_poll_p99", 150, terminals=10_000).met is True
    assert figure("long_poll_p99", 150, terminals=10_000).aim_met is False
    assert figure("upload_p50", 12.0).aim_met is None


def test_a_figure_without_target_is_neither_met_nor_missed() -> None:
    fig = figure("upload_p50", 12.0)
    assert fig.met is None
    assert fig.ratio is None
    assert missed([fig, figure("rss_load_routing", 200)]) == [figure("rss_load_routing", 200)]


def test_a_ratio_target_without_ceiling_is_not_judged() -> None:
    assert figure("inbox_polls", 800, None, devices=1, documents=1).met is None


def test_labels_name_the_run_parameters() -> None:
    fig = figure("inbox_polls", 1, 2, devices=10_000, documents=100_000)
    assert fig.label == "Inbox polls, wait=0 (10,000 devices, 100,000 documents)"
    assert figure("upload_half_p99", 1, rate=45.4).label.endswith("(45 docs/s)")


def test_unknown_figure_is_refused() -> None:
    with pytest.raises(KeyError, match="no_such_figure"):
        figure("no_such_figure", 1)


def test_every_service_has_idle_and_loaded_memory_figures() -> None:
    for service in SERVICES:
        assert f"rss_idle_{service}" in CATALOGUE
        assert CATALOGUE[f"rss_load_{service}"].target is not None


@pytest.mark.parametrize(
    ("value", "shown"), [(1234.56, "1235"), (45.67, "45.7"), (3.14159, "3.14"), (0.0, "0.00")]
)
def test_numbers_get_the_digits_they_deserve(value: float, shown: str) -> None:
    assert number(value) == shown


def test_table_is_aligned_markdown_with_one_row_per_figure() -> None:
    figures = [
        figure("upload_throughput", 150.0, 3000.0, lanes=32),
        figure("upload_half_p99", 80.0, rate=75),
        figure("rss_idle_gateway", 60.26),
    ]
    lines = table(figures).splitlines()
    assert lines[0].split("|")[1].strip() == "figure"
    assert set(lines[1]) == {"|", "-"}
    assert len(lines) == 2 + len(figures)
    assert len({len(line) for line in lines}) == 1  # every row as wide as the header
    cells = [c.strip() for c in lines[2].split("|")[1:-1]]
    assert cells == [
        "Upload → inbox, sustained (32 uploaders)",
        "150 docs/s",
        "3000 (skeleton pipeline, docs/s)",
        "0.050",
        "≥ 0.2 × ceiling",
        "NO",
        "≥ 0.4 × ceiling",
        "NO",
    ]
    half = [c.strip() for c in lines[3].split("|")[1:-1]]
    assert half[1:] == ["80.0 ms", "—", "—", "≤ 50 ms", "NO", "≤ 25 ms", "NO"]
    memory = [c.strip() for c in lines[4].split("|")[1:-1]]
    assert memory[1:] == ["60.3 MB", "—", "—", "—", "—", "—", "—"]


def _results() -> Results:
    results = Results(
        plan_for(None, quick=False),
        Machine(2, 24_000, "Test CPU", "3.11.7", "2026-01-01 00:00 UTC"),
        prefetch=64,
        seconds=170.0,
    )
    results.figures = [
        figure("rss_load_gateway", 120.0),  # out of order: the report sorts
        figure("upload_throughput", 40.0, 1000.0, lanes=32),
    ]
    results.notes = ["a note"]
    return results


def test_docs_name_the_machine_the_figures_and_the_method() -> None:
    text = markdown(_results())
    assert "- cores (`nproc`): 2" in text
    assert "- CPU: Test CPU" in text
    assert "- Python: 3.11.7" in text
    assert "(170 s this time)" in text
    assert text.index("Upload → inbox, sustained") < text.index("RSS of gateway")
    assert "Targets missed: Upload → inbox, sustained (32 uploaders)." in text
    assert "10,000 devices with 10 documents each" in text
    assert "- a note" in text
    # every placeholder was filled (the change table is copied as written: paths name {ids})
    assert "{" not in text.replace(CHANGES, "").replace("{id}", "")


def test_console_report_lists_missed_targets() -> None:
    text = console(_results())
    assert text.splitlines()[0].startswith("| figure")
    assert text.rstrip().endswith("targets missed: Upload → inbox, sustained (32 uploaders)")


def test_the_change_table_in_the_docs_is_the_one_write_docs_keeps() -> None:
    """``--write-docs`` rewrites docs/performance.md with tools/bench/changes.md: a row added to
    the docs alone would be lost at the next run."""
    docs = (Path(__file__).parents[3] / "docs" / "performance.md").read_text(encoding="utf-8")
    assert CHANGES.strip() in docs
