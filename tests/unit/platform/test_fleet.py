"""The arithmetic of ``gamestore status``: quantiles from histogram buckets, rates between two
looks (a restart in between included), and the flows merged over processes."""

from __future__ import annotations

import math

import pytest

from gamestore.platform.fleet import (
    Seen,
    increase,
    latest_before,
    merge,
    parse,
    quantile,
    summarise,
    unhealthy,
    window,
)

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


def test_the_unhealthy_are_named_and_a_series_two_processes_report_counts_once() -> None:
    now = {
        "payment-worker": seen("payment-worker", 1.0, 0, 0, alive=True, ready=False,
                               down=["psp"]),
        "notifier": seen("notifier", 1.0, 0, 0),  # did not answer at all
    }  # fmt: skip
    summary = summarise(now, supervisor={"notifier": {"state": "restarting", "restarts": 4}})
    assert summary["flows"]["dead_letters"] == 2, "one queue's dead letters, seen twice"
    assert summary["flows"]["consumer_lag_events"] == {"notifier": 3.0}
    rows = {row["name"]: row for row in summary["processes"]}
    assert rows["notifier"]["up"] is False and rows["notifier"]["restarts"] == 4
    assert rows["notifier"]["state"] == "restarting"
    assert rows["payment-worker"]["down"] == ["psp"]
    assert sorted(unhealthy(summary)) == ["notifier", "payment-worker"]


def test_a_counter_lower_than_before_rose_from_zero_since_a_restart() -> None:
    assert increase(120.0, 100.0) == 20.0
    assert increase(100.0, 100.0) == 0.0
    assert increase(7.0, 100.0) == 7.0


def test_the_window_is_the_difference_of_the_buckets_or_all_since_a_restart() -> None:
    before = {0.01: 90.0, 0.1: 100.0, math.inf: 100.0}
    assert window({0.01: 90.0, 0.1: 120.0, math.inf: 120.0}, before) == {
        0.01: 0.0, 0.1: 20.0, math.inf: 20.0
    }  # fmt: skip
    restarted = {0.01: 5.0, 0.1: 6.0, math.inf: 6.0}
    assert window(restarted, before) == restarted


def test_a_restart_between_two_looks_gives_the_rate_and_p95_since_it() -> None:
    before = {"games": seen("games", 10.0, fast=90, total=100, alive=True, ready=True)}
    now = {"games": seen("games", 12.0, fast=0, total=30, alive=True, ready=True)}
    [row] = summarise(now, before)["processes"]
    assert row["requests_per_second"] == 15.0  # 30 requests since the restart, in 2 s
    assert row["p95_ms"] == pytest.approx(95.5)


def test_a_quiet_window_has_no_requests_and_the_p95_since_the_start() -> None:
    before = {"games": seen("games", 10.0, fast=90, total=100, alive=True, ready=True)}
    now = {"games": seen("games", 12.0, fast=90, total=100, alive=True, ready=True)}
    [row] = summarise(now, before)["processes"]
    assert row["requests_per_second"] == 0.0
    assert row["p95_ms"] == pytest.approx(55.0)  # the 95th of 100: half-way into (10, 100] ms


def test_merging_keeps_every_series_and_counts_a_shared_one_once() -> None:
    a = {("lag", (("group", "games"),)): 3.0, ("lag", (("group", "x"),)): 1.0}
    b = {("lag", (("group", "games"),)): 5.0, ("lag", (("group", "y"),)): 2.0}
    assert merge([a, b]) == {
        ("lag", (("group", "games"),)): 5.0,
        ("lag", (("group", "x"),)): 1.0,
        ("lag", (("group", "y"),)): 2.0,
    }


def test_rates_run_from_the_latest_look_old_enough() -> None:
    assert latest_before([], 10.0, 1.0) is None
    assert latest_before([9.5], 10.0, 1.0) is None
    assert latest_before([5.0, 8.0, 9.5], 10.0, 1.0) == 1
    assert latest_before([5.0, 8.0, 9.0], 10.0, 1.0) == 2
