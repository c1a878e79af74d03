"""The arithmetic of ``gamestore status``: quantiles from histogram buckets, rates between two
looks, and the flows summed over processes."""

from __future__ import annotations

import math

import pytest

from gamestore.platform.fleet import Seen, parse, quantile, summarise, unhealthy

EXPOSITION = """
# TYPE gamestore_http_request_duration_seconds histogram
gamestore_http_request_duration_seconds_bucket{route="/jogos",le="0.01"} {fast}
gamestore_http_request_duration_seconds_bucket{route="/jogos",le="0.1"} {all}
gamestore_http_request_duration_seconds_bucket{route="/jogos",le="+Inf"} {all}
gamestore_http_request_duration_seconds_count{route="/jogos"} {all}
gamestore_http_request_duration_seconds_sum{route="/jogos"} 1.0
# TYPE gamestore_consumer_lag_events gauge
gamestore_consumer_lag_events{group="notifier"} 3.0
# TYPE gamestore_dead_letters gauge
gamestore_dead_letters{source="queue",name="payments"} 2.0
"""


def seen(name: str, at: float, fast: int, total: int, **state: object) -> Seen:
    text = EXPOSITION.replace("{fast}", str(fast)).replace("{all}", str(total))
    return Seen(name, at, samples=parse(text), **state)  # type: ignore[arg-type]


def test_quantiles_interpolate_inside_their_bucket() -> None:
    assert quantile(0.95, {0.01: 0, 0.1: 100, math.inf: 100}) == pytest.approx(0.0955)
    assert quantile(0.5, {0.01: 100, 0.1: 100, math.inf: 100}) == pytest.approx(0.005)
    assert quantile(0.95, {0.01: 0, math.inf: 10}) == 0.01, "past the last bound: that bound"
    assert quantile(0.95, {0.01: 0, math.inf: 0}) is None


def test_rates_and_p95_come_from_the_two_looks() -> None:
    before = {"games": seen("games", 10.0, fast=90, total=100, alive=True, ready=True)}
    now = {"games": seen("games", 12.0, fast=90, total=120, alive=True, ready=True)}
    [row] = summarise(now, before)["processes"]
    assert row["requests_per_second"] == 10.0  # 20 requests in 2 s
    assert row["p95_ms"] == pytest.approx(95.5)  # the 20 new ones were all slow
    [first] = summarise(now)["processes"]
    assert first["requests_per_second"] is None and first["p95_ms"] < 95.5  # since start


def test_flows_add_up_over_processes_and_the_unhealthy_are_named() -> None:
    now = {
        "payment-worker": seen("payment-worker", 1.0, 0, 0, alive=True, ready=False,
                               down=["psp"]),
        "notifier": seen("notifier", 1.0, 0, 0),  # did not answer at all
    }  # fmt: skip
    summary = summarise(now, supervisor={"notifier": {"state": "restarting", "restarts": 4}})
    assert summary["flows"]["dead_letters"] == 4
    assert summary["flows"]["consumer_lag_events"] == {"notifier": 6.0}
    rows = {row["name"]: row for row in summary["processes"]}
    assert rows["notifier"]["up"] is False and rows["notifier"]["restarts"] == 4
    assert rows["payment-worker"]["down"] == ["psp"]
    assert sorted(unhealthy(summary)) == ["notifier", "payment-worker"]
