"""The rules of the catalog, free of I/O: games, titles, versions and preconditions, orders."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from gamestore.games.covers.urls import UploadedCover, cover_public
from gamestore.platform.ids import canonical_uuid

TITLE_MAX = 200
CURRENCY = "BRL"


class GamesError(Exception):
    """Base of the domain errors the API maps to problem responses."""


class GameNotFound(GamesError):
    """No listed game with that id (unknown, delisted, or not a UUID at all)."""


class TitleTaken(GamesError):
    """Another listed game has this title (compared without case, accents kept)."""


class GameExists(GamesError):
    """A game with the id asked for exists already, listed or delisted."""


class PreconditionFailed(GamesError):
    """``If-Match`` names a version that is not the game's current one."""


class VersionConflict(GamesError):
    """The row changed between reading and writing it (another writer won the race)."""


@dataclass(frozen=True, slots=True)
class GameFields:
    """What an admin sets on a game (the body of POST and of PUT, already validated)."""

    title: str
    description: str
    genres: tuple[str, ...]
    platforms: tuple[str, ...]
    price_cents: int
    release_date: date
    developer: str
    publisher: str
    tags: tuple[str, ...] = ()
    currency: str = CURRENCY


@dataclass(frozen=True, slots=True)
class Game:
    id: str
    fields: GameFields
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = field(default=None)
    cover: UploadedCover | None = field(default=None)  # None: the generated artwork

    @property
    def title(self) -> str:
        return self.fields.title

    @property
    def listed(self) -> bool:
        return self.deleted_at is None

    def public(self) -> dict[str, object]:
        """The game document clients see, JSON-ready (events build their own: events.py)."""
        f = self.fields
        return {
            "id": self.id,
            "title": f.title,
            "description": f.description,
            "genres": list(f.genres),
            "platforms": list(f.platforms),
            "price_cents": f.price_cents,
            "currency": f.currency,
            "release_date": f.release_date.isoformat(),
            "developer": f.developer,
            "publisher": f.publisher,
            "tags": list(f.tags),
            "cover": cover_public(self.id, f.title, f.genres, self.cover),
            "version": self.version,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        }


def new_game(fields: GameFields, now: datetime, game_id: str | None = None) -> Game:
    """A game's first version, under ``game_id`` when the caller chose one, else a new UUID."""
    return Game(str(uuid.UUID(game_id) if game_id else uuid.uuid4()), fields, 1, now, now)


def replaced(game: Game, fields: GameFields, now: datetime) -> Game:
    """The game with new fields and the next version."""
    return replace(game, fields=fields, version=game.version + 1, updated_at=now)


def with_cover(game: Game, cover: UploadedCover | None, now: datetime) -> Game:
    """The game with a new uploaded cover (None: back to generated artwork), next version."""
    return replace(game, cover=cover, version=game.version + 1, updated_at=now)


def delisted(game: Game, now: datetime) -> Game:
    """The game taken off the catalog (its row stays for the owners' libraries)."""
    return replace(game, version=game.version + 1, updated_at=now, deleted_at=now)


def normalize_title(title: str) -> str:
    """The uniqueness key of a title: NFC, case-folded, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", title).casefold().split())


def canonical_id(text: str) -> str:
    """A game id in its one spelling; anything that is not a UUID names no game."""
    canonical = canonical_uuid(text)
    if canonical is None:
        raise GameNotFound(text[:64])
    return canonical


# If-Match (RFC 9110 §13.1.1): "*" or a list of strong entity tags; ours are "<version>".
ANY_VERSION = "*"
_ETAG = re.compile(r'^"(\d{1,18})"$')
IfMatch = str | frozenset[int] | None


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(header: str | None) -> IfMatch:
    """None when absent; ``"*"``; else the versions named (weak or malformed tags name none)."""
    if header is None:
        return None
    parts = [part.strip() for part in header.split(",")]
    if ANY_VERSION in parts:
        return ANY_VERSION
    return frozenset(int(m.group(1)) for p in parts if (m := _ETAG.match(p)))


def check_precondition(if_match: IfMatch, version: int) -> None:
    """:class:`PreconditionFailed` unless ``If-Match`` allows writing over ``version``."""
    if if_match is None or if_match == ANY_VERSION:
        return
    if version not in if_match:
        raise PreconditionFailed(f"current version is {version}")


def stream_of(game_id: str) -> str:
    return f"game-{game_id}"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- orders (the games side of the purchase saga, docs/adr/008-purchase-saga.md) ---

PENDING, COMPLETED, FAILED = "pending_payment", "completed", "payment_failed"
OPEN_STATUSES = (PENDING, FAILED)  # one open order per (user, game): a failed one is retried
PAYMENT_METHODS = frozenset(
    {
        "pm_card_visa",
        "pm_card_chargeDeclined",
        "pm_card_chargeDeclinedInsufficientFunds",
        "pm_card_chargeDeclinedProcessingError",
        "pm_card_async",
    }
)


class OrderNotFound(GamesError):
    """No order with that id that the caller may see."""


class AlreadyOwned(GamesError):
    """The player already has the game in their library."""


class PurchaseInProgress(GamesError):
    """The player has an open order (pending or failed) for the game: pay or retry that one."""

    def __init__(self, order_id: str) -> None:
        super().__init__(order_id)
        self.order_id = order_id


@dataclass(frozen=True, slots=True)
class Order:
    """A purchase of one game by one player; ``version`` is its stream's version."""

    id: str
    user_id: str
    game_id: str
    game_title: str
    status: str
    payment_id: str
    payment_method: str
    amount_cents: int
    currency: str
    version: int
    created_at: datetime
    updated_at: datetime
    failure_reason: str | None = None

    @property
    def stream(self) -> str:
        return f"order-{self.id}"

    def public(self) -> dict[str, object]:
        """The order as clients see it, JSON-ready."""
        return {
            "id": self.id,
            "game_id": self.game_id,
            "game_title": self.game_title,
            "user_id": self.user_id,
            "status": self.status,
            "payment_id": self.payment_id,
            "amount_cents": self.amount_cents,
            "currency": self.currency,
            "failure_reason": self.failure_reason,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        }

    def ids(self) -> dict[str, object]:
        return {
            "order_id": self.id,
            "user_id": self.user_id,
            "game_id": self.game_id,
            "payment_id": self.payment_id,
        }


def new_order(user_id: str, game: Game, payment_method: str, now: datetime) -> Order:
    """A pending order for ``game`` at its current price, with its first payment's id."""
    return Order(
        id=str(uuid.uuid4()),
        user_id=user_id,
        game_id=game.id,
        game_title=game.title,
        status=PENDING,
        payment_id=str(uuid.uuid4()),
        payment_method=payment_method,
        amount_cents=game.fields.price_cents,
        currency=game.fields.currency,
        version=1,
        created_at=now,
        updated_at=now,
    )
