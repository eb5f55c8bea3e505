"""Percentiles, rates and measuring windows: the arithmetic behind every figure the bench
prints."""

from __future__ import annotations

import pytest

from tools.bench.api import BenchError
from tools.bench.stats import Latency, per_second, percentile
from tools.bench.uploads import Outcome


def test_percentile_interpolates_between_closest_ranks() -> None:
    samples = [4.0, 1.0, 3.0, 2.0]  # order does not matter
    assert percentile(samples, 0) == 1.0
    assert percentile(samples, 100) == 4.0
    assert percentile(samples, 50) == pytest.approx(2.5)
    assert percentile(samples, 25) == pytest.approx(1.75)


def test_percentile_of_a_hundred_samples_matches_the_usual_definition() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 99) == pytest.approx(99.01)
    assert percentile(samples, 95) == pytest.approx(95.05)


def test_percentile_of_one_sample_is_that_sample() -> None:
    assert percentile([0.25], 99) == 0.25


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_refuses_a_rank_outside_0_to_100(q: float) -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], q)


def test_percentile_refuses_no_samples() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)


def test_rate_per_second() -> None:
    assert per_second(300, 30) == 10
    with pytest.raises(ValueError, match="positive duration"):
        per_second(1, 0)


def test_latency_summary() -> None:
    latency = Latency.of([0.1] * 98 + [1.0, 2.0])
    assert latency.count == 100
    assert latency.p50 == pytest.approx(0.1)
    assert latency.p95 == pytest.approx(0.1)
    assert 1.0 < latency.p99 < 2.0


def test_a_closed_loop_counts_what_was_seen_within_the_window() -> None:
    outcome = Outcome((10.0, 20.0), "seen")
    outcome.samples += [
        (9.0, 10.5),  # started in the warm-up, seen inside: counted
        (12.0, 12.1),
        (19.0, 21.0),  # seen after the window: not counted
        (5.0, 6.0),  # warm-up
    ]
    assert outcome.counted == [(9.0, 10.5), (12.0, 12.1)]
    assert outcome.rate == pytest.approx(0.2)
    assert outcome.latency.count == 2
    assert outcome.latency.p50 == pytest.approx((1.5 + 0.1) / 2)


def test_an_open_loop_counts_what_was_due_within_the_window_however_late_it_was_seen() -> None:
    outcome = Outcome((10.0, 20.0), "due")
    outcome.samples += [(9.9, 10.0), (10.0, 10.05), (19.9, 25.0)]
    assert outcome.counted == [(10.0, 10.05), (19.9, 25.0)]
    assert outcome.latency.p99 == pytest.approx(5.1 - (5.1 - 0.05) * 0.01)


def test_no_delivery_in_the_window_is_an_error_not_a_zero_latency() -> None:
    outcome = Outcome((10.0, 20.0), "seen")
    outcome.samples.append((1.0, 2.0))
    with pytest.raises(BenchError, match="no delivery"):
        _ = outcome.latency
