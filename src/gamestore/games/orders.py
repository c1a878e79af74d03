"""Order use cases: place a purchase, read one order, list a player's orders.

Placing an order is one unit of work: the order row and ``OrderCreated`` (through the outbox, on
``order-{id}``) commit together, with the order's first ``payment_id`` already named (ADR 008).
The partial unique index "one open order per (player, game)" settles concurrent purchases: one
insert wins, the others answer with the winner's order id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gamestore.games.domain import (
    AlreadyOwned,
    GameNotFound,
    Order,
    OrderNotFound,
    PurchaseInProgress,
    canonical_id,
    new_order,
)
from gamestore.games.events import OrderCreated
from gamestore.games.repository import GamesRepository
from gamestore.platform.clock import utcnow
from gamestore.platform.eventstore import NO_STREAM
from gamestore.platform.logs import get_logger
from gamestore.platform.uow import UnitOfWork

log = get_logger("games")
BeforeCommit = Callable[[AsyncConnection, Order], Awaitable[None]]


class Orders:
    def __init__(self, uow: UnitOfWork[GamesRepository]) -> None:
        self._uow = uow

    async def place(
        self,
        user_id: str,
        game_id: str,
        payment_method: str,
        before_commit: BeforeCommit | None = None,
    ) -> Order:
        """A pending order for a listed game at its current price, and its ``OrderCreated``.

        :class:`GameNotFound` (unknown or delisted), :class:`AlreadyOwned`,
        :class:`PurchaseInProgress` (an open order exists; it carries that order's id).
        ``before_commit(conn, order)`` runs inside the transaction (the idempotency key's answer
        is stored with the order).
        """
        game_id = canonical_id(game_id)
        try:
            order = await self._place_once(user_id, game_id, payment_method, before_commit)
        except IntegrityError as error:  # a concurrent purchase won the one-order index
            raise PurchaseInProgress(await self._open_order_id(user_id, game_id)) from error
        log.info(
            "order placed",
            order_id=order.id,
            payment_id=order.payment_id,
            game_id=game_id,
            amount_cents=order.amount_cents,
        )
        return order

    async def _place_once(
        self,
        user_id: str,
        game_id: str,
        payment_method: str,
        before_commit: BeforeCommit | None,
    ) -> Order:
        async with self._uow() as tx:
            game = await tx.repo.listed_game(game_id)
            if game is None:
                raise GameNotFound(game_id)
            if await tx.repo.owns(user_id, game_id):
                raise AlreadyOwned(game_id)
            if (open_order := await tx.repo.open_order_of(user_id, game_id)) is not None:
                raise PurchaseInProgress(open_order.id)
            order = new_order(user_id, game, payment_method, utcnow())
            await tx.repo.insert_order(order)
            tx.emit(order.stream, OrderCreated.of(order), NO_STREAM)
            if before_commit is not None:
                hook = before_commit
                await tx.repo.on_connection(lambda conn: hook(conn, order))
        return order

    async def _open_order_id(self, user_id: str, game_id: str) -> str:
        async with self._uow.read() as repo:
            order = await repo.open_order_of(user_id, game_id)
        if order is None:  # the winner completed in between: the game is owned now
            raise AlreadyOwned(game_id)
        return order.id

    async def get(self, order_id: str, user_id: str, *, admin: bool = False) -> Order:
        """The order if ``user_id`` placed it (any order for an admin); else
        :class:`OrderNotFound`, also for malformed ids."""
        try:
            order_id = canonical_id(order_id)
        except GameNotFound:
            raise OrderNotFound(order_id[:64]) from None
        async with self._uow.read() as repo:
            order = await repo.order_by_id(order_id)
        if order is None or (order.user_id != user_id and not admin):
            raise OrderNotFound(order_id)
        return order

    async def page(self, user_id: str, page: int, size: int) -> tuple[list[Order], int]:
        """The player's orders, newest first, and how many there are."""
        async with self._uow.read() as repo:
            return await repo.page_of_orders(user_id, page, size)
