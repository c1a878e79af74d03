"""Request and response bodies of the games API (separate from the tables and the domain).

Request models forbid unknown fields (a typo such as ``pirce_cents`` is a 422, not silently
dropped) and take numbers and dates strictly (``"10"`` is not a price, ``true`` is not 1).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from gamestore.games.domain import PAYMENT_METHODS, TITLE_MAX, GameFields
from gamestore.platform.text import NORMALIZED, trimmed

PRICE_MAX = 100_000_000  # R$ 1,000,000.00: anything above is a typo, not a price
DESCRIPTION_MAX = 10_000
LABEL_MAX = 50
RELEASE_MIN = date(1950, 1, 1)
RELEASE_MAX = date(2100, 12, 31)


def _unique(labels: list[str]) -> list[str]:
    """Duplicates (ignoring case) dropped, the first spelling and the order kept."""
    seen: set[str] = set()
    kept = []
    for label in labels:
        if (key := label.casefold()) not in seen:
            seen.add(key)
            kept.append(label)
    return kept


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: object) -> object:
    """Only ``YYYY-MM-DD`` text (no timestamps, no numbers); the date itself is checked next."""
    if (isinstance(value, str) and not _ISO_DATE.match(value)) or not isinstance(value, str | date):
        raise PydanticCustomError("date_invalid", "must be an ISO date, YYYY-MM-DD")
    return value


def _release(day: date) -> date:
    if not RELEASE_MIN <= day <= RELEASE_MAX:
        limits = {"min": RELEASE_MIN.isoformat(), "max": RELEASE_MAX.isoformat()}
        raise PydanticCustomError("date_out_of_range", "must be between {min} and {max}", limits)
    return day


# the release range as a pattern too, so the document states it (a valid date of those years)
RELEASE_PATTERN = r"^(?:19[5-9][0-9]|20[0-9][0-9]|2100)-[0-9]{2}-[0-9]{2}$"
Label = Annotated[str, trimmed(1, LABEL_MAX), NORMALIZED]
Labels = Annotated[list[Label], AfterValidator(_unique)]
Title = Annotated[str, trimmed(1, TITLE_MAX), NORMALIZED]
Name = Annotated[str, trimmed(1, TITLE_MAX), NORMALIZED]
Description = Annotated[str, trimmed(0, DESCRIPTION_MAX, lines=True), NORMALIZED]


def _whole(value: object) -> object:
    """A JSON number with no fraction (``658.0`` is the integer 658, as JSON Schema has it);
    strings and booleans stay what they are, and are refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Price = Annotated[int, Field(strict=True, ge=0, le=PRICE_MAX), BeforeValidator(_whole)]
ReleaseDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    AfterValidator(_release),
    Field(json_schema_extra={"pattern": RELEASE_PATTERN}),
]


class GameIn(BaseModel):
    """A whole game as an admin writes it (POST creates, PUT replaces every field)."""

    model_config = ConfigDict(extra="forbid", regex_engine="python-re")  # see platform/text

    title: Title
    description: Description
    genres: Annotated[Labels, Field(min_length=1, max_length=20)]
    platforms: Annotated[Labels, Field(min_length=1, max_length=20)]
    price_cents: Price
    currency: Literal["BRL"] = "BRL"
    release_date: ReleaseDate
    developer: Name
    publisher: Name
    tags: Annotated[Labels, Field(max_length=30)]

    def fields(self) -> GameFields:
        return GameFields(
            title=self.title,
            description=self.description,
            genres=tuple(self.genres),
            platforms=tuple(self.platforms),
            price_cents=self.price_cents,
            release_date=self.release_date,
            developer=self.developer,
            publisher=self.publisher,
            tags=tuple(self.tags),
            currency=self.currency,
        )


class CoverPublic(BaseModel):
    """What a client needs to show a game's cover without layout shift."""

    url: str = Field(description="The largest JPEG, or the generated SVG artwork.")
    srcset: str = Field(description="JPEG files by width (`<url> <w>w, …`); empty for artwork.")
    webp_srcset: str = Field(description="The same widths in WebP; empty for artwork.")
    width: int = Field(description="Intrinsic width of the largest file, in pixels.")
    height: int = Field(description="Intrinsic height of the largest file, in pixels.")
    generated: bool = Field(description="True: artwork drawn from the title, no upload.")


class GamePublic(BaseModel):
    id: str
    title: str
    description: str
    genres: list[str]
    platforms: list[str]
    price_cents: int
    currency: Literal["BRL"]
    release_date: date
    developer: str
    publisher: str
    tags: list[str]
    cover: CoverPublic
    version: int = Field(description="Increments on every change; the `ETag` is its quoted value.")
    created_at: datetime
    updated_at: datetime


class GamePage(BaseModel):
    items: list[GamePublic]
    total: int
    page: int
    size: int


class LibraryItem(BaseModel):
    game_id: str
    title: str
    acquired_at: datetime
    order_id: str
    cover: CoverPublic


class Library(BaseModel):
    items: list[LibraryItem]


PaymentMethod = Literal[
    "pm_card_visa",
    "pm_card_chargeDeclined",
    "pm_card_chargeDeclinedInsufficientFunds",
    "pm_card_chargeDeclinedProcessingError",
    "pm_card_async",
]
assert set(get_args(PaymentMethod)) == PAYMENT_METHODS  # one list of tokens (CONTRACT.md)


class PurchaseIn(BaseModel):
    """``POST /jogos/compra``: which game, paid with which PSP payment method."""

    model_config = ConfigDict(extra="forbid")

    game_id: Annotated[str, StringConstraints(max_length=100)]
    payment_method: PaymentMethod = Field(
        description="A PSP payment-method token (never card data)."
    )


class PurchaseAccepted(BaseModel):
    order_id: str
    payment_id: str
    status: Literal["pending_payment"]


class OrderPublic(BaseModel):
    id: str
    game_id: str
    game_title: str
    user_id: str
    status: Literal["pending_payment", "completed", "payment_failed"]
    payment_id: str = Field(description="The order's current payment (`GET /pagamento/{id}`).")
    amount_cents: int
    currency: Literal["BRL"]
    failure_reason: str | None = Field(
        description="Why the current payment failed, when `status` is `payment_failed`."
    )
    created_at: datetime
    updated_at: datetime


class OrderPage(BaseModel):
    items: list[OrderPublic]
    total: int
    page: int
    size: int
