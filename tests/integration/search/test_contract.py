"""The search port's contract, run against every adapter."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gamestore.search.index import InvalidQuery, SearchIndex, SearchQuery, SearchResult
from tests.integration.search.catalog import CATALOG, truth

BY_ID = {d.id: d for d in CATALOG}


def ids(result: SearchResult) -> list[str]:
    return [hit.id for hit in result.items]


async def test_typo_finds_the_witcher(catalog: SearchIndex) -> None:
    result = await catalog.search(SearchQuery("witcer"))
    assert ids(result)[:1] == ["g01"]


async def test_accents_fold_both_ways(catalog: SearchIndex) -> None:
    plain = await catalog.search(SearchQuery("pokemon"))
    accented = await catalog.search(SearchQuery("POKÉMON"))
    assert set(ids(plain)) == set(ids(accented)) == {"g02", "g09"}
    assert plain.total == 2


async def test_prefix_finds_whole_words(catalog: SearchIndex) -> None:
    result = await catalog.search(SearchQuery("witch"))
    assert ids(result)[:1] == ["g01"]
    assert ids(await catalog.search(SearchQuery("stard"))) == ["g04"]


async def test_relevance_ranks_title_matches_first(catalog: SearchIndex) -> None:
    result = await catalog.search(SearchQuery("hollow knight"))
    assert ids(result)[0] == "g08"
    assert result.items[0].score > 0
    scores = [hit.score for hit in result.items]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        (SearchQuery(), lambda d: True),
        (SearchQuery(genre="rpg"), lambda d: "RPG" in d.genres),
        (SearchQuery(platform="Switch"), lambda d: "Switch" in d.platforms),
        (SearchQuery(min_price=5000, max_price=25000), lambda d: 5000 <= d.price_cents <= 25000),
        (SearchQuery(min_price=24990), lambda d: d.price_cents >= 24990),
        (SearchQuery(max_price=2799), lambda d: d.price_cents <= 2799),
        (
            SearchQuery(genre="Action", platform="PC", max_price=20000),
            lambda d: "Action" in d.genres and "PC" in d.platforms and d.price_cents <= 20000,
        ),
        (SearchQuery("pokemon", genre="Action"), lambda d: d.id == "g09"),
        (SearchQuery(genre="Nope"), lambda d: False),
        (SearchQuery(genre="' OR 1=1 --"), lambda d: False),
        (SearchQuery(platform="*"), lambda d: False),
        (
            SearchQuery(genre="rpg", platform="switch"),
            lambda d: "RPG" in d.genres and "Switch" in d.platforms,
        ),
    ],
)
async def test_filters_and_facets_equal_the_truth(
    catalog: SearchIndex, query: SearchQuery, keep: object
) -> None:
    expected_ids, expected_facets = truth(keep)  # type: ignore[arg-type]
    result = await catalog.search(replace(query, size=100))
    assert set(ids(result)) == expected_ids
    assert result.total == len(expected_ids)
    assert result.facets == expected_facets


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("price_asc", lambda d: d.price_cents),
        ("price_desc", lambda d: -d.price_cents),
        ("release_desc", lambda d: -d.release_date.toordinal()),
    ],
)
async def test_each_sort_order(catalog: SearchIndex, sort: str, key: object) -> None:
    result = await catalog.search(SearchQuery(sort=sort, size=100))  # type: ignore[arg-type]
    got = [key(BY_ID[i]) for i in ids(result)]  # type: ignore[operator]
    assert got == sorted(got) and len(got) == len(CATALOG)


async def test_sort_applies_to_the_matches_only(catalog: SearchIndex) -> None:
    result = await catalog.search(SearchQuery("pokemon", sort="release_desc"))
    assert ids(result) == ["g02", "g09"]


async def test_pagination_has_an_exact_total_and_no_overlap(catalog: SearchIndex) -> None:
    pages = [await catalog.search(SearchQuery(sort="price_asc", page=p, size=5)) for p in (1, 2, 3)]
    assert [p.total for p in pages] == [len(CATALOG)] * 3
    assert [len(p.items) for p in pages] == [5, 5, 2]
    seen = [i for p in pages for i in ids(p)]
    assert sorted(seen) == sorted(BY_ID)
    beyond = await catalog.search(SearchQuery(page=4, size=5))
    assert beyond.items == [] and beyond.total == len(CATALOG)


async def test_highlights_mark_the_match_as_safe_html(catalog: SearchIndex) -> None:
    await catalog.upsert(replace(BY_ID["g07"], title="Celeste <b>&</b>", version=2))
    by_title = (await catalog.search(SearchQuery("witcer"))).items[0]
    assert by_title.highlight is not None and "<em>Witcher</em>" in by_title.highlight
    by_text = (await catalog.search(SearchQuery("monsters"))).items[0]
    assert by_text.id == "g01" and "<em>monsters</em>" in (by_text.highlight or "")
    escaped = (await catalog.search(SearchQuery("celeste"))).items[0]
    assert escaped.highlight == "<em>Celeste</em> &lt;b&gt;&amp;&lt;/b&gt;"
    assert (await catalog.search(SearchQuery(sort="price_asc"))).items[0].highlight is None


async def test_stale_upsert_is_ignored(catalog: SearchIndex) -> None:
    newer = replace(BY_ID["g05"], title="Hades II", version=3)
    assert await catalog.upsert(newer)
    assert not await catalog.upsert(replace(BY_ID["g05"], title="Hades Old", version=2))
    assert ids(await catalog.search(SearchQuery("hades"))) == ["g05"]
    hit = (await catalog.search(SearchQuery("hades"))).items[0]
    assert hit.title == "Hades II"
    assert (await catalog.search(SearchQuery("old"))).total == 0


async def test_duplicate_delivery_is_ignored(catalog: SearchIndex) -> None:
    assert not await catalog.upsert(BY_ID["g01"])
    assert await catalog.upsert_many([BY_ID["g01"], BY_ID["g02"]]) == 0
    assert (await catalog.search(SearchQuery())).total == len(CATALOG)
    assert await catalog.delete("g03", 2)
    assert not await catalog.delete("g03", 2)


async def test_update_replaces_the_old_text(catalog: SearchIndex) -> None:
    assert await catalog.upsert(
        replace(BY_ID["g10"], title="Empire Builder", description="Cities.", version=2)
    )
    assert "g10" in ids(await catalog.search(SearchQuery("builder")))
    assert (await catalog.search(SearchQuery("aoe", genre="Strategy"))).total == 0
    assert "g10" not in ids(await catalog.search(SearchQuery("ages")))


async def test_delete_then_stale_upsert_stays_deleted(catalog: SearchIndex) -> None:
    assert await catalog.delete("g03", 2)
    assert not await catalog.upsert(replace(BY_ID["g03"], version=2))
    assert not await catalog.upsert(BY_ID["g03"])
    result = await catalog.search(SearchQuery("doom", size=100))
    assert "g03" not in ids(result)
    everything = await catalog.search(SearchQuery(size=100))
    assert everything.total == len(CATALOG) - 1
    assert "Shooter" not in everything.facets["genres"]


async def test_delete_before_create_wins_over_the_late_create(search_index: SearchIndex) -> None:
    assert await search_index.delete("g01", 2)
    assert not await search_index.upsert(BY_ID["g01"])
    assert (await search_index.search(SearchQuery("witcher"))).total == 0


async def test_out_of_order_batch_keeps_the_newest(search_index: SearchIndex) -> None:
    v1, v3 = BY_ID["g04"], replace(BY_ID["g04"], title="Stardew Valley 2", version=3)
    assert await search_index.upsert_many([v3, v1]) == 1
    assert not await search_index.upsert(replace(v1, version=2))
    assert [h.title for h in (await search_index.search(SearchQuery("stardew"))).items] == [
        "Stardew Valley 2"
    ]


HOSTILE = ["' OR 1=1 --", "*", '"witch', "witch\"'(", "a" * 10_240, "\x00\x1b[2J\x07witcher",
           "", "   ", "title:doom AND", "🎮🎮", "NOT", "\\", "%_"]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:12]))
async def test_hostile_text_gives_a_result_or_a_validation_error(
    catalog: SearchIndex, text: str
) -> None:
    try:
        result = await catalog.search(SearchQuery(text))
    except InvalidQuery:
        return
    assert 0 <= result.total <= len(CATALOG) and len(result.items) <= result.total


async def test_control_characters_are_separators(catalog: SearchIndex) -> None:
    result = await catalog.search(SearchQuery("\x00witcher\x07"))
    assert ids(result)[:1] == ["g01"]


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery("a" * 10_240),
        SearchQuery(page=0),
        SearchQuery(size=0),
        SearchQuery(size=101),
        SearchQuery(page=10_000, size=100),
        SearchQuery(min_price=-1),
        SearchQuery(min_price=10, max_price=5),
        SearchQuery(sort="cheapest"),  # type: ignore[arg-type]
        SearchQuery(genre="x" * 101),
    ],
)
async def test_invalid_queries_are_validation_errors(
    catalog: SearchIndex, query: SearchQuery
) -> None:
    with pytest.raises(InvalidQuery):
        await catalog.search(query)


async def test_popularity_counts_and_orders(catalog: SearchIndex) -> None:
    assert await catalog.popular(5) == []
    for game_id, times in (("g06", 3), ("g02", 1), ("g11", 2)):
        for _ in range(times):
            await catalog.add_popularity(game_id)
    await catalog.add_popularity("g02", 5)
    assert [h.id for h in await catalog.popular(2)] == ["g02", "g06"]
    assert [h.id for h in await catalog.popular(10)] == ["g02", "g06", "g11"]
    by_sales = await catalog.search(SearchQuery(sort="popular", size=3))
    assert ids(by_sales) == ["g02", "g06", "g11"]


async def test_popularity_survives_updates_and_may_come_first(
    search_index: SearchIndex,
) -> None:
    await search_index.add_popularity("g01", 4)
    await search_index.upsert(BY_ID["g01"])
    await search_index.upsert(replace(BY_ID["g01"], title="The Witcher 3 GOTY", version=2))
    await search_index.upsert(BY_ID["g02"])
    await search_index.add_popularity("g02")
    assert [h.id for h in await search_index.popular(5)] == ["g01", "g02"]


async def test_many_games_counted_at_once_add_up_with_single_counts(catalog: SearchIndex) -> None:
    await catalog.add_popularity("g05")
    await catalog.add_popularity_many({"g05": 2, "g07": 4, "not-indexed-yet": 9})
    await catalog.add_popularity_many({})
    assert [h.id for h in await catalog.popular(2)] == ["g07", "g05"]
    await catalog.upsert(replace(BY_ID["g01"], id="not-indexed-yet", title="Late Arrival"))
    assert [h.id for h in await catalog.popular(1)] == ["not-indexed-yet"]


async def test_popular_leaves_out_deleted_games(catalog: SearchIndex) -> None:
    await catalog.add_popularity("g03", 9)
    await catalog.add_popularity("g04", 1)
    await catalog.delete("g03", 2)
    assert [h.id for h in await catalog.popular(5)] == ["g04"]


async def test_similar_shares_genres_or_tags_and_excludes(catalog: SearchIndex) -> None:
    owned = {"g01", "g11"}
    result = await catalog.similar(["RPG"], ["fantasy"], exclude=owned, limit=20)
    got = [h.id for h in result]
    assert owned.isdisjoint(got)
    expected = {d.id for d in CATALOG if ("RPG" in d.genres or "fantasy" in d.tags)} - owned
    assert set(got) == expected
    assert await catalog.similar([], [], exclude=set(), limit=5) == []
    assert len(await catalog.similar(["Action"], [], exclude=set(), limit=2)) == 2


async def test_portuguese_and_english_stems(catalog: SearchIndex) -> None:
    assert "g06" in ids(await catalog.search(SearchQuery("corrida")))
    assert "g05" in ids(await catalog.search(SearchQuery("escaping")))
