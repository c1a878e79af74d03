"""HTTP routes of game search: full-text search, popular games, recommendations.

They read the search index the ``indexer`` process writes (this process never writes it), so a
catalog change shows here once the indexer has applied its event (well under a second).
Mounted before ``/jogos/{game_id}`` so that ``/jogos/busca`` is not taken for a game id.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gamestore.games.catalog import Catalog
from gamestore.games.covers.urls import UploadedCover, cover_public
from gamestore.games.domain import GameNotFound
from gamestore.games.schemas import PRICE_MAX, CoverPublic
from gamestore.games.search_state import SearchDep
from gamestore.platform.auth import CurrentUser
from gamestore.platform.field_errors import message
from gamestore.platform.http import ProblemError
from gamestore.platform.http.codes import define
from gamestore.platform.i18n import N_, translate
from gamestore.platform.metrics import SEARCH_QUERY_DURATION
from gamestore.search.index import InvalidQuery, SearchHit, SearchQuery
from gamestore.search.index.model import (
    MAX_FILTER_CHARS,
    MAX_PAGE_SIZE,
    MAX_RESULT_WINDOW,
    MAX_TEXT_CHARS,
    Sort,
)

router = APIRouter()
LIST_LIMIT = 100


class SearchItem(BaseModel):
    id: str
    title: str
    genres: list[str]
    platforms: list[str]
    price_cents: int
    release_date: date
    score: float = Field(description="Relevance (BM25); 0 when no text was searched.")
    highlight: str | None = Field(
        description="The title (HTML-escaped) with the matched words wrapped in `<em>`."
    )
    cover: CoverPublic


class Facets(BaseModel):
    genres: dict[str, int]
    platforms: dict[str, int]


class SearchPage(BaseModel):
    items: list[SearchItem]
    total: int = Field(description="Exact number of games matching the text and the filters.")
    page: int
    size: int
    facets: Facets = Field(description="Counts over every match, not only this page.")


NO_FACETS = Facets(genres={}, platforms={})


class GameList(BaseModel):
    items: list[SearchItem]


Limit = Annotated[int, Query(ge=1, le=LIST_LIMIT, description="How many games, at most.")]
PriceFilter = Annotated[int | None, Query(ge=0, le=PRICE_MAX, description="In cents.")]


async def _items(catalog: Catalog, hits: list[SearchHit]) -> list[SearchItem]:
    """The hits as API items, each with its cover (uploads read from the catalog in one
    query; a game without one gets its artwork's URL)."""
    uploaded = await catalog.uploaded_covers([hit.id for hit in hits])
    return [_item(hit, uploaded.get(hit.id)) for hit in hits]


def _item(hit: SearchHit, uploaded: UploadedCover | None) -> SearchItem:
    cover = cover_public(hit.id, hit.title, hit.genres, uploaded)
    return SearchItem(
        id=hit.id, title=hit.title, genres=hit.genres, platforms=hit.platforms,
        price_cents=hit.price_cents, release_date=hit.release_date, score=hit.score,
        highlight=hit.highlight, cover=CoverPublic.model_validate(cover),
    )  # fmt: skip


QUERY_INVALID = define(422, "query_invalid", N_("The search query is not valid: %(reason)s."))


def _invalid(error: InvalidQuery) -> ProblemError:
    reason = translate(error.message, error.params)
    field = {"loc": ["query"], "code": QUERY_INVALID.code}
    field["msg"] = message(QUERY_INVALID.code, {"reason": reason})
    return ProblemError.of(QUERY_INVALID, errors=[field], reason=reason)


@router.get("/jogos/busca", response_model=SearchPage, tags=["search"])
async def search_games(
    search: SearchDep,
    q: Annotated[str, Query(max_length=MAX_TEXT_CHARS, description="Words to look for.")] = "",
    genre: Annotated[str | None, Query(max_length=MAX_FILTER_CHARS)] = None,
    platform: Annotated[str | None, Query(max_length=MAX_FILTER_CHARS)] = None,
    min_price: PriceFilter = None,
    max_price: PriceFilter = None,
    sort: Sort = "relevance",
    page: Annotated[int, Query(ge=1, le=MAX_RESULT_WINDOW // MAX_PAGE_SIZE)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> SearchPage:
    """Search the catalog: typo-tolerant ("witcer"), accent-insensitive ("pokemon"),
    prefix-aware ("witch"); filter by genre, platform and price; sort by relevance, price,
    release date or popularity. Facet counts cover every match. Every page of the first
    10,000 results is reachable (`page` ≤ 100); a price range whose minimum is above its
    maximum matches nothing."""
    if min_price is not None and max_price is not None and min_price > max_price:
        return SearchPage(items=[], total=0, page=page, size=size, facets=NO_FACETS)
    query = SearchQuery(q, genre, platform, min_price, max_price, sort, page, size)
    try:
        with SEARCH_QUERY_DURATION.time():
            result = await search.index.search(query)
    except InvalidQuery as error:
        raise _invalid(error) from error
    facets = Facets(
        genres=result.facets.get("genres", {}), platforms=result.facets.get("platforms", {})
    )
    items = await _items(search.catalog, result.items)
    return SearchPage(
        items=items, total=result.total, page=result.page, size=result.size, facets=facets
    )


@router.get("/jogos/populares", response_model=GameList, tags=["search"])
async def popular_games(search: SearchDep, limit: Limit = 10) -> GameList:
    """The most purchased games, most first (counted from completed purchases)."""
    return GameList(items=await _items(search.catalog, await search.index.popular(limit)))


@router.get("/jogos/recomendados", response_model=GameList, tags=["search"])
async def recommended_games(
    principal: CurrentUser, search: SearchDep, limit: Limit = 10
) -> GameList:
    """Games like the ones the caller owns (sharing genres or tags, best overlap first),
    none of them already owned. A caller who owns nothing listed yet gets the most popular
    games instead (an empty list while nothing has been bought)."""
    owned = {item.game_id for item in await search.libraries.of(principal.user_id)}
    genres, tags = await _profile(search.catalog, owned)
    if genres or tags:
        hits = await search.index.similar(genres, tags, owned, limit)
    else:
        hits = await search.index.popular(min(LIST_LIMIT, limit + len(owned)))
    return GameList(
        items=await _items(search.catalog, [hit for hit in hits if hit.id not in owned][:limit])
    )


async def _profile(catalog: Catalog, owned: set[str]) -> tuple[list[str], list[str]]:
    """The genres and tags of the caller's listed games, most frequent first."""
    genres: dict[str, int] = {}
    tags: dict[str, int] = {}
    for game_id in sorted(owned):
        try:
            game = await catalog.get(game_id)
        except GameNotFound:
            continue  # delisted: no longer a guide to what is on sale
        for genre in game.fields.genres:
            genres[genre] = genres.get(genre, 0) + 1
        for tag in game.fields.tags:
            tags[tag] = tags.get(tag, 0) + 1
    return _by_count(genres), _by_count(tags)


def _by_count(counts: dict[str, int]) -> list[str]:
    return sorted(counts, key=lambda label: (-counts[label], label))
