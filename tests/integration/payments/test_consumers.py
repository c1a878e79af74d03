"""The process's three bus consumers, running: OrderCreated → row + PaymentRequested →
the command on the work queue; every Payment event → the payments view (and ``paid``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from gamestore.payments.dispatcher import PAYMENT_QUEUE
from gamestore.payments.domain import Outcome, decide_outcome
from gamestore.payments.tables import payment_orders
from gamestore.platform.queue import Message, WorkQueue
from tests.integration.payments.support import PaymentsApi

DEADLINE = 15.0


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def take_one(queue: WorkQueue) -> Message:
    """The next message of the payment queue (acknowledged)."""
    taken: list[Message] = []
    stop = asyncio.Event()

    async def take(message: Message) -> None:
        taken.append(message)
        stop.set()

    await asyncio.wait_for(queue.consume(PAYMENT_QUEUE, take, stop=stop), DEADLINE)
    return taken[0]


async def is_paid(api: PaymentsApi, order_id: str) -> bool:
    async with api.service.engine.connect() as conn:
        query = select(payment_orders.c.paid).where(payment_orders.c.order_id == order_id)
        return bool(await conn.scalar(query))


async def test_an_order_flows_to_the_queue_and_the_view(live: PaymentsApi) -> None:
    user_id = "6f4c6a0e-0000-4000-8000-000000000001"
    created = await live.order_created(user_id)
    payment_id, order_id = str(created.data["payment_id"]), str(created.data["order_id"])
    headers = live.player(user_id)

    async def listed_as(status: str) -> bool:
        page = (await live.client.get("/pagamento", headers=headers)).json()
        return bool(page["total"] == 1 and page["items"][0]["status"] == status)

    await eventually(lambda: listed_as("pending"), "the payment in the caller's list")
    [requested] = await live.stream(payment_id, 1)
    assert requested.correlation_id == created.correlation_id
    message = await take_one(live.service.queue)
    assert (message.id, message.body) == (payment_id, {"payment_id": payment_id})
    assert message.correlation_id == created.correlation_id
    success = Outcome(True, "worker", "worker:attempt-1", charge_id="ch_1")
    await live.payments.change(payment_id, lambda p: decide_outcome(p, success))  # the worker
    await eventually(lambda: listed_as("succeeded"), "the view to follow the outcome")
    await eventually(lambda: is_paid(live, order_id), "the order marked paid")
