"""Every Prometheus metric the store exposes, in one place (``prometheus-client``).

Each process exposes the default registry at ``/metrics`` (``platform/http/ops.py``). Names
follow Prometheus' conventions: a ``gamestore_`` prefix, base units in the name (``_seconds``,
``_events``, ``_messages``), ``_total`` on counters. Labels are bounded sets — route templates,
group and queue names, outcomes and reasons from fixed lists — never a user id, a raw path or
an error message. No process runs several worker processes, so no multiprocess collector is
needed: each process is scraped on its own port.

Gauges that need a query (backlogs, lags, depths) are filled in just before a scrape by the
samplers registered with :func:`on_scrape`; nothing is queried while nobody is looking.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import Counter, Gauge, Histogram

from gamestore.platform.logs import get_logger

log = get_logger("metrics")

# Latency buckets, in seconds: from a cached read (under a millisecond) to a PSP timeout.
FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# -- HTTP (every HTTP process: the services, the PSP simulator and the gateway)
HTTP_REQUEST_DURATION = Histogram(
    "gamestore_http_request_duration_seconds",
    "Time from a request's arrival to its response's end, by route template.",
    ["route", "method", "status_class"],
    buckets=FAST,
)
RATE_LIMITED = Counter(
    "gamestore_rate_limited_requests_total",
    "Requests the gateway refused with 429, by the bucket that ran dry.",
    ["scope"],  # client | user
)

# -- outbox relay (every service with a database)
OUTBOX_BACKLOG = Gauge(
    "gamestore_outbox_backlog_events",
    "Events committed in a service's outbox and not yet in the event store.",
    ["service"],
)
OUTBOX_LAG = Gauge(
    "gamestore_outbox_lag_seconds",
    "Age of the oldest event still waiting in a service's outbox (0 when it is empty).",
    ["service"],
)
OUTBOX_RELAYED = Counter(
    "gamestore_outbox_relayed_events_total",
    "Events the outbox relay moved to the event store.",
    ["service"],
)

# -- event store
EVENTSTORE_HEAD = Gauge(
    "gamestore_eventstore_head_position",
    "Position of the last event in the event store's global order.",
)
EVENTSTORE_APPEND_DURATION = Histogram(
    "gamestore_eventstore_append_duration_seconds",
    "Time to append one batch of events to a stream (commit included).",
    buckets=FAST,
)

# -- event bus consumer groups
CONSUMER_LAG_EVENTS = Gauge(
    "gamestore_consumer_lag_events",
    "Events a consumer group has still to handle.",
    ["group"],
)
CONSUMER_LAG_SECONDS = Gauge(
    "gamestore_consumer_lag_seconds",
    "How far behind a consumer group is: the age of the oldest event it has still to handle "
    "(0 when it is caught up).",
    ["group"],
)
CONSUMER_DELIVERIES = Counter(
    "gamestore_consumer_deliveries_total",
    "Event deliveries a consumer group finished, by how they ended.",
    ["group", "outcome"],  # handled | failed (an attempt that failed) | dead_lettered
)

# -- the payment queue (work queue)
QUEUE_DEPTH = Gauge(
    "gamestore_queue_depth_messages",
    "Messages waiting in a work queue (ready or retrying; not dead letters).",
    ["queue"],
)
QUEUE_OLDEST_AGE = Gauge(
    "gamestore_queue_oldest_message_age_seconds",
    "Age of the oldest message waiting in a work queue (0 when it is empty).",
    ["queue"],
)
QUEUE_MESSAGES = Counter(
    "gamestore_queue_messages_total",
    "Work-queue messages a consumer finished, by how they ended.",
    ["queue", "outcome"],  # handled | retried | dead_lettered
)

# -- dead letters, wherever they are kept
DEAD_LETTERS = Gauge(
    "gamestore_dead_letters",
    "Dead letters waiting for an operator, by source and name.",
    ["source", "name"],  # source: bus (name: the consumer group) | queue (name: the queue)
)

# -- payments
PAYMENTS = Counter(
    "gamestore_payments_total",
    "Payments that reached an outcome, by outcome.",
    ["outcome"],  # succeeded | failed | dead_lettered
)
PAYMENT_ANOMALIES = Counter(
    "gamestore_payment_anomalies_total",
    "Payment anomalies recorded (a charge that does not match its payment), by reason.",
    ["reason"],
)
PSP_REQUEST_DURATION = Histogram(
    "gamestore_psp_request_duration_seconds",
    "Time of one call to the PSP, by operation and result.",
    ["operation", "result"],  # operation: charge | get_charge; result: ok | declined | error
    buckets=FAST,
)
PSP_ERRORS = Counter(
    "gamestore_psp_errors_total",
    "Calls to the PSP that did not get an answer we could use, by kind.",
    ["operation", "kind"],  # timeout | unavailable (5xx, 429, refused) | transient | rejected
)
WEBHOOK_DELIVERIES = Counter(
    "gamestore_webhook_deliveries_total",
    "PSP webhook deliveries the payments service answered, by result and reason.",
    ["result", "reason"],  # accepted: new | duplicate; rejected: signature | timestamp | malformed
)

# -- users
LOGINS = Counter(
    "gamestore_logins_total",
    "Password logins, by outcome.",
    ["outcome"],  # success | failure | throttled
)

# -- search
SEARCH_QUERY_DURATION = Histogram(
    "gamestore_search_query_duration_seconds",
    "Time the search engine took to answer one catalog search.",
    buckets=FAST,
)
SEARCH_INDEX_UPDATED = Gauge(
    "gamestore_search_index_updated_timestamp_seconds",
    "When the indexer last applied a change to the search index (Unix time).",
)

# -- the process itself
DEPENDENCY_UP = Gauge(
    "gamestore_dependency_up",
    "Whether a dependency answered the process's last readiness check (1) or not (0).",
    ["dependency"],
)
LOOP_STALLED = Gauge(
    "gamestore_loop_stalled",
    "1 while one of the process's loops is stuck in a step longer than it may take.",
    ["loop"],
)

Sampler = Callable[[], Awaitable[None]]
_samplers: list[Sampler] = []
SAMPLE_TIMEOUT = 2.0  # seconds a scrape waits for the samplers


@contextlib.contextmanager
def on_scrape(sampler: Sampler) -> Iterator[None]:
    """Run ``sampler`` before every scrape while inside (it sets gauges from a query)."""
    _samplers.append(sampler)
    try:
        yield
    finally:
        _samplers.remove(sampler)


async def sample() -> None:
    """Run every registered sampler, together, each bounded by :data:`SAMPLE_TIMEOUT`; one that
    fails or is too slow leaves its gauges as they were (and says so in the log)."""

    async def bounded(sampler: Sampler) -> None:
        try:
            await asyncio.wait_for(sampler(), SAMPLE_TIMEOUT)
        except Exception as error:  # a gauge left stale must not cost the whole scrape
            log.warning("metrics sampler failed", sampler=_name(sampler), error=repr(error))

    await asyncio.gather(*(bounded(sampler) for sampler in list(_samplers)))


def _name(sampler: Sampler) -> str:
    return getattr(sampler, "__qualname__", type(sampler).__name__)


def status_class(status: int) -> str:
    """``2xx``, ``4xx``… — the status label of HTTP metrics."""
    return f"{status // 100}xx"
