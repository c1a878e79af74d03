"""Reading what the processes of a running store say about themselves."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.stack import Stack


def ops_base(stack: Stack, process: str) -> str:
    """Where ``process`` of ``stack`` answers /healthz, /readyz and /metrics."""
    name = "GATEWAY_OPS" if process == "gateway" else process.upper().replace("-", "_")
    return stack.env[f"GAMESTORE_{name}_URL"]


async def scrape(
    client: httpx.AsyncClient, base: str
) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample ``base/metrics`` exposes, by name and labels."""
    response = await client.get(f"{base}/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def total(
    samples: Mapping[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)
