"""What every process of a deployment says about itself, read from its own endpoints.

:func:`look` asks each process's ``/healthz``, ``/readyz`` and ``/metrics`` at once (a short
timeout each) and reads the supervisor's status file when there is one; :func:`summarise`
turns two looks into figures: request rate and p95 between them (since the process started on
the first look), consumer lags, queue depth, dead letters, outbox backlog. What
``gamestore status`` draws and the admin's ``GET /admin/status`` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
REQUESTS = "gamestore_http_request_duration_seconds"


@dataclass
class Seen:
    """One process's answers at one moment (``None``: it did not answer that endpoint)."""

    name: str
    at: float
    alive: bool | None = None
    ready: bool | None = None
    down: list[str] = field(default_factory=list)
    samples: Samples = field(default_factory=dict)


async def look(processes: Mapping[str, str], timeout: float = 2.0) -> dict[str, Seen]:
    """Each process's answers, by name; ``processes`` maps names to their ops URLs."""
    limit = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=limit) as session:
        seen = await asyncio.gather(*(_ask(session, n, u) for n, u in processes.items()))
    return {one.name: one for one in seen}


async def _ask(session: aiohttp.ClientSession, name: str, base: str) -> Seen:
    seen = Seen(name, time.monotonic())
    health, readiness, metrics = await asyncio.gather(
        _get(session, f"{base}/healthz"), _get(session, f"{base}/readyz"),
        _get(session, f"{base}/metrics"),
    )  # fmt: skip
    if health is not None:
        seen.alive = health[0] == 200
    if readiness is not None:
        seen.ready = readiness[0] == 200
        seen.down = _down(readiness[1])
    if metrics is not None and metrics[0] == 200:
        with contextlib.suppress(ValueError):  # not Prometheus' text: no figures from it
            seen.samples = parse(metrics[1])
    return seen


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, str] | None:
    try:
        async with session.get(url) as response:
            return response.status, await response.text()
    except (aiohttp.ClientError, TimeoutError, UnicodeDecodeError):
        return None


def _down(body: str) -> list[str]:
    try:
        report = json.loads(body)
    except ValueError:
        return []
    checks = report.get("checks", {}) if isinstance(report, dict) else {}
    return sorted(name for name, check in checks.items() if check.get("status") != "up")


