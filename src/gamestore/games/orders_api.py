"""HTTP routes of purchases and orders: ``POST /jogos/compra``, ``GET /pedidos[/{id}]``.

A purchase answers 202: the order exists and its payment has been asked for; the payment's
outcome arrives later (the order's status, ``GET /pedidos/{id}``). ``POST /jogos/compra`` honours
``Idempotency-Key`` (``gamestore.platform.idempotency``); its answer is stored in the same
transaction as the order.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from gamestore.games.domain import Order
from gamestore.games.schemas import OrderPage, OrderPublic, PurchaseAccepted, PurchaseIn
from gamestore.games.state import GamesState
from gamestore.platform.auth import CurrentUser
from gamestore.platform.http import ProblemError
from gamestore.platform.http.codes import define
from gamestore.platform.http.openapi import problems
from gamestore.platform.http.params import PageNumber, PageSize
from gamestore.platform.http.state import state_of
from gamestore.platform.i18n import N_
from gamestore.platform.idempotency import Finish, IdempotencyKey, Stored

router = APIRouter(tags=["orders"])
PURCHASE_ROUTE = "POST /jogos/compra"
ACCEPTED = 202

OTHERS_ORDERS = define(
    403, "others_orders_forbidden", N_("Only an admin may list another player's orders.")
)


GamesDep = Annotated[GamesState, Depends(state_of(GamesState))]


def _accepted(order: Order) -> dict[str, Any]:
    return PurchaseAccepted(
        order_id=order.id, payment_id=order.payment_id, status="pending_payment"
    ).model_dump()


@router.post(
    "/jogos/compra",
    status_code=ACCEPTED,
    response_model=PurchaseAccepted,
    responses={
        404: {"description": "Unknown or delisted game"},
        409: {
            "description": "Already owned; or a purchase of it is open (its `order_id` is in "
            "the problem); or a request with the same Idempotency-Key is still running"
        },
    },
)
async def purchase(
    body: PurchaseIn,
    principal: CurrentUser,
    state: GamesDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Buy a game: creates the order (`pending_payment`) and names its first payment; the
    payment runs asynchronously. 404 unknown or delisted game, 409 already owned or a purchase
    of it already open (the problem carries its `order_id`). With `Idempotency-Key`, a retry
    with the same body gets the first answer again; a different body is a 422."""
    keyed = state.idempotency.request(
        idempotency_key, principal.user_id, PURCHASE_ROUTE, body.model_dump(mode="json")
    )

    async def run(finish: Finish) -> Stored:
        async def store_answer(conn: AsyncConnection, order: Order) -> None:
            await finish(conn, ACCEPTED, _accepted(order))

        order = await state.orders.place(
            principal.user_id, body.game_id, body.payment_method, store_answer
        )
        return Stored(ACCEPTED, _accepted(order))

    stored = await state.idempotency.run(keyed, run)
    response = stored.respond()
    response.headers["Location"] = f"/pedidos/{stored.body['order_id']}"
    return response


@router.get("/pedidos", response_model=OrderPage, responses=problems(403))
async def list_orders(
    principal: CurrentUser,
    state: GamesDep,
    page: PageNumber = 1,
    size: PageSize = 20,
    user_id: Annotated[
        str | None, Query(max_length=100, description="Another player's orders (admin only).")
    ] = None,
) -> OrderPage:
    """The caller's orders, newest first. An admin may name another player with `user_id`."""
    owner = principal.user_id if user_id is None else user_id
    if owner != principal.user_id and not principal.is_admin:
        raise ProblemError.of(OTHERS_ORDERS)
    items, total = await state.orders.page(owner, page, size)
    public = [OrderPublic.model_validate(o.public()) for o in items]
    return OrderPage(items=public, total=total, page=page, size=size)


@router.get("/pedidos/{order_id}", response_model=OrderPublic)
async def get_order(order_id: str, principal: CurrentUser, state: GamesDep) -> OrderPublic:
    """One order, for the player who placed it or an admin; 404 for anyone else."""
    order = await state.orders.get(order_id, principal.user_id, admin=principal.is_admin)
    return OrderPublic.model_validate(order.public())
