"""The embedded adapter's own guarantees: other processes, restarts, rebuilds, one writer."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import tantivy

from gamestore.search.index import SearchQuery, open_search, text
from gamestore.search.index.embedded import EmbeddedSearch
from tests.integration.search.catalog import CATALOG, truth

WRITER = """
import asyncio, sys
from dataclasses import replace
from gamestore.search.index.embedded import EmbeddedSearch
from tests.integration.search.catalog import CATALOG

async def main() -> None:
    index = await EmbeddedSearch.open(__import__("pathlib").Path(sys.argv[1]))
    await index.upsert(replace(CATALOG[0], title="Gwent Legends", version=int(sys.argv[2])))
    await index.close()

asyncio.run(main())
"""


def write_from_another_process(root: Path, version: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WRITER, str(root), str(version)],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[3],
    )  # fmt: skip


async def titles(index: EmbeddedSearch, text: str) -> list[str]:
    return [h.title for h in (await index.search(SearchQuery(text))).items]


async def test_a_reader_sees_another_process_commit(tmp_path: Path) -> None:
    root = tmp_path / "search"
    loader = await EmbeddedSearch.open(root)
    await loader.upsert_many(CATALOG)
    await loader.close()  # the writer lock passes to the other process
    reader = await EmbeddedSearch.open(root)
    try:
        assert await titles(reader, "witcher") == ["The Witcher 3: Wild Hunt"]
        assert await titles(reader, "gwent") == []
        done = await asyncio.to_thread(write_from_another_process, root, 2)
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 5
        while True:  # polled: the reader notices the commit on its next query
            found = await titles(reader, "gwent")
            if found or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.01)
        assert found == ["Gwent Legends"]
        assert await titles(reader, "witcher") == []  # the old title no longer matches
    finally:
        await reader.close()


async def test_one_writer_at_a_time(tmp_path: Path) -> None:
    root = tmp_path / "search"
    writer = await EmbeddedSearch.open(root)
    try:
        await writer.upsert(CATALOG[1])
        done = await asyncio.to_thread(write_from_another_process, root, 2)
        assert done.returncode != 0  # the second writer is refused, not interleaved
        assert "lock" in done.stderr.lower()
        assert await titles(writer, "gwent") == []
    finally:
        await writer.close()


async def test_versions_and_documents_survive_a_restart(tmp_path: Path) -> None:
    first = await open_search(tmp_path / "search")
    await first.upsert_many(CATALOG)
    await first.delete("g03", 5)
    await first.close()
    again = await open_search(tmp_path / "search")
    try:
        assert (await again.search(SearchQuery())).total == len(CATALOG) - 1
        assert not await again.upsert(CATALOG[0])
        assert not await again.upsert(replace(CATALOG[2], version=4))
    finally:
        await again.close()


async def test_open_search_defaults_under_the_data_dir(tmp_path: Path) -> None:
    index = await open_search(None, data_dir=tmp_path)
    try:
        await index.upsert(CATALOG[0])
    finally:
        await index.close()
    assert (tmp_path / "search" / "CURRENT").is_file()


async def test_rebuild_answers_from_the_old_index_until_the_swap(tmp_path: Path) -> None:
    root = tmp_path / "search"
    live = await EmbeddedSearch.open(root)
    other_reader = await EmbeddedSearch.open(root)
    try:
        await live.upsert_many(CATALOG)
        built = await live.start_rebuild()
        await built.upsert_many([replace(d, title=d.title + " Remastered") for d in CATALOG[:3]])
        assert (await other_reader.search(SearchQuery())).total == len(CATALOG)
        assert await titles(other_reader, "remastered") == []
        await live.finish_rebuild(built)
        assert (await other_reader.search(SearchQuery())).total == 3
        assert len(await titles(other_reader, "remastered")) == 3
        # the live writer follows the swap: its next write lands in the new generation
        assert await live.upsert(replace(CATALOG[5], version=2))
        assert (await other_reader.search(SearchQuery())).total == 4
    finally:
        await live.close()
        await other_reader.close()


async def test_finish_rebuild_refuses_a_live_index(tmp_path: Path) -> None:
    live = await EmbeddedSearch.open(tmp_path / "search")
    try:
        with pytest.raises(ValueError):
            await live.finish_rebuild(live)
    finally:
        await live.close()


async def test_concurrent_queries_during_writes_all_answer(tmp_path: Path) -> None:
    index = await EmbeddedSearch.open(tmp_path / "search")
    try:
        await index.upsert_many(CATALOG)

        async def write() -> None:
            for version in range(2, 30):
                await index.upsert(replace(CATALOG[0], title=f"Witcher {version}", version=version))

        async def read() -> int:
            answered = 0
            for _ in range(60):
                result = await index.search(SearchQuery("witcher"))
                answered += result.total == 1
            return answered

        _, *answers = await asyncio.gather(write(), read(), read())
        assert answers == [60, 60]
    finally:
        await index.close()


async def test_a_second_rebuild_removes_generations_nobody_reads(tmp_path: Path) -> None:
    root = tmp_path / "search"
    live = await EmbeddedSearch.open(root)
    try:
        await live.upsert(CATALOG[0])
        for _ in range(3):
            built = await live.start_rebuild()
            await built.upsert_many(CATALOG)
            await live.finish_rebuild(built)
            await built.close()  # closing twice is harmless
        assert len(list(root.glob("gen-*"))) == 2  # the live one and the one it replaced
        assert (await live.search(SearchQuery())).total == len(CATALOG)
    finally:
        await live.close()


def schema_before_the_facets_field() -> tantivy.Schema:
    """The index schema as built before genres and platforms were also ``facets`` terms."""
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    for name in ("title", "description"):
        sb.add_text_field(name, stored=True, tokenizer_name=text.FOLDED)
    sb.add_text_field("keywords", tokenizer_name=text.FOLDED)
    sb.add_text_field("stems_en", tokenizer_name=text.STEM_EN)
    sb.add_text_field("stems_pt", tokenizer_name=text.STEM_PT)
    for facet in ("genres", "platforms"):
        sb.add_text_field(facet, stored=True, fast=True, tokenizer_name="raw")
    for key in ("genre_key", "platform_key", "tag_key"):
        sb.add_text_field(key, tokenizer_name=text.KEYWORD, index_option="basic")
    for number in ("price_cents", "release", "popularity", "version"):
        sb.add_integer_field(number, stored=True, indexed=True, fast=True)
    return sb.build()


async def test_an_index_from_before_the_facets_field_still_counts_facets(tmp_path: Path) -> None:
    root = tmp_path / "search"
    (root / "gen-1" / "index").mkdir(parents=True)
    (root / "CURRENT").write_text("gen-1")
    tantivy.Index(schema_before_the_facets_field(), str(root / "gen-1" / "index"))
    index = await EmbeddedSearch.open(root)
    try:
        await index.upsert_many(CATALOG)
        result = await index.search(SearchQuery(genre="RPG", size=100))
        expected_ids, expected_facets = truth(lambda d: "RPG" in d.genres)
        assert {hit.id for hit in result.items} == expected_ids
        assert result.facets == expected_facets
    finally:
        await index.close()
