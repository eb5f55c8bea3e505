"""A service's metrics as a test reads them: over HTTP from its /metrics, as Prometheus would."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


async def metric(url: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples (matching ``labels``) on a service's /metrics."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"{url}/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )
