"""The notifier on the bus: each event → one notification with its text and one
NotificationSent; redeliveries add nothing; poison is dead-lettered, not looped."""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sized
from contextlib import asynccontextmanager
from typing import Any

from gamestore.notifications.bootstrap import NotifierService
from gamestore.notifications.tables import outbox
from gamestore.platform.bus import Backoff, EventBus, connect_bus
from gamestore.platform.eventstore import NewEvent
from gamestore.platform.logs import TextFormatter
from tests.integration.notifications.support import (
    eventually,
    notification_rows,
    payment_failed,
    purchase_completed,
    record,
    sent_events,
    user_registered,
)

FAST: dict[str, Any] = {"backoff": Backoff(base_delay=0.01, max_delay=0.05), "standby_poll": 0.05}


@asynccontextmanager
async def consuming(service: NotifierService, max_attempts: int = 5) -> AsyncIterator[EventBus]:
    """The notifier following the embedded bus for the duration of the block."""
    bus = await connect_bus("embedded", service.store, lease_ttl=2.0, **FAST)
    stop = asyncio.Event()
    task = asyncio.create_task(service.notifier.consume(bus, stop, max_attempts=max_attempts))
    try:
        yield bus
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await bus.close()


def _count(n: int) -> Callable[[Sized], bool]:
    return lambda rows: len(rows) >= n


async def test_each_event_becomes_one_notification_with_its_text(
    service: NotifierService,
) -> None:
    ana, bia = str(uuid.uuid4()), str(uuid.uuid4())
    causes = await record(
        service.store,
        user_registered(ana, "Ana"),
        purchase_completed(ana, "The Witcher 3: Wild Hunt", corr="req-purchase"),
        payment_failed(bia, "insufficient_funds", "Pokémon Legends: Arceus"),
        payment_failed(bia, "card_declined", "Hades"),
        payment_failed(bia, "processing_error", "Celeste"),
    )
    async with consuming(service):
        rows = await eventually(lambda: notification_rows(service.engine), _count(5))
        sent = await eventually(lambda: sent_events(service.store), _count(5))

    by_cause = {row["cause_event_id"]: row for row in rows}
    witcher = "The Witcher 3: Wild Hunt"
    expected = [
        (ana, "welcome", "Bem-vindo(a) à GameStore, Ana!"),
        (ana, "purchase_completed", f"Compra concluída: {witcher} já está na sua biblioteca."),
        (
            bia,
            "payment_failed",
            "Pagamento recusado: saldo insuficiente (Pokémon Legends: Arceus).",
        ),
        (bia, "payment_failed", "Pagamento recusado: cartão recusado (Hades)."),
        (
            bia,
            "payment_failed",
            "Pagamento recusado: erro no processamento do pagamento (Celeste).",
        ),
    ]
    for cause, (user_id, kind, message) in zip(causes, expected, strict=True):
        row = by_cause[str(cause.event_id)]
        assert (row["user_id"], row["type"], row["message"]) == (user_id, kind, message)

    assert len(sent) == 5
    for event in sent:
        row = by_cause[event.data["cause_event_id"]]
        assert event.stream_id == f"notification-{row['id']}" and event.version == 1
        assert event.data == {
            "notification_id": row["id"],
            "user_id": row["user_id"],
            "type": row["type"],
            "cause_event_id": row["cause_event_id"],
        }
        cause = next(c for c in causes if str(c.event_id) == row["cause_event_id"])
        assert event.causation_id == str(cause.event_id)
        assert event.correlation_id == cause.correlation_id
    purchase = next(e for e in sent if e.data["type"] == "purchase_completed")
    assert purchase.correlation_id == "req-purchase"


async def test_the_same_event_delivered_twice_notifies_once(service: NotifierService) -> None:
    [event] = await record(service.store, purchase_completed(str(uuid.uuid4())))
    await service.notifier.handle(event)
    await service.notifier.handle(event)
    await asyncio.gather(*(service.notifier.handle(event) for _ in range(4)))  # concurrently
    async with consuming(service):  # and the bus delivers it once more
        await eventually(lambda: sent_events(service.store), _count(1))
        await asyncio.sleep(0.3)
    await service.relay.relay_once()

    assert len(await notification_rows(service.engine)) == 1
    assert [e.data["cause_event_id"] for e in await sent_events(service.store)] == [
        str(event.event_id)
    ]
    async with service.engine.connect() as conn:
        assert (await conn.execute(outbox.table.select())).all() == []


