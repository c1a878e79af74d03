"""What every adapter does around a handler: correlation, logging, and one delivery's retries.

A delivery ends in one of three ways (:class:`Delivery`): handled; failed ``max_attempts``
times in a row (the caller dead-letters it); or stopped. Failures are sorted by
``platform.faults``: an outage (the handler's database or the event store unreachable…) is
waited out with a capped, jittered pause for as long as it lasts and is never an attempt; any
other error is an attempt, retried after an exponential backoff until ``max_attempts``.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from gamestore.platform.eventstore import EventStore, RecordedEvent
from gamestore.platform.faults import DEFAULT_PAUSE, OutageLog, Pause, is_transient, retry_after_of
from gamestore.platform.health import Heartbeat, Step
from gamestore.platform.logs import get_logger
from gamestore.platform.metrics import CONSUMER_DELIVERIES
from gamestore.platform.queue.handling import describe
from gamestore.platform.queue.model import RetryPolicy
from gamestore.platform.tracing import consuming
from gamestore.platform.waiting import first_of, wait_event

log = get_logger("bus")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between a failed attempt and the next one (exponential, with jitter)."""

    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        return RetryPolicy(base_delay=self.base_delay, max_delay=self.max_delay).delay(attempt)


class Ending(enum.Enum):
    HANDLED = "handled"
    FAILED = "failed"  # max_attempts counted failures: dead-letter it
    STOPPED = "stopped"  # the stop event was set first: leave it for the next run


@dataclass
class Delivery:
    """How one delivery ended; for FAILED, the last error and how many attempts were made."""

    ending: Ending
    error: str = ""
    attempts: int = 0


@dataclass
class Retrier:
    """Runs one delivery of a consumer group to its end (see the module docstring)."""

    group: str
    stop: asyncio.Event
    max_attempts: int
    backoff: Backoff = field(default_factory=Backoff)
    pause: Pause = DEFAULT_PAUSE
    beat: Heartbeat = field(default_factory=lambda: Heartbeat("bus"))
    """The consuming loop's heartbeat (``platform/health.py``): each delivery is one step."""

    async def run(
        self, call: Callable[[], Awaitable[None]], first: int = 1, *, events: int = 1, **about: Any
    ) -> Delivery:
        """Call ``call`` until it returns, fails ``max_attempts`` times counting from attempt
        number ``first`` (a redelivery continues its count), or ``stop`` is set. ``events``
        is how many events the call handles; ``about`` goes into the log lines (event id…)."""
        if events > 1:
            about["events"] = events
        outage = OutageLog(f"bus group {self.group}: the handler's dependencies", **about)
        with self.beat.step() as step:
            return await self._attempts(call, first, events, outage, step, about)

    async def _attempts(
        self,
        call: Callable[[], Awaitable[None]],
        number: int,
        events: int,
        outage: OutageLog,
        step: Step,
        about: dict[str, Any],
    ) -> Delivery:
        while True:
            try:
                await call()
                outage.recovered()
                CONSUMER_DELIVERIES.labels(self.group, "handled").inc(events)
                return Delivery(Ending.HANDLED)
            except Exception as error:
                if is_transient(error):
                    outage.failed(error)
                    wait = self.pause.delay(outage.tries, retry_after_of(error))
                else:
                    CONSUMER_DELIVERIES.labels(self.group, "failed").inc(events)
                    log.warning(
                        "handler failed",
                        group=self.group, attempt=number, error=describe(error), **about,
                    )  # fmt: skip
                    if number >= self.max_attempts:
                        return Delivery(Ending.FAILED, describe(error), number)
                    wait, number = self.backoff.delay(number), number + 1
            if await wait_event(self.stop, wait):
                return Delivery(Ending.STOPPED)
            step.progress()  # waiting out an outage or a backoff is not being stuck


def handling(group: str, events: Sequence[RecordedEvent]) -> AbstractContextManager[None]:
    """The consumer spans of one delivery: one per event, each the child of the span that
    staged it (``platform/tracing.py``)."""
    name = f"{group} handles {events[0].type}" if len(events) == 1 else f"{group} handles a page"
    items = [(str(event.event_id), event.traceparent) for event in events]
    return consuming(name, items, **{"messaging.consumer.group.name": group})


async def wait_for_news(
    store: EventStore, position: int, seconds: float, *interrupts: asyncio.Event
) -> None:
    """Return when an event past ``position`` exists, ``seconds`` passed or an interrupt is set."""
    news = asyncio.ensure_future(store.wait_for_events(position, seconds))
    await first_of(news, *(asyncio.ensure_future(interrupt.wait()) for interrupt in interrupts))