def parse(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, by name and sorted labels."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= set(have))


def by_label(samples: Samples, name: str, label: str) -> dict[str, float]:
    """The samples of ``name`` summed by the value of ``label``."""
    found: dict[str, float] = {}
    for (n, labels), v in samples.items():
        key = dict(labels).get(label)
        if n == name and key is not None:
            found[key] = found.get(key, 0.0) + v
    return found


def buckets(samples: Samples) -> dict[float, float]:
    """The request histogram's cumulative buckets, summed over routes: upper bound → count."""
    summed: dict[float, float] = {}
    for (n, labels), v in samples.items():
        if n == f"{REQUESTS}_bucket":
            bound = float(dict(labels)["le"])
            summed[bound] = summed.get(bound, 0.0) + v
    return summed


def quantile(q: float, cumulative: Mapping[float, float]) -> float | None:
    """The ``q`` quantile of a cumulative histogram (Prometheus' interpolation within the
    bucket); None with no observation."""
    bounds = sorted(cumulative)
    if not bounds or cumulative[bounds[-1]] <= 0:
        return None
    rank = q * cumulative[bounds[-1]]
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = cumulative[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower
            inside = count - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = bound, count
    return lower


def summarise(
    now: Mapping[str, Seen],
    before: Mapping[str, Seen] | None = None,
    supervisor: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The figures of a look (rates and p95 against ``before`` when given)."""
    rows = [_process(seen, (before or {}).get(name), (supervisor or {}).get(name))
            for name, seen in now.items()]  # fmt: skip
    return {"processes": rows, "flows": _flows(merge(seen.samples for seen in now.values()))}


def merge(looks: Iterable[Samples]) -> Samples:
    """Every process's samples in one. A series that several processes report (the same
    consumer group, queue or outbox seen from two places) is one thing: it counts once, at the
    highest value reported."""
    merged: Samples = {}
    for samples in looks:
        for key, value in samples.items():
            merged[key] = max(value, merged.get(key, value))
    return merged


def increase(now: float, before: float) -> float:
    """How much a counter rose between two readings; a lower reading means the process
    restarted in between, and its counter rose from 0 (as Prometheus' ``rate()`` reads it)."""
    return now - before if now >= before else now


def window(now: Mapping[float, float], before: Mapping[float, float]) -> dict[float, float]:
    """The observations between two readings of cumulative buckets: their difference, or all
    of ``now`` when a bucket went down (the process restarted in between)."""
    if any(count < before.get(bound, 0.0) for bound, count in now.items()):
        return dict(now)
    return {bound: count - before.get(bound, 0.0) for bound, count in now.items()}


def _process(
    seen: Seen, before: Seen | None, supervised: Mapping[str, Any] | None
) -> dict[str, Any]:
    count = total(seen.samples, f"{REQUESTS}_count")
    cumulative = buckets(seen.samples)
    rate = None
    if before is not None and before.samples and seen.at > before.at:
        rate = increase(count, total(before.samples, f"{REQUESTS}_count")) / (seen.at - before.at)
        recent = window(cumulative, buckets(before.samples))
        if quantile(0.95, recent) is not None:  # else: nothing since, p95 since the start
            cumulative = recent
    p95 = quantile(0.95, cumulative)
    return {
        "name": seen.name,
        "up": seen.alive is not None,
        "alive": seen.alive,
        "ready": seen.ready,
        "down": seen.down,
        "state": (supervised or {}).get("state"),
        "restarts": (supervised or {}).get("restarts"),
        "requests": int(count),
        "requests_per_second": None if rate is None else round(rate, 2),
        "p95_ms": None if p95 is None else round(p95 * 1000, 1),
    }


def _flows(samples: Samples) -> dict[str, Any]:
    return {
        "consumer_lag_events": by_label(samples, "gamestore_consumer_lag_events", "group"),
        "consumer_lag_seconds": by_label(samples, "gamestore_consumer_lag_seconds", "group"),
        "queue_depth": by_label(samples, "gamestore_queue_depth_messages", "queue"),
        "queue_oldest_seconds": by_label(
            samples, "gamestore_queue_oldest_message_age_seconds", "queue"
        ),
        "dead_letters": int(total(samples, "gamestore_dead_letters")),
        "outbox_backlog": by_label(samples, "gamestore_outbox_backlog_events", "service"),
        "outbox_lag_seconds": by_label(samples, "gamestore_outbox_lag_seconds", "service"),
    }


class Watcher:
    """Looks at ``processes`` on demand. Each summary's rates run from the latest earlier look
    at least ``window`` seconds old, so that two readers asking a moment apart (two admins'
    pages) still get rates over a useful stretch of time."""

    def __init__(
        self, processes: Mapping[str, str], supervisor: Path | None = None, window: float = 1.0
    ) -> None:
        self._processes = dict(processes)
        self._supervisor = supervisor
        self._window = window
        self._looks: list[tuple[float, dict[str, Seen]]] = []

    async def summary(self) -> dict[str, Any]:
        from gamestore.platform.supervisor_status import read_status

        at = time.monotonic()
        seen = await look(self._processes)
        i = latest_before([then for then, _ in self._looks], at, self._window)
        before = None if i is None else self._looks[i][1]
        self._looks = [*self._looks[i or 0 :], (at, seen)]  # older ones will never be chosen
        return summarise(seen, before, read_status(self._supervisor))


def latest_before(times: Sequence[float], at: float, window: float) -> int | None:
    """The index of the latest of ``times`` (ascending) at least ``window`` before ``at``."""
    old = [i for i, then in enumerate(times) if at - then >= window]
    return old[-1] if old else None


def unhealthy(summary: Mapping[str, Any]) -> Sequence[str]:
    """The processes that are down, stuck or not ready."""
    return [row["name"] for row in summary["processes"] if not (row["alive"] and row["ready"])]
