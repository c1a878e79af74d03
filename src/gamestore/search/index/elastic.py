"""The Elasticsearch search adapter (official async client), reads and writes through an alias.

Versioning is Elasticsearch's own: every game write uses ``version_type=external`` with the
game's stream version, so a stale or duplicate write is a 409 conflict, reported as ignored.
A delete indexes a versioned tombstone instead of removing the document, because real deletes
forget their version after ``index.gc_deletes`` (60 s) and a late stale upsert would revive it.
Purchase counters are separate documents updated by script; the game document's
``popularity`` is then re-indexed at the same version (``external_gte``).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

from elasticsearch import AsyncElasticsearch, BadRequestError, ConflictError, NotFoundError
from elasticsearch.helpers import async_bulk

from gamestore.platform.logs import get_logger
from gamestore.search.index import elastic_mapping as m
from gamestore.search.index import text
from gamestore.search.index.model import (
    FACET_FIELDS,
    GameDocument,
    SearchHit,
    SearchIndex,
    SearchQuery,
    SearchResult,
)

log = get_logger(__name__)
DEFAULT_ALIAS = "games"
REFRESH = "wait_for"  # a write returns once searchable: freshness is the refresh interval


class ElasticSearch(SearchIndex):
    """Search over an Elasticsearch alias (or, while rebuilding, one concrete index)."""

    def __init__(self, client: AsyncElasticsearch, alias: str, target: str) -> None:
        self._es, self._alias, self._target = client, alias, target

    @classmethod
    async def open(cls, url: str, alias: str = DEFAULT_ALIAS) -> ElasticSearch:
        """Connect and make sure ``alias`` points at an index with our mapping."""
        client = AsyncElasticsearch(url, request_timeout=10)
        if not await client.indices.exists_alias(name=alias):
            try:  # a fixed first name: of two processes starting together, one creates it
                await client.indices.create(
                    index=f"{alias}-initial", settings=m.SETTINGS, mappings=m.MAPPINGS,
                    aliases={alias: {}},
                )  # fmt: skip
            except BadRequestError as error:
                if "resource_already_exists_exception" not in str(error):
                    raise
        return cls(client, alias, alias)

    async def upsert(self, doc: GameDocument) -> bool:
        try:
            await self._es.index(
                index=self._target, id=doc.id, document=m.source(doc, await self._count(doc.id)),
                version=doc.version, version_type="external", refresh=REFRESH,
            )  # fmt: skip
        except ConflictError:
            return False
        await self._sync_popularity(doc.id)  # a purchase may have landed meanwhile
        return True

    async def upsert_many(self, docs: Sequence[GameDocument]) -> int:
        latest: dict[str, GameDocument] = {}
        for doc in docs:
            if doc.id not in latest or doc.version > latest[doc.id].version:
                latest[doc.id] = doc
        counts = await self._counts(list(latest))
        actions = [
            {"_op_type": "index", "_index": self._target, "_id": d.id, "version": d.version,
             "version_type": "external", "_source": m.source(d, counts.get(d.id, 0))}
            for d in latest.values()
        ]  # fmt: skip
        applied, errors = await async_bulk(
            self._es, actions, raise_on_error=False, refresh=REFRESH, chunk_size=1000
        )
        _raise_unless_conflicts(errors)
        return applied

    async def delete(self, game_id: str, version: int) -> bool:
        tombstone = {"kind": m.GAME, "id": game_id, "deleted": True}
        try:
            await self._es.index(
                index=self._target, id=game_id, document=tombstone, version=version,
                version_type="external", refresh=REFRESH,
            )  # fmt: skip
        except ConflictError:
            return False
        return True

    async def add_popularity(self, game_id: str, delta: int = 1) -> None:
        await self._es.update(
            index=self._target, id=_counter_id(game_id), retry_on_conflict=5,
            script={"source": "ctx._source.count += params.delta", "params": {"delta": delta}},
            upsert={"kind": m.COUNTER, "id": game_id, "count": delta},
        )  # fmt: skip
        await self._sync_popularity(game_id)

    async def add_popularity_many(self, deltas: Mapping[str, int]) -> None:
        for game_id, delta in deltas.items():
            await self.add_popularity(game_id, delta)

    async def search(self, query: SearchQuery) -> SearchResult:
        checked = query.validated()
        terms = text.terms(checked.text)
        body = m.search_body(checked, terms)
        found = await self._es.search(index=self._target, **body)
        items = [_hit(h, terms, checked.sort) for h in found["hits"]["hits"]]
        facets = {
            f: {b["key"]: int(b["doc_count"]) for b in found["aggregations"][f]["buckets"]}
            for f in FACET_FIELDS
        }
        total = int(found["hits"]["total"]["value"])
        return SearchResult(items, total, checked.page, checked.size, facets)

    async def popular(self, limit: int) -> list[SearchHit]:
        filters = [*m.live_games(), {"range": {"popularity": {"gte": 1}}}]
        found = await self._es.search(
            index=self._target, query={"bool": {"filter": filters}}, size=_limit(limit),
            sort=m.SORTS["popular"],
        )  # fmt: skip
        return [_hit(h, [], "popular") for h in found["hits"]["hits"]]

    async def similar(
        self, genres: Sequence[str], tags: Sequence[str], exclude: Collection[str], limit: int
    ) -> list[SearchHit]:
        body = m.similar_body(genres, tags, exclude, _limit(limit))
        if body is None:
            return []
        found = await self._es.search(index=self._target, **body)
        return [_hit(h, [], "relevance") for h in found["hits"]["hits"]]

    async def start_rebuild(self) -> ElasticSearch:
        name = await _create(self._es, self._alias)
        return ElasticSearch(self._es, self._alias, name)

    async def finish_rebuild(self, built: SearchIndex) -> None:
        if not isinstance(built, ElasticSearch) or built._target == built._alias:
            raise ValueError("finish_rebuild takes an index from start_rebuild")
        await self._es.indices.refresh(index=built._target)
        old = await self._concrete()
        actions: list[dict[str, Any]] = [
            {"remove": {"index": i, "alias": self._alias}} for i in old
        ]
        actions.append({"add": {"index": built._target, "alias": self._alias}})
        await self._es.indices.update_aliases(actions=actions)  # one atomic switch
        if old:
            await self._es.indices.delete(index=",".join(old))
        log.info("search index swapped", alias=self._alias, index=built._target)

    async def drop(self) -> None:
        """Delete the alias's indices (tests and teardown)."""
        names = await self._concrete()
        if names:
            await self._es.indices.delete(index=",".join(names))

    async def ping(self) -> None:
        await self._es.info()

    async def close(self) -> None:
        await self._es.close()

    async def _concrete(self) -> list[str]:
        try:
            return list(await self._es.indices.get_alias(name=self._alias))
        except NotFoundError:
            return []

    async def _count(self, game_id: str) -> int:
        return (await self._counts([game_id])).get(game_id, 0)

    async def _counts(self, game_ids: list[str]) -> dict[str, int]:
        if not game_ids:
            return {}
        found = await self._es.mget(index=self._target, ids=[_counter_id(i) for i in game_ids])
        return {d["_source"]["id"]: d["_source"]["count"] for d in found["docs"] if d.get("found")}

    async def _sync_popularity(self, game_id: str) -> None:
        """Copy the purchase counter into the game document, keeping its version."""
        for _ in range(5):
            try:
                current = await self._es.get(index=self._target, id=game_id)
            except NotFoundError:
                return
            count, doc = await self._count(game_id), current["_source"]
            if doc.get("deleted") or doc.get("popularity") == count:
                return
            try:
                await self._es.index(
                    index=self._target, id=game_id, document={**doc, "popularity": count},
                    version=current["_version"], version_type="external_gte", refresh=REFRESH,
                )  # fmt: skip
                return
            except ConflictError:
                continue  # a newer version landed: copy the count onto it


