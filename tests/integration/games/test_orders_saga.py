"""The games consumer of payment events: exactly one grant per purchase, whatever the bus does
(redeliveries, reordering), and a failed order retried with a new payment."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import IntegrityError

from gamestore.games.bootstrap import GamesService, build
from gamestore.games.domain import new_order
from gamestore.games.saga import EVENT_TYPES, GROUP
from gamestore.games.sql_repository import SqlGames
from gamestore.platform.bus import EventBus
from gamestore.platform.config import Settings
from gamestore.platform.events import PoisonEvent
from gamestore.platform.eventstore import NewEvent, RecordedEvent
from tests.integration.bus.support import eventually
from tests.integration.bus.test_inbox import consuming_pages
from tests.integration.games.support import GamesApi, Issuer, problem
from tests.integration.games.test_orders import buy, buyer, order_stream
from tests.unit.games.support import payment_payload

DEADLINE = 10.0


def payment_event(type_: str, order: dict[str, Any], payment_id: str, **extra: Any) -> Any:
    """A payment event as the bus delivers it (a new event id each call)."""
    data = payment_payload(type_, payment_id=payment_id, order_id=order["order_id"], **extra)
    return RecordedEvent(
        position=1,
        event_id=uuid.uuid4(),
        stream_id=f"payment-{payment_id}",
        version=1,
        type=type_,
        data=data,
        occurred_at=datetime.now(UTC),
        correlation_id="saga-test",
        causation_id=None,
    )


async def place(api: GamesApi, user: str) -> dict[str, Any]:
    game = await api.create()
    response = await buy(api, game["id"], buyer(api, user))
    assert response.status_code == 202, response.text
    placed: dict[str, Any] = response.json()
    placed["game_id"] = game["id"]
    return placed


async def order_of(api: GamesApi, order_id: str) -> dict[str, Any]:
    response = await api.client.get(f"/pedidos/{order_id}", headers=api.admin)
    assert response.status_code == 200
    order: dict[str, Any] = response.json()
    return order


async def settled(service: GamesService, stream: str) -> list[RecordedEvent]:
    """The stream once the relay has nothing left to move."""
    while await service.relay.relay_once():
        pass
    await asyncio.sleep(0.05)
    await service.relay.relay_once()
    return await service.store.read_stream(stream)


async def test_a_success_grants_the_game_once_even_when_redelivered(api: GamesApi) -> None:
    user = str(uuid.uuid4())
    placed = await place(api, user)
    succeeded = payment_event("PaymentSucceeded", placed, placed["payment_id"])
    for _ in range(2):  # a redelivery of the same event
        await api.service.saga.handle(succeeded)
    another = payment_event("PaymentSucceeded", placed, placed["payment_id"])
    await api.service.saga.handle(another)  # the webhook's report of the same success

    order = await order_of(api, placed["order_id"])
    assert order["status"] == "completed"
    owned = await api.service.libraries.of(user)
    assert [(o.game_id, o.order_id) for o in owned] == [(placed["game_id"], placed["order_id"])]
    [purchase] = await settled(api.service, f"library-{user}")
    assert purchase.type == "PurchaseCompleted"
    assert purchase.causation_id == str(succeeded.event_id)
    assert purchase.data == {
        "order_id": placed["order_id"],
        "user_id": user,
        "game_id": placed["game_id"],
        "game_title": order["game_title"],
        "amount_cents": order["amount_cents"],
        "currency": "BRL",
        "payment_id": placed["payment_id"],
    }
    events = await settled(api.service, f"order-{placed['order_id']}")
    assert [(e.type, e.version) for e in events] == [("OrderCreated", 1), ("OrderCompleted", 2)]
    assert events[1].data["payment_id"] == placed["payment_id"]
    problem(await buy(api, placed["game_id"], buyer(api, user)), 409)  # owned now


async def test_out_of_order_events_never_undo_a_completed_order(api: GamesApi) -> None:
    user = str(uuid.uuid4())
    placed = await place(api, user)
    payment = placed["payment_id"]
    saga = api.service.saga
    await saga.handle(payment_event("PaymentSucceeded", placed, payment))
    await saga.handle(payment_event("PaymentRequested", placed, payment))
    await saga.handle(payment_event("PaymentFailed", placed, payment, reason="card_declined"))
    await saga.handle(payment_event("PaymentRequested", placed, str(uuid.uuid4())))
    order = await order_of(api, placed["order_id"])
    assert (order["status"], order["payment_id"]) == ("completed", payment)
    assert order["failure_reason"] is None
    assert len(await api.service.libraries.of(user)) == 1
    assert len(await settled(api.service, f"library-{user}")) == 1
    assert len(await settled(api.service, f"order-{placed['order_id']}")) == 2


async def test_a_failed_order_is_retried_with_a_new_payment(api: GamesApi) -> None:
    user = str(uuid.uuid4())
    placed = await place(api, user)
    first, second = placed["payment_id"], str(uuid.uuid4())
    saga = api.service.saga
    await saga.handle(payment_event("PaymentFailed", placed, first, reason="card_declined"))
    failed = await order_of(api, placed["order_id"])
    assert (failed["status"], failed["failure_reason"]) == ("payment_failed", "card_declined")
    refused = problem(await buy(api, placed["game_id"], buyer(api, user)), 409)
    assert refused["order_id"] == placed["order_id"]  # retried with POST /pagamento, not here

    await saga.handle(payment_event("PaymentRequested", placed, second))
    retried = await order_of(api, placed["order_id"])
    assert (retried["status"], retried["payment_id"]) == ("pending_payment", second)
    assert retried["failure_reason"] is None
    await saga.handle(payment_event("PaymentFailed", placed, first, reason="card_declined"))
    assert (await order_of(api, placed["order_id"]))["status"] == "pending_payment"  # stale
    await saga.handle(payment_event("PaymentSucceeded", placed, second))

    done = await order_of(api, placed["order_id"])
    assert (done["status"], done["payment_id"]) == ("completed", second)
    events = await settled(api.service, f"order-{placed['order_id']}")
    assert [e.type for e in events] == ["OrderCreated", "OrderFailed", "OrderCompleted"]
    assert events[1].data == {
        "order_id": placed["order_id"],
        "user_id": user,
        "game_id": placed["game_id"],
        "payment_id": first,
        "reason": "card_declined",
    }
    [purchase] = await settled(api.service, f"library-{user}")
    assert purchase.data["payment_id"] == second


async def test_a_failure_delivered_before_its_request_still_fails_the_order(
    api: GamesApi,
) -> None:
    placed = await place(api, str(uuid.uuid4()))
    saga, second = api.service.saga, str(uuid.uuid4())
    await saga.handle(payment_event("PaymentFailed", placed, placed["payment_id"], reason="x"))
    await saga.handle(payment_event("PaymentFailed", placed, second, reason="insufficient_funds"))
    assert (await order_of(api, placed["order_id"]))["payment_id"] == placed["payment_id"]
    await saga.handle(payment_event("PaymentRequested", placed, second))
    order = await order_of(api, placed["order_id"])
    assert (order["status"], order["payment_id"]) == ("payment_failed", second)
    assert order["failure_reason"] == "insufficient_funds"
    events = await settled(api.service, f"order-{placed['order_id']}")
    assert [e.type for e in events] == ["OrderCreated", "OrderFailed", "OrderFailed"]


async def test_a_failure_of_another_payment_changes_nothing(api: GamesApi) -> None:
    placed = await place(api, str(uuid.uuid4()))
    other = str(uuid.uuid4())
    await api.service.saga.handle(payment_event("PaymentFailed", placed, other, reason="x"))
    assert (await order_of(api, placed["order_id"]))["status"] == "pending_payment"


async def test_unknown_orders_are_ignored_and_malformed_events_are_poison(api: GamesApi) -> None:
    saga = api.service.saga
    ghost = {"order_id": str(uuid.uuid4())}
    await saga.handle(payment_event("PaymentSucceeded", ghost, str(uuid.uuid4())))
    with pytest.raises(PoisonEvent):
        await saga.handle(payment_event("PaymentSucceeded", {"order_id": "nope"}, "x"))
    await saga.handle(payment_event("GameCreated", ghost, str(uuid.uuid4())))  # not ours


async def test_concurrent_deliveries_of_one_success_grant_once(api: GamesApi) -> None:
    user = str(uuid.uuid4())
    placed = await place(api, user)
    succeeded = payment_event("PaymentSucceeded", placed, placed["payment_id"])
    results = await asyncio.gather(
        *(api.service.saga.handle(succeeded) for _ in range(5)), return_exceptions=True
    )
    assert [r for r in results if r is not None] == []
    assert len(await api.service.libraries.of(user)) == 1
    assert len(await settled(api.service, f"library-{user}")) == 1


async def test_the_process_consumes_payment_events_from_the_bus(
    settings: Settings, issuer: Issuer
) -> None:
    user = str(uuid.uuid4())
    async with build(settings, verifier=issuer.verifier(), consume=True) as service:
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://games") as client:
            api = GamesApi(client, service, issuer)
            placed = await place(api, user)
            ids = {"payment_id": placed["payment_id"], "order_id": placed["order_id"]}
            event = NewEvent("PaymentSucceeded", payment_payload("PaymentSucceeded", **ids))
            await service.store.append(f"payment-{placed['payment_id']}", [event])
            deadline = time.monotonic() + DEADLINE
            while (await order_of(api, placed["order_id"]))["status"] != "completed":
                assert time.monotonic() < deadline, "the saga did not complete the order"
                await asyncio.sleep(0.05)
            assert len(await service.libraries.of(user)) == 1
            assert len(await order_stream(service, placed["order_id"], 2)) == 2


async def test_a_purchase_racing_the_completion_of_the_same_game_loses(api: GamesApi) -> None:
    """A purchase that checked the library and the open orders just BEFORE the first order
    completed (so it saw neither) must still lose at its insert: one order per player and game
    whatever its status, or the player is charged twice for one game."""
    user = str(uuid.uuid4())
    placed = await place(api, user)
    await api.service.saga.handle(payment_event("PaymentSucceeded", placed, placed["payment_id"]))
    assert (await order_of(api, placed["order_id"]))["status"] == "completed"
    game = await api.service.catalog.get(placed["game_id"])
    late = new_order(user, game, "pm_card_visa", datetime.now(UTC))
    with pytest.raises(IntegrityError):
        async with api.service.engine.begin() as conn:
            await SqlGames(conn).insert_order(late)  # past the checks, as the racing request was
    refused = await buy(api, placed["game_id"], buyer(api, user))
    assert refused.status_code == 409, refused.text


async def test_a_page_applies_each_payment_event_once_and_in_order(api: GamesApi) -> None:
    """One transaction for the page: a redelivered success changes nothing, and the events of
    one order apply in their order (each sees what the one before it wrote)."""
    first_user, second_user = str(uuid.uuid4()), str(uuid.uuid4())
    first, second = await place(api, first_user), await place(api, second_user)
    saga, retry = api.service.saga, str(uuid.uuid4())
    succeeded = payment_event("PaymentSucceeded", first, first["payment_id"])
    await saga.handle(succeeded)

    await saga.handle_batch(
        [
            succeeded,  # redelivered
            payment_event("PaymentFailed", second, second["payment_id"], reason="card_declined"),
            payment_event("PaymentRequested", second, retry),
            payment_event("PaymentSucceeded", second, retry),
        ]
    )

    assert len(await api.service.libraries.of(first_user)) == 1
    assert len(await settled(api.service, f"order-{first['order_id']}")) == 2
    done = await order_of(api, second["order_id"])
    assert (done["status"], done["payment_id"]) == ("completed", retry)
    events = await settled(api.service, f"order-{second['order_id']}")
    assert [(e.type, e.version) for e in events] == [
        ("OrderCreated", 1),
        ("OrderFailed", 2),
        ("OrderCompleted", 3),
    ]
    [purchase] = await settled(api.service, f"library-{second_user}")
    assert purchase.data["payment_id"] == retry


async def test_a_poison_event_in_a_page_is_dead_lettered_and_the_rest_applied(
    api: GamesApi,
) -> None:
    users = [str(uuid.uuid4()), str(uuid.uuid4())]
    placed = [await place(api, user) for user in users]
    store = api.service.store
    poison = NewEvent("PaymentSucceeded", {"payment_id": "x", "order_id": "nope"})
    good = [
        NewEvent(
            "PaymentSucceeded",
            payment_payload("PaymentSucceeded", payment_id=p["payment_id"], order_id=p["order_id"]),
        )
        for p in placed
    ]
    for event in (good[0], poison, good[1]):  # appended before the consumer starts: one page
        await store.append(f"payment-{uuid.uuid4()}", [event])

    async with consuming_pages(store, GROUP, EVENT_TYPES, api.service.saga.handle_batch) as bus:
        for p in placed:
            await wait_for_status(api, p["order_id"], "completed")
        await eventually(lambda: _dead(bus), what="the poison's dead letter")
        [dead] = await bus.dead_letters(GROUP)

    assert dead.message["data"] == poison.data and "PoisonEvent" in dead.error
    for user, p in zip(users, placed, strict=True):
        assert len(await api.service.libraries.of(user)) == 1
        assert len(await settled(api.service, f"order-{p['order_id']}")) == 2


async def _dead(bus: EventBus) -> bool:
    return bool(await bus.dead_letters(GROUP))


async def wait_for_status(api: GamesApi, order_id: str, status: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while (await order_of(api, order_id))["status"] != status:
        assert time.monotonic() < deadline, f"the order never became {status}"
        await asyncio.sleep(0.05)
