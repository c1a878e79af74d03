"""One handler call of a work queue's consumer, through outages (ADR 010).

The handler is called again with the same message (the same attempt number) after a pause for
as long as what it needs is away; how the call ended decides how the consumer settles it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gamestore.platform.faults import OutageLog, Pause, is_transient, retry_after_of
from gamestore.platform.health import Heartbeat, Step
from gamestore.platform.queue.model import Handler, Message, PermanentError
from gamestore.platform.tracing import consuming
from gamestore.platform.waiting import wait_event


@dataclass(frozen=True, slots=True)
class Handled:
    """How a call ended: ``ok``; else its ``error``, and whether it was a ``PermanentError``
    (dead-letter at once) or the consumer was ``stopped`` while waiting an outage out (give the
    message back uncounted)."""

    ok: bool
    error: str = ""
    permanent: bool = False
    stopped: bool = False


def describe(error: BaseException) -> str:
    """The error text stored with a retried or dead-lettered message: a handler's
    :class:`PermanentError` says its kind (``permanent``/``transient``) and its own words;
    anything else, unforeseen, its exception type."""
    if isinstance(error, PermanentError):
        return f"{error.kind}: {error}"
    return f"{type(error).__name__}: {error}"


async def call_through_outages(
    handler: Handler,
    message: Message,
    *,
    queue: str,
    stop: asyncio.Event,
    pause: Pause,
    beat: Heartbeat | None = None,
) -> Handled:
    """Call ``handler`` until it returns or fails for a reason an outage does not explain;
    each call is one step of the consumer's ``beat`` (``platform/health.py``)."""
    items = [(message.id, message.traceparent)]
    with (beat or Heartbeat(queue)).step() as step, consuming(f"{queue} handles", items):
        return await _through_outages(handler, message, queue, stop, pause, step)


async def _through_outages(
    handler: Handler, message: Message, queue: str, stop: asyncio.Event, pause: Pause, step: Step
) -> Handled:
    outage = OutageLog(f"queue {queue}: the handler's dependencies", message_id=message.id)
    while True:
        try:
            await handler(message)
        except PermanentError as error:
            return Handled(False, describe(error), permanent=True)
        except Exception as error:
            if not is_transient(error):
                return Handled(False, describe(error))
            outage.failed(error)
            if await wait_event(stop, pause.delay(outage.tries, retry_after_of(error))):
                return Handled(False, describe(error), stopped=True)
            step.progress()  # waiting an outage out is not being stuck
            continue
        outage.recovered()
        return Handled(True)
