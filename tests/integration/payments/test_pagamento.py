"""POST /pagamento (start a payment again), GET/POST /pagamento/{id}, GET /pagamento."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from gamestore.payments.domain import Outcome, decide_outcome
from gamestore.payments.events import PaymentRequested
from tests.integration.games.support import problem
from tests.integration.payments.support import PaymentsApi, sqlite_only

USER = str(uuid.uuid4())


async def failed_order(api: PaymentsApi, user_id: str = USER) -> dict[str, str]:
    """An order whose first payment was declined: the one case POST /pagamento starts anew."""
    data = await api.ordered(user_id)
    await api.conclude(data["payment_id"], succeeded=False, reason="card_declined")
    return data


@sqlite_only
@pytest.mark.parametrize(
    "body",
    [
        {"order_id": str(uuid.uuid4()), "payment_method": "pm_card_mastercard"},
        {"order_id": str(uuid.uuid4()), "payment_method": "4242424242424242"},
        {"order_id": str(uuid.uuid4())},
        {"order_id": "not-a-uuid", "payment_method": "pm_card_visa"},
        {"order_id": str(uuid.uuid4()), "payment_method": "pm_card_visa", "extra": 1},
    ],
)
async def test_bad_bodies_are_422_before_anything_happens(
    api: PaymentsApi, body: dict[str, object]
) -> None:
    response = await api.client.post("/pagamento", json=body, headers=api.player(USER))
    assert problem(response, 422)["errors"]


async def test_an_unknown_token_is_422_even_for_a_real_order(api: PaymentsApi) -> None:
    data = await failed_order(api)
    problem(await api.pay(USER, data["order_id"], "pm_card_unknown"), 422)
    assert len(await api.stream(data["payment_id"])) == 2


@sqlite_only
async def test_without_a_token_401(api: PaymentsApi) -> None:
    body = {"order_id": str(uuid.uuid4()), "payment_method": "pm_card_visa"}
    response = await api.client.post("/pagamento", json=body)
    assert problem(response, 401) and response.headers["www-authenticate"].startswith("Bearer")


async def test_unknown_and_other_users_orders_are_404(api: PaymentsApi) -> None:
    data = await failed_order(api)
    problem(await api.pay(USER, str(uuid.uuid4())), 404)
    problem(await api.pay(str(uuid.uuid4()), data["order_id"]), 404)
    admin = await api.client.post(
        "/pagamento",
        json={"order_id": data["order_id"], "payment_method": "pm_card_visa"},
        headers=api.admin,
    )
    problem(admin, 404)  # only the order's owner pays


async def test_a_payment_in_flight_is_409(api: PaymentsApi) -> None:
    data = await api.ordered(USER)
    problem(await api.pay(USER, data["order_id"]), 409)


async def test_a_paid_order_is_409_even_before_the_view_knows(api: PaymentsApi) -> None:
    data = await api.ordered(USER)
    success = Outcome(True, "worker", "worker:1", charge_id="ch_1")
    outcome_only = await api.payments.change(
        data["payment_id"], lambda p: decide_outcome(p, success)
    )
    assert outcome_only.status == "succeeded"
    problem(await api.pay(USER, data["order_id"]), 409)
    await api.project(data["payment_id"])  # now payment_orders.paid is set too
    problem(await api.pay(USER, data["order_id"]), 409)


async def test_after_a_failure_a_new_payment_starts(api: PaymentsApi) -> None:
    data = await failed_order(api)
    response = await api.pay(USER, data["order_id"], "pm_card_chargeDeclinedInsufficientFunds")
    assert response.status_code == 202, response.text
    started = response.json()
    assert started["order_id"] == data["order_id"] and started["status"] == "pending"
    assert started["payment_id"] != data["payment_id"]
    [event] = await api.stream(started["payment_id"], 1)
    assert event.type == PaymentRequested.TYPE
    assert event.data["payment_method"] == "pm_card_chargeDeclinedInsufficientFunds"
    assert event.data["amount_cents"] == 4990 and event.data["user_id"] == USER
    assert event.correlation_id == response.headers["x-request-id"]
    problem(await api.pay(USER, data["order_id"]), 409)  # the new one is in flight


async def test_twenty_concurrent_retries_start_one_payment(api: PaymentsApi) -> None:
    data = await failed_order(api)
    responses = await asyncio.gather(*(api.pay(USER, data["order_id"]) for _ in range(20)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [202] + [409] * 19, [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 202)
    await api.stream(winner["payment_id"], 1)
    requested = await api.service.store.read_all(0, 1000, types=[PaymentRequested.TYPE])
    assert sorted(e.data["payment_id"] for e in requested) == sorted(
        [data["payment_id"], winner["payment_id"]]
    )


async def test_idempotency_key_replays_the_first_answer(api: PaymentsApi) -> None:
    data = await failed_order(api)
    key = f"key-{uuid.uuid4()}"
    responses = await asyncio.gather(*(api.pay(USER, data["order_id"], key=key) for _ in range(8)))
    accepted = [r for r in responses if r.status_code == 202]
    assert accepted and all(r.status_code == 409 for r in responses if r.status_code != 202)
    assert len({r.json()["payment_id"] for r in accepted}) == 1
    again = await api.pay(USER, data["order_id"], key=key)
    assert again.status_code == 202 and again.json() == accepted[0].json()
    assert again.headers.get("idempotent-replayed") == "true"
    problem(await api.pay(USER, data["order_id"], "pm_card_async", key=key), 422)
    await api.stream(again.json()["payment_id"], 1)
    requested = await api.service.store.read_all(0, 1000, types=[PaymentRequested.TYPE])
    assert len(requested) == 2


async def test_payment_reads_owner_and_admin_only(api: PaymentsApi) -> None:
    data = await failed_order(api)
    path = f"/pagamento/{data['payment_id']}"
    mine = await api.client.get(path, headers=api.player(USER))
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["status"] == "failed" and body["failure_reason"] == "card_declined"
    assert [h["type"] for h in body["history"]] == ["PaymentRequested", "PaymentFailed"]
    assert body["created_at"].endswith("Z") and "payment_method" not in body
    assert (await api.client.post(path, headers=api.player(USER))).json() == body
    assert (await api.client.get(path, headers=api.admin)).json() == body
    problem(await api.client.get(path, headers=api.player(str(uuid.uuid4()))), 404)
    problem(await api.client.post(path, headers=api.player(str(uuid.uuid4()))), 404)
    problem(await api.client.get(f"/pagamento/{uuid.uuid4()}", headers=api.admin), 404)
    problem(await api.client.get("/pagamento/nonsense", headers=api.admin), 404)
    problem(await api.client.get(path), 401)


async def test_list_the_callers_payments(api: PaymentsApi) -> None:
    data = await failed_order(api)
    retry = (await api.pay(USER, data["order_id"])).json()
    await api.stream(retry["payment_id"], 1)
    await api.project(retry["payment_id"])
    other = await api.ordered(str(uuid.uuid4()))
    mine = (await api.client.get("/pagamento", headers=api.player(USER))).json()
    assert mine["total"] == 2 and (mine["page"], mine["size"]) == (1, 20)
    assert [p["id"] for p in mine["items"]] == [retry["payment_id"], data["payment_id"]]
    assert [p["status"] for p in mine["items"]] == ["pending", "failed"]
    one = await api.client.get(
        "/pagamento", params={"order_id": other["order_id"]}, headers=api.player(USER)
    )
    assert one.json()["total"] == 0
    everyone = await api.client.get("/pagamento", params={"size": 1}, headers=api.admin)
    assert everyone.json()["total"] == 3 and len(everyone.json()["items"]) == 1
    problem(await api.client.get("/pagamento?size=101", headers=api.admin), 422)
    problem(await api.client.get("/pagamento?order_id=x", headers=api.admin), 422)
