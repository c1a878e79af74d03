"""The embedded engine's schema, documents and queries (tantivy).

Text fields use the folding analyzer (lowercase + ASCII folding) so "pokemon" finds "Pokémon";
English and Portuguese stemmed copies add recall. Genres and platforms are kept three times: raw
(stored, and a fast field), folded for filters, and as ``genres:<raw>`` / ``platforms:<raw>``
terms of one ``facets`` field, whose postings count every facet in one pass over the matches.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

import tantivy
from tantivy import Occur, Query

from gamestore.search.index import text
from gamestore.search.index.model import GameDocument, SearchHit, SearchQuery

TEXT_FIELDS = {"title": 3.0, "keywords": 1.5, "description": 1.0}
STEM_FIELDS = {"stems_en": text.STEM_EN, "stems_pt": text.STEM_PT}
TYPO_BOOST = 0.3
PREFIX_BOOST = 0.5
STEM_BOOST = 0.5
FACETS = "facets"


def build_schema() -> tantivy.Schema:
    """The index's fields."""
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("title", stored=True, tokenizer_name=text.FOLDED)
    sb.add_text_field("description", stored=True, tokenizer_name=text.FOLDED)
    sb.add_text_field("keywords", tokenizer_name=text.FOLDED)
    for name, analyzer in STEM_FIELDS.items():
        sb.add_text_field(name, tokenizer_name=analyzer)
    for facet in ("genres", "platforms"):
        sb.add_text_field(facet, stored=True, fast=True, tokenizer_name="raw")
    sb.add_text_field(FACETS, tokenizer_name="raw", index_option="basic")
    for key in ("genre_key", "platform_key", "tag_key"):
        sb.add_text_field(key, tokenizer_name=text.KEYWORD, index_option="basic")
    for number in ("price_cents", "release", "popularity", "version"):
        sb.add_integer_field(number, stored=True, indexed=True, fast=True)
    return sb.build()


def register_analyzers(index: tantivy.Index) -> None:
    """Analyzers live in memory only: register them on every opened index."""
    for name in (text.FOLDED, text.STEM_EN, text.STEM_PT, text.KEYWORD):
        index.register_tokenizer(name, text.analyzer(name))


def to_document(doc: GameDocument, popularity: int) -> tantivy.Document:
    """The engine's document for a game."""
    out = tantivy.Document()
    out.add_text("id", doc.id)
    out.add_text("title", doc.title)
    out.add_text("description", doc.description)
    keywords = [*doc.genres, *doc.platforms, *doc.tags, doc.developer, doc.publisher]
    out.add_text("keywords", " \n ".join(keywords))
    body = " \n ".join([doc.title, doc.description, *doc.tags])
    for name in STEM_FIELDS:
        out.add_text(name, body)
    for field, values in (("genres", doc.genres), ("platforms", doc.platforms)):
        for value in values:
            out.add_text(field, value)
            out.add_text(FACETS, facet_term(field, value))
    for field, values in (
        ("genre_key", doc.genres), ("platform_key", doc.platforms), ("tag_key", doc.tags)
    ):  # fmt: skip
        for value in values:
            out.add_text(field, value)
    out.add_integer("price_cents", doc.price_cents)
    out.add_integer("release", doc.release_date.toordinal())
    out.add_integer("popularity", popularity)
    out.add_integer("version", doc.version)
    return out


def facet_term(field: str, value: str) -> str:
    """The ``facets`` field's term for a genre or platform."""
    return f"{field}:{value}"


def to_hit(
    stored: dict[str, list[Any]], score: float, terms: list[str] | text.Matcher
) -> SearchHit:
    """A search hit from a stored document, highlighted against the query terms."""
    title = stored["title"][0]
    mark = None
    match = terms if isinstance(terms, text.Matcher) else text.Matcher(terms)
    if match.terms:
        mark = text.highlight(title, match) or text.highlight(stored["description"][0], match)
    return SearchHit(
        id=stored["id"][0], title=title, genres=list(stored.get("genres", [])),
        platforms=list(stored.get("platforms", [])), price_cents=stored["price_cents"][0],
        release_date=date.fromordinal(stored["release"][0]), score=float(score), highlight=mark,
    )  # fmt: skip


def text_query(schema: tantivy.Schema, terms: list[str], scored: bool = True) -> Query:
    """Any term matching exactly (BM25), by a stem, by prefix or within a typo distance.

    Unscored (``scored=False``, for counting the matches), the same documents are matched with
    fewer clauses: an exact match is also a prefix and a typo match, so its clause is left out
    wherever one of those is there.
    """
    if not terms:
        return Query.all_query()
    clauses = [(Occur.Should, _term_query(schema, term, scored)) for term in terms]
    return Query.boolean_query(clauses)


def _term_query(schema: tantivy.Schema, term: str, scored: bool) -> Query:
    parts: list[Query] = []
    distance = text.typo_distance(term)
    for field, boost in TEXT_FIELDS.items():
        if scored or not (distance or len(term) >= 2):
            parts.append(Query.boost_query(Query.term_query(schema, field, term), boost))
        if distance:
            fuzzy = Query.fuzzy_term_query(schema, field, term, distance, True, False)
            parts.append(Query.boost_query(fuzzy, TYPO_BOOST * boost))
        if len(term) >= 2:
            prefix = Query.fuzzy_term_query(schema, field, term, 0, True, True)
            parts.append(Query.boost_query(prefix, PREFIX_BOOST * boost))
    for field, analyzer in STEM_FIELDS.items():
        for stem in text.terms(term, analyzer):
            parts.append(Query.boost_query(Query.term_query(schema, field, stem), STEM_BOOST))
    return Query.boolean_query([(Occur.Should, part) for part in parts])


def search_query(
    schema: tantivy.Schema, query: SearchQuery, terms: list[str], scored: bool = True
) -> Query:
    """The text query restricted by the query's filters."""
    clauses = [(Occur.Must, text_query(schema, terms, scored))]
    if query.genre:
        clauses.append((Occur.Must, _keyword(schema, "genre_key", query.genre)))
    if query.platform:
        clauses.append((Occur.Must, _keyword(schema, "platform_key", query.platform)))
    if query.min_price is not None or query.max_price is not None:
        price = Query.range_query(
            schema, "price_cents", tantivy.FieldType.Integer, query.min_price, query.max_price
        )
        clauses.append((Occur.Must, price))
    return clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses)


def similar_query(
    schema: tantivy.Schema, genres: Sequence[str], tags: Sequence[str], exclude: Collection[str]
) -> Query | None:
    """Games sharing a genre or a tag, none of ``exclude``; None when nothing to match."""
    likes = [(Occur.Should, _keyword(schema, "genre_key", g)) for g in genres if g.strip()]
    likes += [(Occur.Should, _keyword(schema, "tag_key", t)) for t in tags if t.strip()]
    if not likes:
        return None
    clauses = [(Occur.Must, Query.boolean_query(likes))]
    if exclude:
        clauses.append((Occur.MustNot, Query.term_set_query(schema, "id", list(exclude))))
    return Query.boolean_query(clauses)


def _keyword(schema: tantivy.Schema, field: str, value: str) -> Query:
    return Query.term_query(schema, field, text.fold_keyword(value))
