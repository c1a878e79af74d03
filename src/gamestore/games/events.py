"""The events the games service publishes: its catalog's games, its orders, players' purchases.

Consumers import these contracts (``GameCreated.parse(recorded)``), never the games domain.
Each payload is built field by field from the domain object: the HTTP documents
(``schemas.GamePublic``) may change without changing a stored or published event. The stored
shapes are the ones these events always had (``tests/unit/games/test_events.py`` pins them).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from gamestore.games.covers.urls import cover_public
from gamestore.games.domain import Game, Order, rfc3339
from gamestore.platform.events import Event


class GameCover(BaseModel):
    """A game's cover in its events: the URLs of its files and the largest one's size."""

    model_config = ConfigDict(frozen=True)

    url: str
    srcset: str
    webp_srcset: str
    width: int
    height: int
    generated: bool


class GameDocument(Event):
    """What every game event carries: the game as it is after the change."""

    STREAM = "game-{id}"

    id: str
    title: str
    description: str
    genres: tuple[str, ...]
    platforms: tuple[str, ...]
    price_cents: int
    currency: str
    release_date: date
    developer: str
    publisher: str
    tags: tuple[str, ...]
    cover: GameCover
    version: int
    created_at: str  # RFC 3339, UTC, "Z"
    updated_at: str

    @classmethod
    def _fields_of(cls, game: Game) -> dict[str, Any]:
        f = game.fields
        return {
            "id": game.id,
            "title": f.title,
            "description": f.description,
            "genres": f.genres,
            "platforms": f.platforms,
            "price_cents": f.price_cents,
            "currency": f.currency,
            "release_date": f.release_date,
            "developer": f.developer,
            "publisher": f.publisher,
            "tags": f.tags,
            "cover": GameCover(**cover_public(game.id, f.title, f.genres, game.cover)),
            "version": game.version,
            "created_at": rfc3339(game.created_at),
            "updated_at": rfc3339(game.updated_at),
        }

    @classmethod
    def of(cls, game: Game) -> Self:
        return cls(**cls._fields_of(game))


class GameCreated(GameDocument):
    """A game entered the catalog (its stream's first event)."""

    TYPE = "GameCreated"


class GameUpdated(GameDocument):
    """A listed game changed: its fields, or its cover."""

    TYPE = "GameUpdated"


class GameDeleted(GameDocument):
    """A game was delisted (it stays in its owners' libraries)."""

    TYPE = "GameDeleted"

    deleted_at: str

    @classmethod
    def of(cls, game: Game) -> Self:
        deleted_at = rfc3339(game.deleted_at or game.updated_at)
        return cls(**cls._fields_of(game), deleted_at=deleted_at)


class OrderEvent(Event):
    """The ids every order event carries."""

    STREAM = "order-{order_id}"

    order_id: str
    user_id: str
    game_id: str
    payment_id: str

    @staticmethod
    def _ids(order: Order) -> dict[str, Any]:
        return {
            "order_id": order.id,
            "user_id": order.user_id,
            "game_id": order.game_id,
            "payment_id": order.payment_id,
        }


class _SaleEvent(OrderEvent):
    """An order event that also says what was sold, and for how much."""

    game_title: str
    amount_cents: int
    currency: str

    @classmethod
    def _sale(cls, order: Order) -> dict[str, Any]:
        return {
            **cls._ids(order),
            "game_title": order.game_title,
            "amount_cents": order.amount_cents,
            "currency": order.currency,
        }


class OrderCreated(_SaleEvent):
    """A player ordered a game: its first payment (``payment_id``) is to be requested."""

    TYPE = "OrderCreated"

    payment_method: str

    @classmethod
    def of(cls, order: Order) -> Self:
        return cls(**cls._sale(order), payment_method=order.payment_method)


class OrderCompleted(OrderEvent):
    """The order's payment succeeded: the game is the player's."""

    TYPE = "OrderCompleted"

    @classmethod
    def of(cls, order: Order) -> Self:
        return cls(**cls._ids(order))


class OrderFailed(OrderEvent):
    """The order's current payment failed (the player may pay again)."""

    TYPE = "OrderFailed"

    reason: str

    @classmethod
    def of(cls, order: Order, reason: str) -> Self:
        return cls(**cls._ids(order), reason=reason)


class PurchaseCompleted(_SaleEvent):
    """A game entered a player's library (on ``library-{user_id}``, once per game)."""

    TYPE = "PurchaseCompleted"
    STREAM = "library-{user_id}"

    @classmethod
    def of(cls, order: Order) -> Self:
        return cls(**cls._sale(order))
