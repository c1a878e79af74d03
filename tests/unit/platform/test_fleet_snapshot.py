"""A snapshot of a small fleet built from the text its processes expose at ``/metrics``, as
``prometheus-client`` writes it (``# HELP``/``# TYPE`` lines, ``_created`` series, several
routes in one histogram)."""

from __future__ import annotations

import jsonschema_rs
import pytest

from gamestore.platform.fleet import Seen, parse, summarise, unhealthy
from gamestore.platform.fleet_schema import SUMMARY_SCHEMA

REQUESTS = "gamestore_http_request_duration_seconds"


def histogram(method: str, route: str, buckets: dict[str, int], seconds: float) -> str:
    """The lines ``prometheus-client`` writes for one label set of the request histogram."""
    labels = f'method="{method}",route="{route}",status_class="2xx"'
    lines = [f'{REQUESTS}_bucket{{le="{le}",{labels}}} {n}.0' for le, n in buckets.items()]
    lines.append(f"{REQUESTS}_count{{{labels}}} {buckets['+Inf']}.0")
    lines.append(f"{REQUESTS}_sum{{{labels}}} {seconds}")
    lines.append(f"{REQUESTS}_created{{{labels}}} 1.7e9")
    return "\n".join(lines) + "\n"


GAMES = (
    f"# HELP {REQUESTS} Time from a request's arrival to its response's end, by route.\n"
    f"# TYPE {REQUESTS} histogram\n"
    + histogram("GET", "/jogos", {"0.005": 60, "0.05": 80, "+Inf": 80}, 0.9)
    + histogram("POST", "/jogos/compra", {"0.005": 0, "0.05": 0, "+Inf": 20}, 3.0)
    + """\
# HELP gamestore_consumer_lag_events Events a consumer group has still to handle.
# TYPE gamestore_consumer_lag_events gauge
gamestore_consumer_lag_events{group="games"} 4.0
# HELP gamestore_consumer_lag_seconds How far behind a consumer group is.
# TYPE gamestore_consumer_lag_seconds gauge
gamestore_consumer_lag_seconds{group="games"} 2.5
# HELP gamestore_dead_letters Dead letters waiting for an operator, by source and name.
# TYPE gamestore_dead_letters gauge
gamestore_dead_letters{name="games",source="bus"} 1.0
# HELP gamestore_outbox_backlog_events Events committed in a service's outbox.
# TYPE gamestore_outbox_backlog_events gauge
gamestore_outbox_backlog_events{service="games"} 2.0
# HELP gamestore_outbox_lag_seconds Age of the oldest event still waiting in a service's outbox.
# TYPE gamestore_outbox_lag_seconds gauge
gamestore_outbox_lag_seconds{service="games"} 0.75
"""
)

WORKER = """\
# HELP gamestore_queue_depth_messages Messages waiting in a work queue.
# TYPE gamestore_queue_depth_messages gauge
gamestore_queue_depth_messages{queue="payments"} 3.0
# HELP gamestore_queue_oldest_message_age_seconds Age of the oldest message waiting.
# TYPE gamestore_queue_oldest_message_age_seconds gauge
gamestore_queue_oldest_message_age_seconds{queue="payments"} 4.25
# HELP gamestore_dead_letters Dead letters waiting for an operator, by source and name.
# TYPE gamestore_dead_letters gauge
gamestore_dead_letters{name="payments",source="queue"} 2.0
# HELP gamestore_payments_total Payments that reached an outcome, by outcome.
# TYPE gamestore_payments_total counter
gamestore_payments_total{outcome="succeeded"} 19.0
gamestore_payments_created{outcome="succeeded"} 1.7e9
"""


def look() -> dict[str, Seen]:
    return {
        "games": Seen("games", 5.0, alive=True, ready=True, samples=parse(GAMES)),
        "payment-worker": Seen(
            "payment-worker", 5.0, alive=True, ready=False, down=["psp"], samples=parse(WORKER)
        ),
        "indexer": Seen("indexer", 5.0),  # answered nothing
    }


def test_each_process_has_its_row() -> None:
    supervisor = {"indexer": {"state": "restarting", "restarts": 2, "pid": None}}
    rows = {row["name"]: row for row in summarise(look(), supervisor=supervisor)["processes"]}
    games = rows["games"]
    assert (games["up"], games["alive"], games["ready"], games["down"]) == (True, True, True, [])
    assert games["requests"] == 100, "every route and status class"
    assert games["requests_per_second"] is None, "one look has no rate"
    assert games["p95_ms"] == pytest.approx(1000 * 0.05), "the slow purchases lead the p95"
    worker = rows["payment-worker"]
    assert worker["ready"] is False and worker["down"] == ["psp"]
    assert worker["requests"] == 0 and worker["p95_ms"] is None
    indexer = rows["indexer"]
    assert (indexer["up"], indexer["alive"], indexer["ready"]) == (False, None, None)
    assert (indexer["state"], indexer["restarts"]) == ("restarting", 2)
    assert unhealthy(summarise(look())) == ["payment-worker", "indexer"]


def test_the_flows_come_from_every_process() -> None:
    assert summarise(look())["flows"] == {
        "consumer_lag_events": {"games": 4.0},
        "consumer_lag_seconds": {"games": 2.5},
        "queue_depth": {"payments": 3.0},
        "queue_oldest_seconds": {"payments": 4.25},
        "dead_letters": 3,
        "outbox_backlog": {"games": 2.0},
        "outbox_lag_seconds": {"games": 0.75},
    }


def test_every_summary_matches_its_published_schema() -> None:
    validator = jsonschema_rs.validator_for(SUMMARY_SCHEMA)
    before = {name: Seen(name, 1.0, samples=seen.samples) for name, seen in look().items()}
    supervisor = {"games": {"state": "running", "restarts": 0, "pid": 7}}
    for summary in (summarise(look()), summarise(look(), before, supervisor), summarise({})):
        errors = [error.message for error in validator.iter_errors(summary)]
        assert not errors, (errors, summary)
