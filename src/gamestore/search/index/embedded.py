"""The embedded search adapter: a tantivy index on local disk (docs/adr/007-search-engine.md).

Layout under the root directory: ``CURRENT`` names the live generation; each generation
``gen-<ns>/`` holds the tantivy ``index/`` and the ``versions.db`` version table. A rebuild writes
a new generation and swaps ``CURRENT`` atomically; readers notice on their next query.

Single-writer rule: only one process (the indexer, or ``gamestore reindex`` for a new generation)
writes a generation; tantivy's writer lock makes a second writer fail rather than corrupt it.
Every other process only reads, and picks up new commits (``meta.json`` changes) before a query.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import tantivy

from gamestore.platform.logs import get_logger
from gamestore.search.index import tantivy_schema as ts
from gamestore.search.index.model import (
    GameDocument,
    SearchHit,
    SearchIndex,
    SearchQuery,
    SearchResult,
)
from gamestore.search.index.reader import GenerationReader
from gamestore.search.index.versions import VersionTable

log = get_logger(__name__)
T = TypeVar("T")
WRITER_HEAP_BYTES = 64 * 1024 * 1024
# a rebuild commits once, at the swap: 100,000 games then fit in one segment, not two
REBUILD_HEAP_BYTES = 128 * 1024 * 1024


class EmbeddedSearch(SearchIndex):
    """Search over a tantivy index; writes are versioned through the version table."""

    def __init__(self, root: Path, generation: str | None = None) -> None:
        self._root = root
        self._reader = GenerationReader(root, generation)
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-writer")
        self._counts = ThreadPoolExecutor(max_workers=4, thread_name_prefix="search-facets")
        self._writer: tantivy.IndexWriter | None = None
        self._versions: VersionTable | None = None
        self._generation: str | None = None
        self._uncommitted = False
        self._closed = False

    @classmethod
    async def open(cls, root: Path) -> EmbeddedSearch:
        """Open (creating if needed) the index under ``root``."""
        index = cls(root)
        await asyncio.to_thread(index._reader.refresh)
        return index

    async def upsert(self, doc: GameDocument) -> bool:
        return await self.upsert_many([doc]) == 1

    async def upsert_many(self, docs: Sequence[GameDocument]) -> int:
        return await self._write(lambda: self._apply(list(docs)))

    async def delete(self, game_id: str, version: int) -> bool:
        return await self._write(lambda: self._delete(game_id, version))

    async def add_popularity(self, game_id: str, delta: int = 1) -> None:
        await self._write(lambda: self._count({game_id: delta}))

    async def add_popularity_many(self, deltas: Mapping[str, int]) -> None:
        await self._write(lambda: self._count(dict(deltas)))

    async def search(self, query: SearchQuery) -> SearchResult:
        return await asyncio.to_thread(self._search, query.validated())

    async def popular(self, limit: int) -> list[SearchHit]:
        return await asyncio.to_thread(self._reader.popular, _limit(limit))

    async def similar(
        self, genres: Sequence[str], tags: Sequence[str], exclude: Collection[str], limit: int
    ) -> list[SearchHit]:
        return await asyncio.to_thread(
            self._reader.similar, list(genres), list(tags), set(exclude), _limit(limit)
        )

    async def start_rebuild(self) -> EmbeddedSearch:
        name = f"gen-{time.time_ns()}"
        built = EmbeddedSearch(self._root, generation=name)
        await asyncio.to_thread(built._reader.refresh)
        return built

    async def finish_rebuild(self, built: SearchIndex) -> None:
        if not isinstance(built, EmbeddedSearch) or built._reader.pinned is None:
            raise ValueError("finish_rebuild takes an index from start_rebuild")
        name = built._reader.pinned
        await built.close()  # releases its writer lock for the live writer to take over
        await asyncio.to_thread(self._reader.swap_to, name)
        log.info("search index swapped", generation=built._reader.pinned)

    async def ping(self) -> None:
        """The index files are on local disk: it answers while it is open."""
        if self._closed:
            raise RuntimeError("the search index is closed")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._write(self._close_writer)
        self._writes.shutdown(wait=True)
        self._counts.shutdown(wait=True)

    def _search(self, query: SearchQuery) -> SearchResult:
        """The page here and the facet counts on another thread meanwhile (the engine releases
        the GIL); one hop from the event loop, which costs more than the smaller queries."""
        prepared = self._reader.prepare(query)
        facets: Future[dict[str, dict[str, int]]] | None = None
        with contextlib.suppress(RuntimeError):  # closed: counted here instead
            facets = self._counts.submit(self._reader.facets, prepared)
        items, total = self._reader.page(prepared, query)
        counts = facets.result() if facets else self._reader.facets(prepared)
        return SearchResult(items, total, query.page, query.size, counts)

    # -- writer side (runs on the single writer thread) --

    async def _write(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writes, fn)

    def _open_writer(self) -> tuple[tantivy.IndexWriter, VersionTable]:
        index, name = self._reader.writable()
        if name != self._generation:  # first write, or a rebuild swapped generations
            self._close_writer()
        if self._writer is None or self._versions is None:
            heap = WRITER_HEAP_BYTES if self._reader.pinned is None else REBUILD_HEAP_BYTES
            self._writer = index.writer(heap, 1)
            self._versions = VersionTable(self._reader.directory(name) / "versions.db")
            self._generation = name
        return self._writer, self._versions

    def _apply(self, docs: list[GameDocument]) -> int:
        writer, versions = self._open_writer()
        latest: dict[str, GameDocument] = {}
        for doc in docs:
            if doc.id not in latest or doc.version > latest[doc.id].version:
                latest[doc.id] = doc
        fresh = [d for d in latest.values() if versions.newer(d.id, d.version)]
        if not fresh:
            return 0
        for doc in fresh:
            writer.delete_documents_by_term("id", doc.id)
            writer.add_document(ts.to_document(doc, versions.popularity(doc.id)))
        self._commit(writer)
        versions.record_many(fresh)  # after the index commit: a crash between replays safely
        return len(fresh)

    def _delete(self, game_id: str, version: int) -> bool:
        writer, versions = self._open_writer()
        if not versions.newer(game_id, version):
            return False
        writer.delete_documents_by_term("id", game_id)
        self._commit(writer)
        versions.record_delete(game_id, version)
        return True

    def _count(self, deltas: dict[str, int]) -> None:
        """Add purchases to each game's count; re-index the indexed ones in ONE commit."""
        writer, versions = self._open_writer()
        changed = False
        for game_id, delta in deltas.items():
            popularity = versions.add_popularity(game_id, delta)
            doc = versions.document(game_id)
            if doc is not None:
                writer.delete_documents_by_term("id", game_id)
                writer.add_document(ts.to_document(doc, popularity))
                changed = True
        if changed:
            self._commit(writer)

    def _commit(self, writer: tantivy.IndexWriter) -> None:
        """Make the writes searchable; a rebuild's wait for the swap (:meth:`finish_rebuild`).

        A rebuild's generation is read by nobody before the swap, and abandoned if this process
        stops first; committing once makes its segments few and large, so queries on it are
        faster than after a commit per batch (merges leave several segments).
        """
        if self._reader.pinned is not None:
            self._uncommitted = True
            return
        writer.commit()
        self._reader.reload()  # this process reads its own write at once

    def _close_writer(self) -> None:
        if self._writer is not None:
            if self._uncommitted:
                self._writer.commit()
                self._uncommitted = False
            self._writer.wait_merging_threads()
            self._writer = None
        if self._versions is not None:
            self._versions.close()
            self._versions = None
        self._generation = None


def _limit(limit: int) -> int:
    if not 1 <= limit <= 100:
        raise ValueError("limit must be between 1 and 100")
    return limit


def default_root(data_dir: Path) -> Path:
    """Where the embedded index lives by default."""
    return Path(os.fspath(data_dir)) / "search"
