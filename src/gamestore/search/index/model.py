"""The search port: what the games API and the indexer need from a search engine.

Writes are versioned with the game's stream version, so a stale or duplicated delivery never
overwrites newer data, and a delete leaves a tombstone that later stale upserts cannot undo.
Facet counts are computed over every document matching the text *and* the filters (the same
set that ``total`` counts), never over the page alone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol, get_args

from gamestore.platform.i18n import N_

Sort = Literal["relevance", "price_asc", "price_desc", "release_desc", "popular"]
SORTS: tuple[str, ...] = get_args(Sort)
MAX_TEXT_CHARS = 512
MAX_FILTER_CHARS = 100
MAX_PAGE_SIZE = 100
MAX_RESULT_WINDOW = 10_000
FACET_FIELDS = ("genres", "platforms")


class InvalidQuery(ValueError):
    """The query cannot be run as given (the API answers 422 with this message): ``message``
    is the English msgid, ``params`` fill its placeholders."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


@dataclass(frozen=True)
class GameDocument:
    """One game as the search index sees it; ``version`` is the game's stream version."""

    id: str
    title: str
    description: str
    genres: list[str]
    platforms: list[str]
    tags: list[str]
    developer: str
    publisher: str
    price_cents: int
    release_date: date
    version: int
    popularity: int = 0


@dataclass(frozen=True)
class SearchQuery:
    """A search request. ``text`` may be empty (then every game matches, filters apply)."""

    text: str = ""
    genre: str | None = None
    platform: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    sort: Sort = "relevance"
    page: int = 1
    size: int = 20

    def validated(self) -> SearchQuery:
        """This query with control characters blanked, or :class:`InvalidQuery`."""
        if len(self.text) > MAX_TEXT_CHARS:
            raise InvalidQuery(N_("text is longer than %(max)s characters"), max=MAX_TEXT_CHARS)
        if self.sort not in SORTS:
            raise InvalidQuery(N_("sort must be one of %(sorts)s"), sorts=", ".join(SORTS))
        if self.page < 1 or not 1 <= self.size <= MAX_PAGE_SIZE:
            raise InvalidQuery(
                N_("page must be >= 1 and size between 1 and %(max)s"), max=MAX_PAGE_SIZE
            )
        if self.page * self.size > MAX_RESULT_WINDOW:
            raise InvalidQuery(N_("cannot page beyond result %(max)s"), max=MAX_RESULT_WINDOW)
        for price in (self.min_price, self.max_price):
            if price is not None and price < 0:
                raise InvalidQuery(N_("prices must be >= 0"))
        low, high = self.min_price, self.max_price
        if low is not None and high is not None and low > high:
            raise InvalidQuery(N_("min_price is greater than max_price"))
        text = "".join(ch if ch.isprintable() else " " for ch in self.text).strip()
        return SearchQuery(
            text, _clean(self.genre), _clean(self.platform), self.min_price,
            self.max_price, self.sort, self.page, self.size,
        )  # fmt: skip


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = "".join(ch for ch in value if ch.isprintable()).strip()
    if len(value) > MAX_FILTER_CHARS:
        raise InvalidQuery(N_("filter values are at most %(max)s characters"), max=MAX_FILTER_CHARS)
    return value or None


@dataclass(frozen=True)
class SearchHit:
    """One result. ``highlight`` is HTML-escaped text with matches wrapped in ``<em>``."""

    id: str
    title: str
    genres: list[str]
    platforms: list[str]
    price_cents: int
    release_date: date
    score: float
    highlight: str | None = None


@dataclass(frozen=True)
class SearchResult:
    """A page of hits, the exact number of matches and facet counts over all of them."""

    items: list[SearchHit]
    total: int
    page: int
    size: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class SearchIndex(Protocol):
    """A search engine holding the games catalog. One writer process; many readers."""

    async def upsert(self, doc: GameDocument) -> bool:
        """Index ``doc``; False (ignored) if this or a newer version, or tombstone, exists."""
        ...

    async def upsert_many(self, docs: Sequence[GameDocument]) -> int:
        """Index many documents in one commit; returns how many were applied."""
        ...

    async def delete(self, game_id: str, version: int) -> bool:
        """Remove the game, leaving a tombstone at ``version``; False if stale."""
        ...

    async def add_popularity(self, game_id: str, delta: int = 1) -> None:
        """Count ``delta`` more purchases of the game (kept even before it is indexed)."""
        ...

    async def add_popularity_many(self, deltas: Mapping[str, int]) -> None:
        """:meth:`add_popularity` for many games at once (one commit where the engine has them)."""
        ...

    async def ping(self) -> None:
        """One round trip to the engine (a readiness probe); raises if it cannot answer."""
        ...

    async def search(self, query: SearchQuery) -> SearchResult:
        """Run ``query``; raises :class:`InvalidQuery` for a query that cannot run."""
        ...

    async def popular(self, limit: int) -> list[SearchHit]:
        """The most purchased games, most first."""
        ...

    async def similar(
        self, genres: Sequence[str], tags: Sequence[str], exclude: Collection[str], limit: int
    ) -> list[SearchHit]:
        """Games sharing genres or tags, best overlap first, none of ``exclude``."""
        ...

    async def start_rebuild(self) -> SearchIndex:
        """A new, empty index beside the live one; searches keep using the live one.

        Writes the live writer makes meanwhile go to the live index only: after
        :meth:`finish_rebuild`, replay the events from where the rebuild started reading
        (versioned writes make the replay harmless).
        """
        ...

    async def finish_rebuild(self, built: SearchIndex) -> None:
        """Atomically make ``built`` (from :meth:`start_rebuild`) the index searched."""
        ...

    async def close(self) -> None:
        """Release files or connections."""
        ...
