"""Game events → search documents: the one place an event's data becomes what the index holds.

The game events are read here and nowhere else in the indexer (``gamestore reindex`` uses the
same functions), through the games service's event contracts (``games/events.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gamestore.games.events import GameCreated, GameDeleted, GameUpdated, PurchaseCompleted
from gamestore.platform.events import PoisonEvent
from gamestore.platform.ids import canonical_uuid
from gamestore.search.index import GameDocument

GAME_EVENTS = (GameCreated.TYPE, GameUpdated.TYPE, GameDeleted.TYPE)
UPSERTS = (GameCreated.TYPE, GameUpdated.TYPE)
PURCHASE = PurchaseCompleted.TYPE
GAME_ID_FIELD = "game_id"
if GAME_ID_FIELD not in PurchaseCompleted.model_fields:  # the contract names the field we read
    raise TypeError(f"PurchaseCompleted has no {GAME_ID_FIELD!r}")


def document_of(data: Mapping[str, Any], version: int) -> GameDocument:
    """The search document of a ``GameCreated``/``GameUpdated`` payload at the event's stream
    version; :class:`PoisonEvent` when it does not fit the games service's contract."""
    try:
        game = GameUpdated.parse(data)  # both carry the whole game, in one shape
        game_id = game_id_of(game.id)
    except PoisonEvent as error:
        raise PoisonEvent(f"game document does not parse: {error}") from None
    return GameDocument(
        id=game_id,
        title=game.title,
        description=game.description,
        genres=list(game.genres),
        platforms=list(game.platforms),
        tags=list(game.tags),
        developer=game.developer,
        publisher=game.publisher,
        price_cents=game.price_cents,
        release_date=game.release_date,
        version=version,
    )


def purchased_game_of(data: Mapping[str, Any]) -> str:
    """The game a ``PurchaseCompleted`` payload counts a purchase for. The counter reads this one
    field of the contract and nothing else, so a purchase is counted whatever else its payload
    grows; without a usable game id it is :class:`PoisonEvent`."""
    return game_id_of(data.get(GAME_ID_FIELD))


def game_id_of(value: object) -> str:
    """The canonical game id an event carries; :class:`PoisonEvent` when missing or not a UUID."""
    if value is None:
        raise PoisonEvent("the event carries no game id")
    game_id = canonical_uuid(str(value))
    if game_id is None:
        raise PoisonEvent(f"game id is not a UUID: {str(value)[:64]!r}")
    return game_id
