"""Game events → search documents: the one place an event's data becomes what the index holds.

The game events are read here and nowhere else in the indexer (``gamestore reindex`` uses the
same function), so the games service's event contracts replace the parsing in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from gamestore.platform.events import PoisonEvent
from gamestore.platform.ids import canonical_uuid
from gamestore.search.index import GameDocument

GAME_EVENTS = ("GameCreated", "GameUpdated", "GameDeleted")
PURCHASE = "PurchaseCompleted"


def document_of(data: Mapping[str, Any], version: int) -> GameDocument:
    """The search document of a game event's data (the public game document) at the event's
    stream version; :class:`PoisonEvent` when it does not parse."""
    try:
        return GameDocument(
            id=game_id_of(data.get("id")),
            title=str(data["title"]),
            description=str(data.get("description", "")),
            genres=[str(g) for g in data.get("genres", [])],
            platforms=[str(p) for p in data.get("platforms", [])],
            tags=[str(t) for t in data.get("tags", [])],
            developer=str(data.get("developer", "")),
            publisher=str(data.get("publisher", "")),
            price_cents=int(data["price_cents"]),
            release_date=date.fromisoformat(str(data["release_date"])),
            version=version,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise PoisonEvent(f"game document does not parse: {error}") from error


def game_id_of(value: object) -> str:
    """The canonical game id an event carries; :class:`PoisonEvent` when missing or not a UUID."""
    if value is None:
        raise PoisonEvent("the event carries no game id")
    game_id = canonical_uuid(str(value))
    if game_id is None:
        raise PoisonEvent(f"game id is not a UUID: {str(value)[:64]!r}")
    return game_id
