"""The Elasticsearch index: explicit settings, mapping and queries.

Text is folded (lowercase + ASCII folding) like the embedded engine, with English and Portuguese
stemmed sub-fields and an edge n-gram sub-field for prefixes ("witch" → "Witcher"). Genres and
platforms are keywords (facets) with a folded sub-field (filters). Game documents and purchase
counters share the index (``kind``), so a rebuilt index carries both and swaps in one move.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict
from typing import Any

from gamestore.search.index import text
from gamestore.search.index.model import GameDocument, SearchQuery

GAME, COUNTER = "game", "counter"
SORTS: dict[str, list[Any]] = {
    "relevance": ["_score", {"id": "asc"}],
    "price_asc": [{"price_cents": "asc"}, {"id": "asc"}],
    "price_desc": [{"price_cents": "desc"}, {"id": "asc"}],
    "release_desc": [{"release_date": "desc"}, {"id": "asc"}],
    "popular": [{"popularity": "desc"}, {"id": "asc"}],
}
_FOLD = ["lowercase", "asciifolding"]
SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "refresh_interval": "200ms",
    "max_result_window": 10_000,
    "analysis": {
        "filter": {
            "prefix_grams": {"type": "edge_ngram", "min_gram": 2, "max_gram": 20},
            "stem_en": {"type": "stemmer", "language": "english"},
            "stem_pt": {"type": "stemmer", "language": "light_portuguese"},
        },
        "analyzer": {
            "folded": {"tokenizer": "standard", "filter": _FOLD},
            "folded_en": {"tokenizer": "standard", "filter": [*_FOLD, "stem_en"]},
            "folded_pt": {"tokenizer": "standard", "filter": [*_FOLD, "stem_pt"]},
            "folded_prefix": {"tokenizer": "standard", "filter": [*_FOLD, "prefix_grams"]},
        },
        "normalizer": {"folded_keyword": {"type": "custom", "filter": _FOLD}},
    },
}


def _text(*, stems: bool = True) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "prefix": {"type": "text", "analyzer": "folded_prefix", "search_analyzer": "folded"}
    }
    if stems:
        fields["en"] = {"type": "text", "analyzer": "folded_en"}
        fields["pt"] = {"type": "text", "analyzer": "folded_pt"}
    return {"type": "text", "analyzer": "folded", "fields": fields}


def _keyword() -> dict[str, Any]:
    folded = {"type": "keyword", "normalizer": "folded_keyword"}
    return {"type": "keyword", "fields": {"key": folded}}


MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "kind": {"type": "keyword"},
        "id": {"type": "keyword"},
        "deleted": {"type": "boolean"},
        "title": _text(),
        "description": _text(),
        "keywords": _text(stems=False),
        "genres": _keyword(),
        "platforms": _keyword(),
        "tags": {"type": "keyword", "normalizer": "folded_keyword"},
        "developer": {"type": "keyword", "copy_to": "keywords"},
        "publisher": {"type": "keyword", "copy_to": "keywords"},
        "price_cents": {"type": "integer"},
        "release_date": {"type": "date", "format": "strict_date"},
        "popularity": {"type": "long"},
        "count": {"type": "long"},
    },
}


def source(doc: GameDocument, popularity: int) -> dict[str, Any]:
    """The stored game document."""
    fields = asdict(doc)
    del fields["version"]
    fields.update(
        kind=GAME, deleted=False, release_date=doc.release_date.isoformat(),
        popularity=popularity, keywords=" \n ".join([*doc.genres, *doc.platforms, *doc.tags]),
    )  # fmt: skip
    return fields


def live_games() -> list[dict[str, Any]]:
    """Filters every read applies: game documents that are not tombstones."""
    return [{"term": {"kind": GAME}}, {"term": {"deleted": False}}]


def text_query(terms: list[str]) -> dict[str, Any]:
    """Any term matching exactly (BM25), by a stem, by prefix or within ``fuzziness: AUTO``."""
    if not terms:
        return {"match_all": {}}
    words = " ".join(terms)
    return {
        "bool": {
            "should": [
                {"multi_match": {
                    "query": words, "fields": ["title^3", "keywords^1.5", "description"],
                    "fuzziness": "AUTO", "max_expansions": 50,
                }},
                {"multi_match": {
                    "query": words, "boost": 0.5,
                    "fields": ["title.en", "title.pt", "description.en", "description.pt"],
                }},
                {"multi_match": {
                    "query": words, "boost": 0.5,
                    "fields": ["title.prefix^3", "keywords.prefix^1.5", "description.prefix"],
                }},
            ],
            "minimum_should_match": 1,
        }
    }  # fmt: skip


def search_body(query: SearchQuery, terms: list[str]) -> dict[str, Any]:
    """The query with filters inside it, so the facets count exactly what ``total`` counts."""
    filters = live_games()
    if query.genre:
        filters.append({"term": {"genres.key": text.fold_keyword(query.genre)}})
    if query.platform:
        filters.append({"term": {"platforms.key": text.fold_keyword(query.platform)}})
    if query.min_price is not None or query.max_price is not None:
        bounds = {"gte": query.min_price, "lte": query.max_price}
        filters.append(
            {"range": {"price_cents": {k: v for k, v in bounds.items() if v is not None}}}
        )
    aggs = {f: {"terms": {"field": f, "size": 10_000}} for f in ("genres", "platforms")}
    return {
        "query": {"bool": {"must": [text_query(terms)], "filter": filters}},
        "aggs": aggs, "sort": SORTS[query.sort], "track_total_hits": True,
        "from_": (query.page - 1) * query.size, "size": query.size,
    }  # fmt: skip


def similar_body(
    genres: Sequence[str], tags: Sequence[str], exclude: Collection[str], limit: int
) -> dict[str, Any] | None:
    """Games sharing a genre or tag, more purchased first among equals, none of ``exclude``."""
    likes = [{"term": {"genres.key": text.fold_keyword(g)}} for g in genres if g.strip()]
    likes += [{"term": {"tags": text.fold_keyword(t)}} for t in tags if t.strip()]
    if not likes:
        return None
    return {
        "query": {"bool": {
            "should": likes, "minimum_should_match": 1, "filter": live_games(),
            "must_not": [{"ids": {"values": list(exclude)}}],
        }},
        "sort": ["_score", {"popularity": "desc"}, {"id": "asc"}], "size": limit,
    }  # fmt: skip
