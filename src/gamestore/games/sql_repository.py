"""The games repository on SQL: one method per query, on the unit of work's connection."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.games.covers.urls import UploadedCover, uploaded_from
from gamestore.games.domain import OPEN_STATUSES, Game, GameFields, Order, normalize_title
from gamestore.games.repository import GamesRepository, Owned
from gamestore.games.tables import failed_payments, games, library, orders, outbox
from gamestore.platform.inbox import claim
from gamestore.platform.uow import SqlUnitOfWork, UnitOfWork

_listed = games.c.deleted_at.is_(None)


def games_unit_of_work(
    engine: AsyncEngine, *, wake: Callable[[], None]
) -> UnitOfWork[GamesRepository]:
    """The games database's unit of work: :class:`SqlGames` and the games outbox on one
    transaction, ``wake`` (the relay's, or ``NO_RELAY``) after each commit that emitted."""
    return SqlUnitOfWork[GamesRepository](engine, outbox, SqlGames, wake=wake)


def _game(row: Row[Any] | None) -> Game | None:
    if row is None:
        return None
    fields = GameFields(
        title=row.title,
        description=row.description,
        genres=tuple(row.genres),
        platforms=tuple(row.platforms),
        price_cents=row.price_cents,
        release_date=row.release_date,
        developer=row.developer,
        publisher=row.publisher,
        tags=tuple(row.tags),
        currency=row.currency,
    )
    return Game(
        row.id,
        fields,
        row.version,
        row.created_at,
        row.updated_at,
        row.deleted_at,
        uploaded_from(row.cover),
    )


def _columns(game: Game) -> dict[str, Any]:
    f = game.fields
    return {
        "title": f.title,
        "title_normalized": normalize_title(f.title),
        "description": f.description,
        "genres": list(f.genres),
        "platforms": list(f.platforms),
        "tags": list(f.tags),
        "price_cents": f.price_cents,
        "currency": f.currency,
        "release_date": f.release_date,
        "developer": f.developer,
        "publisher": f.publisher,
        "version": game.version,
        "updated_at": game.updated_at,
        "deleted_at": game.deleted_at,
        "cover": None if game.cover is None else game.cover.stored(),
    }


def _order(row: Row[Any] | None) -> Order | None:
    if row is None:
        return None
    return Order(
        id=row.id,
        user_id=row.user_id,
        game_id=row.game_id,
        game_title=row.game_title,
        status=row.status,
        payment_id=row.payment_id,
        payment_method=row.payment_method,
        amount_cents=row.amount_cents,
        currency=row.currency,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        failure_reason=row.failure_reason,
    )


def _order_columns(order: Order) -> dict[str, Any]:
    return {
        "user_id": order.user_id,
        "game_id": order.game_id,
        "game_title": order.game_title,
        "status": order.status,
        "payment_id": order.payment_id,
        "payment_method": order.payment_method,
        "amount_cents": order.amount_cents,
        "currency": order.currency,
        "failure_reason": order.failure_reason,
        "version": order.version,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


class SqlGames:
    """:class:`~gamestore.games.repository.GamesRepository` on one transaction's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def insert_game(self, game: Game) -> None:
        await self._conn.execute(
            games.insert().values(id=game.id, created_at=game.created_at, **_columns(game))
        )

    async def listed_game(self, game_id: str) -> Game | None:
        query = select(games).where(games.c.id == game_id, _listed)
        return _game((await self._conn.execute(query)).first())

    async def game_exists(self, game_id: str) -> bool:
        """Whether any game, listed or delisted, has this id."""
        query = select(games.c.id).where(games.c.id == game_id)
        return (await self._conn.execute(query)).first() is not None

    async def game_by_id(self, game_id: str) -> Game | None:
        """The game, listed or delisted (owners still see a delisted game in their library)."""
        return _game((await self._conn.execute(select(games).where(games.c.id == game_id))).first())

    async def title_in_use(self, title: str, except_id: str | None = None) -> bool:
        query = select(games.c.id).where(
            games.c.title_normalized == normalize_title(title), _listed
        )
        if except_id is not None:
            query = query.where(games.c.id != except_id)
        return (await self._conn.execute(query.limit(1))).first() is not None

    async def page_of_games(
        self, page: int, size: int, title: str | None = None
    ) -> tuple[list[Game], int]:
        """Listed games in title order (then id, so pages never overlap); with ``title``, only
        those whose title contains it (ignoring case and repeated spaces)."""
        where: sa.ColumnElement[bool] = _listed
        if title is not None and (wanted := normalize_title(title)):
            pattern = (
                "%" + wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            where = sa.and_(_listed, games.c.title_normalized.like(pattern, escape="\\"))
        total = (
            await self._conn.execute(select(func.count()).select_from(games).where(where))
        ).scalar()
        rows = await self._conn.execute(
            select(games)
            .where(where)
            .order_by(games.c.title_normalized, games.c.id)
            .offset((page - 1) * size)
            .limit(size)
        )
        return [g for g in map(_game, rows) if g is not None], int(total or 0)

    async def save_game(self, game: Game, previous_version: int) -> bool:
        """Write ``game`` over its row if the row is still listed at ``previous_version``.

        The version check in the WHERE clause is the optimistic lock: False means another writer
        changed (or delisted) the game since it was read, and nothing was written.
        """
        result = await self._conn.execute(
            update(games)
            .where(games.c.id == game.id, games.c.version == previous_version, _listed)
            .values(**_columns(game))
        )
        return result.rowcount == 1

    async def add_to_library(
        self, user_id: str, game_id: str, order_id: str, acquired_at: datetime
    ) -> bool:
        """Record that ``user_id`` owns ``game_id``; False (nothing changed) if it already did."""
        owned = select(library.c.user_id).where(
            library.c.user_id == user_id, library.c.game_id == game_id
        )
        if (await self._conn.execute(owned)).first() is not None:
            return False
        await self._conn.execute(
            library.insert().values(
                user_id=user_id, game_id=game_id, order_id=order_id, acquired_at=acquired_at
            )
        )
        return True

    async def library_of(self, user_id: str) -> list[Owned]:
        """Every game ``user_id`` owns, delisted ones included, oldest acquisition first."""
        rows = await self._conn.execute(
            select(
                library.c.game_id,
                games.c.title,
                library.c.acquired_at,
                library.c.order_id,
                games.c.genres,
                games.c.cover,
            )
            .join(games, games.c.id == library.c.game_id)
            .where(library.c.user_id == user_id)
            .order_by(library.c.acquired_at, library.c.game_id)
        )
        return [
            Owned(
                r.game_id,
                r.title,
                r.acquired_at,
                r.order_id,
                tuple(r.genres),
                uploaded_from(r.cover),
            )
            for r in rows
        ]

    async def uploaded_covers(self, game_ids: list[str]) -> dict[str, UploadedCover]:
        """The uploaded covers of those of ``game_ids`` that have one."""
        if not game_ids:
            return {}
        rows = await self._conn.execute(
            select(games.c.id, games.c.cover).where(
                games.c.id.in_(game_ids), games.c.cover.is_not(None)
            )
        )
        return {r.id: cover for r in rows if (cover := uploaded_from(r.cover)) is not None}

    async def owns(self, user_id: str, game_id: str) -> bool:
        query = select(library.c.game_id).where(
            library.c.user_id == user_id, library.c.game_id == game_id
        )
        return (await self._conn.execute(query)).first() is not None

    async def insert_order(self, order: Order) -> None:
        """Insert a new order; IntegrityError if the player has an order for the game already."""
        await self._conn.execute(orders.insert().values(**_order_columns(order), id=order.id))

    async def order_by_id(self, order_id: str, *, lock: bool = False) -> Order | None:
        """The order; ``lock`` holds its row until the transaction ends (PostgreSQL; on SQLite
        every writing transaction already holds the database)."""
        query = select(orders).where(orders.c.id == order_id)
        if lock:
            query = query.with_for_update()
        return _order((await self._conn.execute(query)).first())

    async def open_order_of(self, user_id: str, game_id: str) -> Order | None:
        """The player's pending or failed order for the game, if there is one."""
        query = select(orders).where(
            orders.c.user_id == user_id,
            orders.c.game_id == game_id,
            orders.c.status.in_(OPEN_STATUSES),
        )
        return _order((await self._conn.execute(query)).first())

    async def page_of_orders(self, user_id: str, page: int, size: int) -> tuple[list[Order], int]:
        """The player's orders, newest first (then id, so pages never overlap)."""
        mine = orders.c.user_id == user_id
        total = (
            await self._conn.execute(select(func.count()).select_from(orders).where(mine))
        ).scalar()
        rows = await self._conn.execute(
            select(orders)
            .where(mine)
            .order_by(orders.c.created_at.desc(), orders.c.id)
            .offset((page - 1) * size)
            .limit(size)
        )
        return [o for o in map(_order, rows) if o is not None], int(total or 0)

    async def save_order(self, order: Order) -> None:
        """Write ``order`` over its row (the caller read it with ``lock=True``)."""
        await self._conn.execute(
            update(orders).where(orders.c.id == order.id).values(**_order_columns(order))
        )

    async def record_failed_payment(self, payment_id: str, order_id: str, reason: str) -> None:
        if await self.failed_payment_reason(payment_id) is None:
            await self._conn.execute(
                failed_payments.insert().values(
                    payment_id=payment_id, order_id=order_id, reason=reason
                )
            )

    async def failed_payment_reason(self, payment_id: str) -> str | None:
        query = select(failed_payments.c.reason).where(failed_payments.c.payment_id == payment_id)
        reason = (await self._conn.execute(query)).scalar()
        return None if reason is None else str(reason)

    async def claim(self, consumer: str, event_id: uuid.UUID | str) -> bool:
        """True the first time ``consumer`` claims ``event_id`` (the inbox, in this
        transaction: a rollback forgets the claim with the effect)."""
        return await claim(self._conn, consumer, event_id)

    async def on_connection(self, write: Callable[[AsyncConnection], Awaitable[None]]) -> None:
        """Run another store's ``write`` in this transaction (an idempotency key's answer)."""
        await write(self._conn)
