"""Game search: the port (:mod:`.model`) and its adapters, chosen by URL.

``None`` or ``"embedded"`` (or a filesystem path) → the embedded tantivy index under
``<data_dir>/search``; ``http(s)://…`` → Elasticsearch.
"""

from __future__ import annotations

from pathlib import Path

from gamestore.search.index.model import (
    GameDocument,
    InvalidQuery,
    SearchHit,
    SearchIndex,
    SearchQuery,
    SearchResult,
)

__all__ = [
    "GameDocument",
    "InvalidQuery",
    "SearchHit",
    "SearchIndex",
    "SearchQuery",
    "SearchResult",
    "open_search",
]


async def open_search(url_or_path: str | Path | None, data_dir: Path = Path("data")) -> SearchIndex:
    """Open the search index the URL names; nothing is touched before this call."""
    target = str(url_or_path) if url_or_path is not None else "embedded"
    if target.startswith(("http://", "https://")):
        from gamestore.search.index.elastic import ElasticSearch

        return await ElasticSearch.open(target)
    from gamestore.search.index.embedded import EmbeddedSearch, default_root

    root = default_root(data_dir) if target == "embedded" else Path(target)
    return await EmbeddedSearch.open(root)
