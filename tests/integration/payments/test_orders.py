"""OrderCreated → the order's row and its first PaymentRequested, once; the payments view."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from gamestore.payments.domain import derived_id
from gamestore.payments.events import PaymentRequested
from gamestore.payments.tables import payment_orders, payments_view
from gamestore.platform.eventstore import ANY, NewEvent
from tests.integration.payments.support import PaymentsApi


async def _count(api: PaymentsApi, table: object, **where: object) -> int:
    async with api.service.engine.connect() as conn:
        query = select(func.count()).select_from(table)  # type: ignore[arg-type]
        for name, value in where.items():
            query = query.where(getattr(payment_orders.c, name) == value)
        return int(await conn.scalar(query) or 0)


async def test_order_created_twice_gives_one_row_and_one_payment_requested(
    api: PaymentsApi,
) -> None:
    event = await api.order_created()
    await api.deliver("payments", event)
    await api.deliver("payments", event)  # a redelivery
    await asyncio.gather(*(api.deliver("payments", event) for _ in range(3)))  # and races
    data = event.data
    assert await _count(api, payment_orders, order_id=data["order_id"]) == 1
    stream = await api.stream(data["payment_id"])
    assert [e.type for e in stream] == [PaymentRequested.TYPE]
    requested = stream[0]
    assert requested.event_id == derived_id(data["payment_id"], "requested")
    assert requested.correlation_id == event.correlation_id
    assert requested.causation_id == str(event.event_id)
    assert requested.data == {k: data[k] for k in requested.data}
    assert set(requested.data) == {
        "payment_id", "order_id", "user_id", "game_id", "game_title", "amount_cents",
        "currency", "payment_method",
    }  # fmt: skip


async def test_another_order_created_for_a_known_order_requests_nothing(
    api: PaymentsApi,
) -> None:
    event = await api.order_created()
    await api.deliver("payments", event)
    other_payment = str(uuid.uuid4())
    again = NewEvent("OrderCreated", event.data | {"payment_id": other_payment})
    [recorded] = await api.service.store.append(event.stream_id, [again], ANY)
    await api.deliver("payments", recorded)
    assert await api.stream(other_payment) == []
    assert await _count(api, payment_orders, current_payment_id=event.data["payment_id"]) == 1


async def test_the_view_follows_the_stream_and_never_goes_backwards(api: PaymentsApi) -> None:
    data = await api.ordered()
    payment_id = data["payment_id"]
    first = (await api.stream(payment_id))[0]
    await api.conclude(payment_id, succeeded=True)
    await api.service.view.apply(first)  # an old event delivered late
    async with api.service.engine.connect() as conn:
        row = (await conn.execute(select(payments_view))).one()
        order = (await conn.execute(select(payment_orders))).one()
    assert (row.status, row.version, row.user_id) == ("succeeded", 2, data["user_id"])
    assert order.paid is True
