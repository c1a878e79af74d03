"""The worker through outages of its own engines and of the PSP: the PSP's Retry-After reaches
the queue, and a dead letter's events are written before its message is acked, however long
the event store is away."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from gamestore.payments.aggregate import Payments
from gamestore.payments.bootstrap import unit_of_work
from gamestore.payments.domain import PROCESSING_ERROR
from gamestore.payments.psp_client import PspClient
from gamestore.payments.worker import QUEUE, PaymentWorker, PspUnavailable, charge_request
from gamestore.platform.eventstore import EventStore, NewEvent
from gamestore.platform.faults import retry_after_of
from gamestore.platform.queue import RetryPolicy
from gamestore.platform.uow import NO_RELAY
from tests.integration.payments.test_worker import (
    PROCESSING_ERROR_CARD,
    PSP_KEY,
    VISA,
    Rig,
    rig,
)
from tests.integration.payments.test_worker_retries import outage
from tests.integration.psp.support import eventually

__all__ = ["rig"]  # the fixture, shared with test_worker


async def test_the_psp_s_retry_after_reaches_the_queue(rig: Rig) -> None:
    pid = await rig.request(VISA)
    payment = await Payments(rig.store).get(pid)
    client = PspClient(str(rig.psp.base_url), api_key=PSP_KEY)
    await client.start()
    try:
        await outage(rig, 3)
        result = await client.charge(charge_request(payment), pid)
    finally:
        await client.close()
    assert result.kind == "unavailable" and result.retry_after is not None
    assert 1 <= result.retry_after <= 3
    error = PspUnavailable(result.error or "", retry_after=result.retry_after)
    assert retry_after_of(error) == result.retry_after  # what the queue's pause honours


class AwayStore:
    """A real event store whose appends are refused while ``down`` is set."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.down = False
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def append(self, stream_id: str, events: Sequence[NewEvent], *args: Any) -> Any:
        if self.down:
            self.refused += 1
            raise ConnectionRefusedError(111, "Connect call failed")
        return await self._store.append(stream_id, events, *args)


async def test_a_dead_letter_waits_until_its_events_can_be_written(rig: Rig) -> None:
    store = AwayStore(rig.store)
    pid = await rig.request(PROCESSING_ERROR_CARD)
    psp = PspClient(str(rig.psp.base_url), api_key=PSP_KEY)
    await psp.start()
    worker = PaymentWorker(
        Payments(store), unit_of_work(rig.engine, wake=NO_RELAY), psp, max_attempts=1
    )
    stop = asyncio.Event()
    store.down = True  # from the first PSP answer on, nothing can be recorded
    consuming = asyncio.create_task(
        rig.queue.consume(QUEUE, worker.handle, stop=stop, policy=RetryPolicy(max_attempts=1))
    )
    try:
        await eventually(lambda: store.refused >= 3, timeout=15)
        assert await rig.queue.dead_letters(QUEUE) == []  # held, not dead-lettered unwritten
        assert [e.type for e in await rig.events(pid)] == ["PaymentRequested"]
        store.down = False
        dead = await eventually(lambda: rig.queue.dead_letters(QUEUE), timeout=15)
    finally:
        stop.set()
        await asyncio.wait_for(consuming, 15)
        await psp.close()
    assert [d.id for d in dead] == [pid]
    types = [e.type for e in await rig.events(pid)]
    assert types.count("PaymentDeadLettered") == 1 and types[-1] == "PaymentFailed"
    payment = await Payments(rig.store).get(pid)
    assert (payment.status, payment.failure_reason) == ("failed", PROCESSING_ERROR)
