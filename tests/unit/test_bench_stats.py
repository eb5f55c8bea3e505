"""Percentiles and rates of the bench: the arithmetic behind every figure it prints."""

from __future__ import annotations

import pytest

from shared.bench.stats import Latency, per_second, percentile


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
