"""``tsdx bench --quick`` runs every step and reports every figure with a number.

It checks what the bench reports, never how fast anything was: timings and ratios depend on
the machine and are for people to read.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.broker import require_broker
from tools.bench.figures import CATALOGUE, SERVICES
from tools.bench.plan import plan_for
from tools.cli.stack import available_services

ROOT = Path(__file__).resolve().parents[2]
# A guard against a hung run, not a timing assertion.
HANG_GUARD_SECONDS = 600


@pytest.mark.slow
def test_quick_bench_reports_every_figure_with_a_number(tmp_path: Path) -> None:
    require_broker()
    report = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "tools.cli.main", "bench", "--quick", "--json", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert run.returncode == 0, run.stderr[-3000:]

    running = set(available_services())
    kinds = ("idle", "load", "catalog")
    absent = {f"rss_{kind}_{s}" for s in SERVICES if s not in running for kind in kinds}
    expected = set(CATALOGUE) - absent
    figures = {f["key"]: f for f in json.loads(report.read_text())["figures"]}
    assert set(figures) == expected

    table_rows = {
        cells[0]: cells
        for line in run.stdout.splitlines()
        if line.startswith("| ")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    for key, fig in figures.items():
        assert isinstance(fig["value"], int | float) and math.isfinite(fig["value"]), key
        assert fig["label"] in table_rows, f"{key} missing from the printed table"
        shown = table_rows[fig["label"]][1].split()[0]
        assert math.isfinite(float(shown)), (key, shown)
        if CATALOGUE[key].ceiling_label:
            assert fig["ceiling"] is not None and fig["ceiling"] > 0, key

    # The restated bench: the skeleton is the ceiling of the upload figures, the uploads of
    # many documents and the long polls are measured with the quick plan's counts.
    plan = plan_for(None, quick=True)
    skeleton = figures["skeleton_throughput"]["value"]
    assert figures["upload_throughput"]["ceiling"] == skeleton
    assert figures["batch_throughput"]["ceiling"] == skeleton
    assert f"{plan.batch_documents}-document uploads" in figures["batch_throughput"]["label"]
    assert f"{plan.long_polls:,} long polls" in figures["long_poll_p99"]["label"]
    assert figures["messages_per_upload"]["value"] > 0
    notes = json.loads(report.read_text())["notes"]
    arrived = f"{plan.long_poll_documents} of {plan.long_poll_documents} documents reached"
    assert any(arrived in note for note in notes), notes
    # Every target is judged twice: what must hold and the aim.
    assert table_rows["figure"][4:] == ["must", "met", "aim", "aim met"]
