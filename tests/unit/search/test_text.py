"""Folding, typo distance, highlighting and query validation: no engine involved."""

from __future__ import annotations

import pytest

from gamestore.search.index import InvalidQuery, SearchQuery, text
from gamestore.search.index import elastic_mapping as em


def test_terms_fold_case_and_accents() -> None:
    assert text.terms("Pokémon STRAßE Ça") == ["pokemon", "strasse", "ca"]
    assert text.terms("' OR 1=1 --") == ["or", "1"]
    assert text.terms("*") == []


def test_terms_are_capped() -> None:
    assert len(text.terms(" ".join(f"w{i}" for i in range(50)))) == text.MAX_QUERY_TERMS


@pytest.mark.parametrize(("term", "edits"), [("ab", 0), ("abc", 1), ("abcde", 1), ("abcdef", 2)])
def test_typo_distance_is_elasticsearch_auto(term: str, edits: int) -> None:
    assert text.typo_distance(term) == edits


@pytest.mark.parametrize(
    ("word", "term", "hit"),
    [
        ("witcher", "witcer", True),  # one deletion
        ("witcher", "wticher", True),  # one transposition
        ("witcher", "witch", True),  # prefix
        ("witcher", "wxtxxxr", False),  # four edits
        ("cat", "car", True),
        ("cat", "dog", False),
        ("a", "b", False),
    ],
)
def test_matches(word: str, term: str, hit: bool) -> None:
    assert text.matches(word, [term]) is hit


def _edits(a: str, b: str) -> int:
    """Damerau (adjacent transposition) distance, the textbook table."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def test_typo_check_agrees_with_the_edit_distance() -> None:
    words = "a ab ba abc acb abab baba witcher witcer wticher switch witch aventura adventure"
    words += " frozen broken xyzzy"
    for a in ["", *words.split()]:
        for b in ["", *words.split()]:
            for limit in (1, 2):
                assert text._within(a, b, limit) is (_edits(a, b) <= limit), (a, b, limit)


def test_a_matcher_shared_by_a_page_highlights_like_a_fresh_one() -> None:
    shared = text.Matcher(["witcer", "hunt"])
    for title in ["The Witcher 3", "Wild Hunt", "Witcher Witcher", "Nothing"]:
        assert text.highlight(title, shared) == text.highlight(title, ["witcer", "hunt"])


def test_highlight_escapes_and_marks() -> None:
    assert text.highlight("Tom & <Jerry>", ["jerry"]) == "Tom &amp; &lt;<em>Jerry</em>&gt;"
    assert text.highlight("nothing here", ["witcher"]) is None
    assert text.highlight("The Witcher 3", ["witcer"]) == "The <em>Witcher</em> 3"


def test_highlight_cuts_long_text_around_the_match() -> None:
    long = "filler " * 100 + "dragon " + "filler " * 100
    fragment = text.highlight(long, ["dragon"])
    assert fragment is not None and "<em>dragon</em>" in fragment
    assert fragment.startswith("…") and fragment.endswith("…")
    assert len(fragment) < text.FRAGMENT_CHARS + 30


def test_validated_blanks_control_characters() -> None:
    assert SearchQuery("\x00witcher\x1b", genre=" RPG\x07").validated() == SearchQuery(
        "witcher", genre="RPG"
    )


def test_validated_rejects_long_text() -> None:
    with pytest.raises(InvalidQuery):
        SearchQuery("x" * 513).validated()


def test_elastic_facets_count_within_the_filters() -> None:
    body = em.search_body(SearchQuery("witcher", genre="RPG", min_price=1), ["witcher"])
    assert "post_filter" not in body
    filters = body["query"]["bool"]["filter"]
    assert {"term": {"genres.key": "rpg"}} in filters
    assert {"range": {"price_cents": {"gte": 1}}} in filters
    assert body["track_total_hits"] is True
    fuzzy = body["query"]["bool"]["must"][0]["bool"]["should"][0]["multi_match"]
    assert fuzzy["fuzziness"] == "AUTO"


def test_elastic_without_terms_matches_everything() -> None:
    body = em.search_body(SearchQuery("*"), [])
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]