async def test_a_poison_event_is_dead_lettered_and_the_rest_notified(
    service: NotifierService,
) -> None:
    no_user = {k: v for k, v in purchase_completed("x").data.items() if k != "user_id"}
    bad = await record(
        service.store, NewEvent("PurchaseCompleted", no_user), user_registered("not-a-uuid")
    )
    good = await record(service.store, user_registered(str(uuid.uuid4()), "Bia"))
    async with consuming(service, max_attempts=2) as bus:
        await eventually(lambda: notification_rows(service.engine), _count(1))
        dead = await eventually(lambda: bus.dead_letters("notifier"), _count(2))

    rows = await notification_rows(service.engine)
    assert [row["cause_event_id"] for row in rows] == [str(good[0].event_id)]
    assert {d.message["event_id"] for d in dead} == {str(e.event_id) for e in bad}
    assert all("PoisonEvent" in d.error for d in dead)


async def test_each_notification_is_logged_under_its_events_correlation_id(
    service: NotifierService,
) -> None:
    user = str(uuid.uuid4())
    await record(service.store, purchase_completed(user, corr="req-log-42"))
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(TextFormatter("notifier"))
    logger = logging.getLogger("gamestore.notifier")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        async with consuming(service):
            await eventually(lambda: notification_rows(service.engine), _count(1))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    [line] = [ln for ln in lines.getvalue().splitlines() if "notification sent" in ln]
    assert " corr=req-log-42 notification sent " in line
    assert f"user_id={user} type=purchase_completed cause=PurchaseCompleted" in line


async def test_a_page_notifies_a_fresh_event_and_skips_a_redelivered_one(
    service: NotifierService,
) -> None:
    old, new = await record(
        service.store, purchase_completed(str(uuid.uuid4())), user_registered(str(uuid.uuid4()))
    )
    await service.notifier.handle(old)

    await service.notifier.handle_batch([old, new, new])
    await service.relay.relay_once()

    rows = await notification_rows(service.engine)
    assert sorted(row["cause_event_id"] for row in rows) == sorted(
        [str(old.event_id), str(new.event_id)]
    )
    assert len(await sent_events(service.store)) == 2


async def test_a_poison_event_amid_a_page_is_dead_lettered_and_the_others_notified(
    service: NotifierService,
) -> None:
    ana, bia = str(uuid.uuid4()), str(uuid.uuid4())
    first, poison, last = await record(  # recorded before the bus starts: one page
        service.store, user_registered(ana), user_registered("not-a-uuid"), user_registered(bia)
    )
    async with consuming(service, max_attempts=2) as bus:
        await eventually(lambda: notification_rows(service.engine), _count(2))
        [dead] = await eventually(lambda: bus.dead_letters("notifier"), _count(1))
        await eventually(lambda: sent_events(service.store), _count(2))

    rows = await notification_rows(service.engine)
    assert sorted(row["cause_event_id"] for row in rows) == sorted(
        [str(first.event_id), str(last.event_id)]
    )
    assert dead.message["event_id"] == str(poison.event_id) and "PoisonEvent" in dead.error
    assert len(await sent_events(service.store)) == 2


async def test_a_payment_failing_again_after_a_replay_is_notified_once(
    service: NotifierService,
) -> None:
    bia = str(uuid.uuid4())
    first = payment_failed(bia, "processing_error", "Celeste")
    replayed = NewEvent("PaymentFailed", dict(first.data), correlation_id=first.correlation_id)
    declined = NewEvent(
        "PaymentFailed", {**first.data, "reason": "card_declined"}, correlation_id="req-later"
    )
    other_payment = payment_failed(bia, "processing_error", "Celeste")
    await record(service.store, first, replayed, declined, other_payment)
    async with consuming(service):
        rows = await eventually(lambda: notification_rows(service.engine), _count(3))
        sent = await eventually(lambda: sent_events(service.store), _count(3))
        marker = await record(service.store, user_registered(bia, "Bia"))
        await eventually(lambda: notification_rows(service.engine), _count(4))
        sent_after = await eventually(lambda: sent_events(service.store), _count(4))

    rows = await notification_rows(service.engine)
    texts = [row["message"] for row in rows if row["type"] == "payment_failed"]
    assert sorted(texts) == sorted(
        [
            "Pagamento recusado: erro no processamento do pagamento (Celeste).",
            "Pagamento recusado: cartão recusado (Celeste).",
            "Pagamento recusado: erro no processamento do pagamento (Celeste).",
        ]
    )  # the replay's failure told nothing new; another reason or another payment did
    assert str(marker[0].event_id) in {row["cause_event_id"] for row in rows}
    assert len(sent_after) == 4 and len(sent) == 3
