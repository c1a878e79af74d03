"""The search port's adapters, each as a fresh, empty index for one test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gamestore.search.index import SearchIndex
from gamestore.search.index.embedded import EmbeddedSearch
from tests.integration.search.catalog import CATALOG

SEARCH_URL = os.environ.get("GAMESTORE_SEARCH_URL", "")


@pytest.fixture(params=["embedded", "elasticsearch"])
async def search_index(
    request: pytest.FixtureRequest, tmp_path: Path, unique: str
) -> AsyncIterator[SearchIndex]:
    """Each adapter in turn, empty."""
    if request.param == "embedded":
        index: SearchIndex = await EmbeddedSearch.open(tmp_path / "search")
        yield index
        await index.close()
        return
    if not SEARCH_URL.startswith(("http://", "https://")):
        # Not a failure under GAMESTORE_REQUIRE_SERVICES=1: Elasticsearch is not one of the
        # engines this machine (or CI) runs.
        pytest.skip(
            "GAMESTORE_SEARCH_URL does not point at an Elasticsearch server; Elasticsearch is "
            "not one of the machine's engines, so this skips even with "
            "GAMESTORE_REQUIRE_SERVICES=1"
        )
    from gamestore.search.index.elastic import ElasticSearch

    elastic = await ElasticSearch.open(SEARCH_URL, alias=f"games-test-{unique}")
    try:
        yield elastic
    finally:
        await elastic.drop()
        await elastic.close()


@pytest.fixture
async def catalog(search_index: SearchIndex) -> SearchIndex:
    """The adapter holding the fixed catalog."""
    assert await search_index.upsert_many(CATALOG) == len(CATALOG)
    return search_index
