"""The dispatcher: every ``PaymentRequested`` becomes the command ``{payment_id}`` on the work
queue ``payments``, keyed by the payment id (docs/adr/008).

A redelivered event enqueues the same message id again, which the queue ignores while the
message is queued or dead-lettered; should a duplicate still get through, the worker folds the
payment first and does nothing for one that is already terminal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from gamestore.platform.eventstore import RecordedEvent
from gamestore.platform.logs import get_logger
from gamestore.platform.queue import WorkQueue

log = get_logger("payments")
PAYMENT_QUEUE = "payments"


class Dispatcher:
    """The ``payment-dispatcher`` consumer's handler."""

    def __init__(self, queue: WorkQueue) -> None:
        self._queue = queue

    async def handle_batch(self, events: Sequence[RecordedEvent]) -> None:
        """A page of ``PaymentRequested``: their commands are sent together, so the broker's
        confirms are awaited at once rather than one after another."""
        await asyncio.gather(*(self.handle(event) for event in events))

    async def handle(self, event: RecordedEvent) -> None:
        payment_id = str(event.data["payment_id"])
        await self._queue.enqueue(
            PAYMENT_QUEUE,
            {"payment_id": payment_id},
            message_id=payment_id,
            correlation_id=event.correlation_id,
        )
        log.info("payment command queued", payment_id=payment_id, queue=PAYMENT_QUEUE)
