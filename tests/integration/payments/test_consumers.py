"""The process's three bus consumers, running: OrderCreated → row + PaymentRequested →
the command on the work queue; every Payment event → the payments view (and ``paid``); and the
two that take pages of events, given pages with redeliveries and poison."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from gamestore.payments.dispatcher import PAYMENT_QUEUE
from gamestore.payments.domain import Outcome, decide_outcome
from gamestore.payments.orders import ORDER_CREATED
from gamestore.payments.tables import payment_orders, payments_view
from gamestore.platform.bus import BatchHandler, EventBus
from gamestore.platform.eventstore import NewEvent, RecordedEvent
from gamestore.platform.queue import Message, WorkQueue
from tests.integration.bus.test_inbox import consuming_pages
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


def batch_of(api: PaymentsApi, group: str) -> BatchHandler:
    """The page handler of ``group`` (the bus hands it pages of events)."""
    consumer = next(c for c in api.service.consumers() if c.group == group)
    assert consumer.batch is not None
    return consumer.batch


async def settle(api: PaymentsApi) -> None:
    while await api.service.relay.relay_once():
        pass


async def test_a_page_of_orders_requests_each_payment_once(api: PaymentsApi) -> None:
    first, second = await api.order_created(), await api.order_created()
    await api.deliver("payments", first)

    await batch_of(api, "payments")([first, second, second])  # a redelivery, a fresh one twice
    await settle(api)

    for created in (first, second):
        [requested] = await api.stream(str(created.data["payment_id"]))
        assert requested.type == "PaymentRequested"
        assert requested.correlation_id == created.correlation_id
    async with api.service.engine.connect() as conn:
        assert len((await conn.execute(select(payment_orders))).all()) == 2


async def test_a_poison_order_in_a_page_is_dead_lettered_and_the_rest_recorded(
    api: PaymentsApi,
) -> None:
    first = await api.order_created()
    poison = NewEvent("OrderCreated", {"order_id": str(uuid.uuid4())})  # no payment, no price
    [bad] = await api.service.store.append(f"order-{uuid.uuid4()}", [poison])
    last = await api.order_created()

    handler = batch_of(api, "payments")
    async with consuming_pages(api.service.store, "payments", [ORDER_CREATED], handler) as bus:
        await eventually(lambda: has_rows(api, first, last), "the two orders' rows")
        await eventually(lambda: has_dead_letter(bus), "the poison's dead letter")
        [dead] = await bus.dead_letters("payments")

    assert dead.message["event_id"] == str(bad.event_id)
    await settle(api)
    for created in (first, last):
        assert len(await api.stream(str(created.data["payment_id"]))) == 1


async def has_rows(api: PaymentsApi, *created: RecordedEvent) -> bool:
    order_ids = [str(event.data["order_id"]) for event in created]
    async with api.service.engine.connect() as conn:
        query = select(payment_orders.c.order_id).where(payment_orders.c.order_id.in_(order_ids))
        return len((await conn.execute(query)).all()) == len(order_ids)


async def has_dead_letter(bus: EventBus) -> bool:
    return bool(await bus.dead_letters("payments"))


async def test_a_page_of_payment_events_projects_the_newest_state(api: PaymentsApi) -> None:
    data = await api.ordered()
    payment_id, order_id = str(data["payment_id"]), str(data["order_id"])
    success = Outcome(True, "worker", "worker:attempt-1", charge_id="ch_1")
    await api.payments.change(payment_id, lambda p: decide_outcome(p, success))
    events = await api.stream(payment_id)

    await batch_of(api, "payments-view")([*events, events[0]])  # and a stale redelivery

    async with api.service.engine.connect() as conn:
        query = select(payments_view).where(payments_view.c.id == payment_id)
        row = (await conn.execute(query)).mappings().one()
    assert (row["status"], row["version"]) == ("succeeded", len(events))
    assert await is_paid(api, order_id)
