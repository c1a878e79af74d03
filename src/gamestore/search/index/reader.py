"""Reading the embedded index: which generation is live, and fresh searchers over it.

Before every query the reader checks ``CURRENT`` (a rebuild may have swapped generations) and the
index's ``meta.json`` (another process may have committed); both are a ``stat`` when unchanged.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

import tantivy
from tantivy import Order, Query

from gamestore.search.index import tantivy_schema as ts
from gamestore.search.index import text
from gamestore.search.index.model import FACET_FIELDS, SearchHit, SearchQuery

CURRENT = "CURRENT"
FACET_LIMIT = 10_000
SORT_FIELDS = {
    "price_asc": ("price_cents", Order.Asc),
    "price_desc": ("price_cents", Order.Desc),
    "release_desc": ("release", Order.Desc),
    "popular": ("popularity", Order.Desc),
}


class Prepared(NamedTuple):
    searcher: Any
    query: Query  # scored, for the page
    matches: Query  # the same documents, unscored: for the facet counts
    terms: list[str]


class GenerationReader:
    """The live generation's index (or a pinned one, while it is being built)."""

    def __init__(self, root: Path, pinned: str | None = None) -> None:
        self._root = root
        self.pinned = pinned
        self._lock = threading.Lock()
        self._name: str | None = None
        self._index: tantivy.Index | None = None
        self._meta_stamp: int = -1
        self._current_stamp: int = -1

    def refresh(self) -> tantivy.Index:
        """The index to query, reopened or reloaded if another process changed it."""
        with self._lock:
            name = self.pinned or self._live()
            if name != self._name or self._index is None:
                self._index, self._name = _open(self._root / name / "index"), name
                self._meta_stamp = -1
            stamp = _stamp(self._root / name / "index" / "meta.json")
            if stamp != self._meta_stamp:
                self._index.reload()
                self._meta_stamp = stamp
            return self._index

    def writable(self) -> tuple[tantivy.Index, str]:
        """The index a writer should write now, and its generation name."""
        index = self.refresh()
        assert self._name is not None
        return index, self._name

    def directory(self, name: str) -> Path:
        return self._root / name

    def reload(self) -> None:
        self.refresh()

    def swap_to(self, name: str) -> None:
        """Make ``name`` the live generation, atomically for every reader.

        Generations older than the one replaced are removed; the replaced one is kept, since
        another process may still be reading it or finishing a write to it.
        """
        replaced = self._current()
        tmp = self._root / f"{CURRENT}.{os.getpid()}.tmp"
        tmp.write_text(name)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self._root / CURRENT)
        for old in self._root.glob("gen-*"):
            if old.name not in (name, replaced) and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    def prepare(self, query: SearchQuery) -> Prepared:
        """A searcher on the freshest commit, and the engine query for ``query``."""
        index = self.refresh()
        terms = text.terms(query.text)
        scored = ts.search_query(index.schema, query, terms)
        unscored = ts.search_query(index.schema, query, terms, scored=False)
        return Prepared(index.searcher(), scored, unscored, terms)

    @staticmethod
    def page(prepared: Prepared, query: SearchQuery) -> tuple[list[SearchHit], int]:
        """The requested page of hits and the exact number of matches."""
        searcher, q, matches, terms = prepared
        offset = (query.page - 1) * query.size
        found: Any
        if query.sort in SORT_FIELDS:  # ordered by a field: the same matches, no scores needed
            field, order = SORT_FIELDS[query.sort]
            found = searcher.search(matches, query.size, True, field, offset, order)
        else:
            found = searcher.search(q, query.size, True, None, offset)
        match = text.Matcher(terms)  # shared by the page's hits: they repeat words
        items = [_hit(searcher, addr, key, match, query.sort) for key, addr in found.hits]
        return items, int(found.count)

    @staticmethod
    def facets(prepared: Prepared) -> dict[str, dict[str, int]]:
        """Genre and platform counts over every match (not just the page).

        One pass: the matches are collected once and each ``facets`` term's postings counted
        against them (deleted documents left out). The engine's terms aggregation, used for
        an index built before that field existed, reads a multi-valued column per match
        instead: several times slower once tens of thousands of games match.
        """
        searcher, _, matches, _ = prepared
        counts: dict[str, dict[str, int]] = {f: {} for f in FACET_FIELDS}
        try:
            found = searcher.terms_with_prefix(ts.FACETS, "", matches)
        except ValueError:  # an index from before the facets field: until it is rebuilt
            return _aggregated_facets(searcher, matches)
        for term, count in found:  # most frequent first
            field, _, value = term.partition(":")
            if field in counts and len(counts[field]) < FACET_LIMIT:
                counts[field][value] = count
        return counts

    def popular(self, limit: int) -> list[SearchHit]:
        index = self.refresh()
        bought = Query.range_query(index.schema, "popularity", tantivy.FieldType.Integer, 1, None)
        searcher = index.searcher()
        found = searcher.search(bought, limit, False, "popularity", 0, Order.Desc)
        return [_hit(searcher, addr, key, [], "popular") for key, addr in found.hits]

    def similar(
        self, genres: list[str], tags: list[str], exclude: set[str], limit: int
    ) -> list[SearchHit]:
        index = self.refresh()
        q = ts.similar_query(index.schema, genres, tags, exclude)
        if q is None:
            return []
        searcher = index.searcher()
        found = searcher.search(q, limit, False, weight_by_field="popularity")
        return [_hit(searcher, addr, score, [], "relevance") for score, addr in found.hits]

    def _live(self) -> str:
        """The live generation's name; ``CURRENT`` is read again only when it was replaced."""
        stamp = _stamp(self._root / CURRENT)
        if stamp != self._current_stamp or self._name is None:
            self._current_stamp = stamp
            return self._current()
        return self._name

    def _current(self) -> str:
        path = self._root / CURRENT
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            return _create_current(self._root)


def _hit(
    searcher: Any, addr: Any, key: Any, terms: list[str] | text.Matcher, sort: str
) -> SearchHit:
    score = float(key) if sort == "relevance" else 0.0
    return ts.to_hit(searcher.doc(addr).to_dict(), score, terms)


def _aggregated_facets(searcher: Any, matches: Query) -> dict[str, dict[str, int]]:
    spec = {f: {"terms": {"field": f, "size": FACET_LIMIT}} for f in FACET_FIELDS}
    result = searcher.aggregate(matches, spec)
    return {f: {b["key"]: int(b["doc_count"]) for b in result[f]["buckets"]} for f in FACET_FIELDS}


def _open(path: Path) -> tantivy.Index:
    path.mkdir(parents=True, exist_ok=True)
    if tantivy.Index.exists(str(path)):
        index = tantivy.Index.open(str(path))
    else:
        index = tantivy.Index(ts.build_schema(), str(path), True)
    ts.register_analyzers(index)
    index.config_reader("Manual")
    return index


def _create_current(root: Path) -> str:
    """Name a first generation; if another process raced us, theirs wins."""
    root.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.time_ns()}"
    tmp = root / f"{CURRENT}.{os.getpid()}.{name}.tmp"
    tmp.write_text(name)
    try:
        os.link(tmp, root / CURRENT)
    except FileExistsError:
        name = (root / CURRENT).read_text().strip()
    finally:
        tmp.unlink()
    return name


def _stamp(path: Path) -> int:
    try:
        st = path.stat()
    except FileNotFoundError:
        return 0
    return st.st_mtime_ns ^ st.st_size ^ st.st_ino
