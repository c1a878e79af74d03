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
from gamestore.platform.queue import Message
from tests.integration.payments.support import PaymentsApi

DEADLINE = 15.0


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_an_order_flows_to_the_queue_and_the_view(live: PaymentsApi) -> None:
    user_id = "6f4c6a0e-0000-4000-8000-000000000001"
    created = await live.order_created(user_id)
    payment_id = str(created.data["payment_id"])
    headers = live.player(user_id)

    async def listed() -> bool:
        page = (await live.client.get("/pagamento", headers=headers)).json()
        return bool(page["total"] == 1 and page["items"][0]["id"] == payment_id)

    await eventually(listed, "the payment in the caller's list")
    [requested] = await live.stream(payment_id, 1)
    assert requested.correlation_id == created.correlation_id
    taken: list[Message] = []
    stop = asyncio.Event()

    async def take(message: Message) -> None:
        taken.append(message)
        stop.set()

    await asyncio.wait_for(live.service.queue.consume(PAYMENT_QUEUE, take, stop=stop), DEADLINE)
    assert [(m.id, m.body, m.correlation_id) for m in taken] == [
        (payment_id, {"payment_id": payment_id}, created.correlation_id)
    ]
    success = Outcome(True, "worker", "worker:attempt-1", charge_id="ch_1")
    await live.payments.change(payment_id, lambda p: decide_outcome(p, success))  # the worker

    async def succeeded() -> bool:
        page = (await live.client.get("/pagamento", headers=headers)).json()
        return bool(page["items"][0]["status"] == "succeeded")

    await eventually(succeeded, "the view to follow the outcome")

    async def paid() -> bool:
        async with live.service.engine.connect() as conn:
            query = select(payment_orders.c.paid).where(
                payment_orders.c.order_id == created.data["order_id"]
            )
            return bool(await conn.scalar(query))

    await eventually(paid, "the order marked paid")
