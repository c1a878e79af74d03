"""Text handling shared by the adapters: folding, typo distance and highlighting.

The embedded engine indexes with the same analyzers used here for the query, so a query term
and an indexed term compare equal exactly when they fold to the same string.
"""

from __future__ import annotations

import html
from functools import cache

import tantivy

FOLDED = "folded"
STEM_EN = "stem_en"
STEM_PT = "stem_pt"
KEYWORD = "keyword_folded"
MAX_QUERY_TERMS = 16
FRAGMENT_CHARS = 160


@cache
def analyzer(name: str) -> tantivy.TextAnalyzer:
    """The named analyzer: words split on non-alphanumerics, lowercased, accents folded."""
    if name == KEYWORD:
        base = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw())
    else:
        base = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(
            tantivy.Filter.remove_long(64)
        )
    builder = base.filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold())
    if name == STEM_EN:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    elif name == STEM_PT:
        builder = builder.filter(tantivy.Filter.stemmer("portuguese"))
    return builder.build()


def terms(text: str, name: str = FOLDED) -> list[str]:
    """The distinct folded terms of ``text``, in order, at most :data:`MAX_QUERY_TERMS`."""
    seen: dict[str, None] = {}
    for term in analyzer(name).analyze(text):
        seen.setdefault(term, None)
    return list(seen)[:MAX_QUERY_TERMS]


def fold_keyword(value: str) -> str:
    """A genre or platform as compared by filters: case and accents ignored."""
    folded = analyzer(KEYWORD).analyze(value)
    return folded[0] if folded else ""


def typo_distance(term: str) -> int:
    """Edits allowed for ``term``, as Elasticsearch's ``fuzziness: AUTO`` (0, 1 or 2)."""
    if len(term) <= 2:
        return 0
    return 1 if len(term) <= 5 else 2


def matches(word: str, query_terms: list[str]) -> bool:
    """Whether an indexed ``word`` matches a query term exactly, by prefix or by a typo."""
    for term in query_terms:
        if word == term or (len(term) >= 2 and word.startswith(term)):
            return True
        if typo_distance(term) and _within(word, term, typo_distance(term)):
            return True
    return False


class Matcher:
    """:func:`matches` for one query, remembering each word's answer: the hits of a page
    repeat most of their words, and the typo check is the costly part."""

    def __init__(self, query_terms: list[str]) -> None:
        self.terms = query_terms
        self._seen: dict[str, bool] = {}

    def __call__(self, word: str) -> bool:
        hit = self._seen.get(word)
        if hit is None:
            hit = self._seen[word] = matches(word, self.terms)
        return hit


def highlight(text: str, query_terms: list[str] | Matcher) -> str | None:
    """``text`` HTML-escaped with matching words in ``<em>``, cut to a fragment; None if none."""
    match = query_terms if isinstance(query_terms, Matcher) else Matcher(query_terms)
    spans: list[tuple[int, int]] = []
    start, end = 0, len(text)
    for token in analyzer(FOLDED).pre_tokenize(text).tokens:
        if spans and token.char_offset_from >= end:
            break  # past the fragment: no later word can be marked
        if match(token.text):
            spans.append((token.char_offset_from, token.char_offset_to))
            if len(spans) == 1:
                start = max(0, spans[0][0] - FRAGMENT_CHARS // 4)
                end = min(len(text), start + FRAGMENT_CHARS)
    if not spans:
        return None
    out, cursor = [], start
    for begin, finish in spans:
        if begin < cursor or finish > end:
            continue
        out += [html.escape(text[cursor:begin]), "<em>", html.escape(text[begin:finish]), "</em>"]
        cursor = finish
    out.append(html.escape(text[cursor:end]))
    prefix, suffix = ("…" if start else ""), ("…" if end < len(text) else "")
    return prefix + "".join(out).strip() + suffix


def _within(a: str, b: str, limit: int) -> bool:
    """Damerau (adjacent transposition) edit distance of ``a`` and ``b`` is at most ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return False
    a, b = _strip_common_ends(a, b)
    if not a or not b:
        return max(len(a), len(b)) <= limit
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return False
        prev2, prev = prev, cur
    return prev[-1] <= limit


def _strip_common_ends(a: str, b: str) -> tuple[str, str]:
    """``a`` and ``b`` without their common prefix and suffix (which cost no edits)."""
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return a[head : len(a) - tail], b[head : len(b) - tail]