async def _create(client: AsyncElasticsearch, alias: str) -> str:
    name = f"{alias}-{time.time_ns()}"
    await client.indices.create(index=name, settings=m.SETTINGS, mappings=m.MAPPINGS)
    return name


def _counter_id(game_id: str) -> str:
    return f"{m.COUNTER}:{game_id}"


def _hit(raw: dict[str, Any], terms: list[str], sort: str) -> SearchHit:
    doc = raw["_source"]
    mark = None
    if terms:
        mark = text.highlight(doc["title"], terms) or text.highlight(doc["description"], terms)
    score = float(raw.get("_score") or 0.0) if sort == "relevance" else 0.0
    return SearchHit(
        id=doc["id"], title=doc["title"], genres=doc["genres"], platforms=doc["platforms"],
        price_cents=doc["price_cents"], release_date=date.fromisoformat(doc["release_date"]),
        score=score, highlight=mark,
    )  # fmt: skip


def _raise_unless_conflicts(errors: Any) -> None:
    real = [e for e in errors if next(iter(e.values())).get("status") != 409]
    if real:
        raise RuntimeError(f"bulk indexing failed for {len(real)} documents: {real[:3]}")


def _limit(limit: int) -> int:
    if not 1 <= limit <= 100:
        raise ValueError("limit must be between 1 and 100")
    return limit
