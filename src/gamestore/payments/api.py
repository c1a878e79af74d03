"""HTTP routes of payments for players: start (again) and read payments.

Every route needs a valid access token, checked by the service itself. Single payments are read
by folding their event stream (always current); lists come from the ``payments_view``
projection, which follows the stream within moments.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from gamestore.payments.orders import visible_payment
from gamestore.payments.repository import PaymentsRepo
from gamestore.payments.schemas import (
    PaymentIn,
    PaymentPage,
    PaymentPublic,
    PaymentStarted,
    PaymentSummary,
)
from gamestore.payments.state import PaymentsDep
from gamestore.platform.auth import CurrentUser
from gamestore.platform.http.openapi import problems
from gamestore.platform.http.params import PageNumber, PageSize
from gamestore.platform.idempotency import Finish, IdempotencyKey, Stored

router = APIRouter(tags=["payments"])
ROUTE = "POST /pagamento"


@router.post(
    "/pagamento", status_code=202, response_model=PaymentStarted, responses=problems(404, 409)
)
async def start_payment(
    body: PaymentIn,
    user: CurrentUser,
    state: PaymentsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Pay again for one of the caller's orders, with a test payment method of the PSP.

    202 with the new payment, which the payment worker charges shortly. 404 for an order that
    is not the caller's; 409 when it is paid already or its current payment has no outcome yet.
    With `Idempotency-Key`, a retry with the same key and body gets the first answer again."""
    keys = state.idempotency
    keyed = keys.request(idempotency_key, user.user_id, ROUTE, body.model_dump(mode="json"))

    async def run(finish: Finish) -> Stored:
        async def store_answer(repo: PaymentsRepo, answer: dict[str, Any]) -> None:
            await repo.keep_answer(finish, 202, answer)  # in the payment's own unit of work

        answer = await state.orders.start_payment(
            user, str(body.order_id), body.payment_method, before_commit=store_answer
        )
        return Stored(202, answer)

    return (await keys.run(keyed, run)).respond(response)


def _public(payment_json: dict[str, object]) -> PaymentPublic:
    return PaymentPublic.model_validate(payment_json)


@router.get("/pagamento/{payment_id}", response_model=PaymentPublic)
async def get_payment(payment_id: str, user: CurrentUser, state: PaymentsDep) -> PaymentPublic:
    """One payment, folded from its events: status, failure reason, attempts and history.
    The owner or an admin; 404 for anyone else."""
    return _public((await visible_payment(state.payments, user, payment_id)).public())


@router.post("/pagamento/{payment_id}", response_model=PaymentPublic)
async def query_payment(payment_id: str, user: CurrentUser, state: PaymentsDep) -> PaymentPublic:
    """The same as `GET /pagamento/{id}` (the status query the original design names)."""
    return _public((await visible_payment(state.payments, user, payment_id)).public())


@router.get("/pagamento", response_model=PaymentPage)
async def list_payments(
    user: CurrentUser,
    state: PaymentsDep,
    order_id: uuid.UUID | None = None,
    page: PageNumber = 1,
    size: PageSize = 20,
) -> PaymentPage:
    """The caller's payments (an admin's: everyone's), newest first; `order_id` narrows them
    to one order."""
    found = await state.view.page(user, str(order_id) if order_id else None, page, size)
    items = [PaymentSummary.model_validate(item) for item in found.items]
    return PaymentPage(items=items, total=found.total, page=page, size=size)
