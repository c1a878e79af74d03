"""What every adapter does around one handler call: correlation, logging, retry delays."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gamestore.platform.bus.model import BatchHandler, EventHandler
from gamestore.platform.eventstore import EventStore, RecordedEvent
from gamestore.platform.logs import correlation, get_logger
from gamestore.platform.queue.model import RetryPolicy

log = get_logger("bus")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between a failed attempt and the next one (exponential, with jitter)."""

    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        return RetryPolicy(base_delay=self.base_delay, max_delay=self.max_delay).delay(attempt)


async def attempt(
    group: str, handler: EventHandler, event: RecordedEvent, number: int
) -> str | None:
    """Call ``handler`` once under the event's correlation id; the error text if it raised.

    Only ``Exception`` is caught: a ``BaseException`` (cancellation, a dying process) ends the
    consumer with the event unacknowledged, so it is delivered again.
    """
    with correlation(event.correlation_id):
        try:
            await handler(event)
        except Exception as error:
            log.warning(
                "handler failed",
                group=group,
                event_type=event.type,
                event_id=event.event_id,
                attempt=number,
                error=f"{type(error).__name__}: {error}",
            )
            return f"{type(error).__name__}: {error}"
    return None


async def attempt_batch(
    group: str, handler: BatchHandler, events: list[RecordedEvent], number: int
) -> str | None:
    """Call a batch ``handler`` once; the error text if it raised (only ``Exception``)."""
    try:
        await handler(events)
    except Exception as error:
        log.warning(
            "batch handler failed",
            group=group,
            first_position=events[0].position,
            events=len(events),
            attempt=number,
            error=f"{type(error).__name__}: {error}",
        )
        return f"{type(error).__name__}: {error}"
    return None


async def wait_for_news(
    store: EventStore, position: int, seconds: float, *interrupts: asyncio.Event
) -> None:
    """Return when an event past ``position`` exists, ``seconds`` passed or an interrupt is set."""
    waits = [asyncio.ensure_future(store.wait_for_events(position, seconds))]
    waits += [asyncio.ensure_future(interrupt.wait()) for interrupt in interrupts]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
