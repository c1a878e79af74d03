"""Lighthouse's accessibility and best-practices scores, at least 90 on the catalog, a game's
page and a signed-in player's library. Both are deterministic (audits of the page as drawn,
not timings); performance depends on the machine's speed, so ``bench/lighthouse.py`` judges it.

Without Node, ``node_modules`` (``make`` runs ``npm ci``) or Chromium the test is skipped with
the reason, and fails under ``GAMESTORE_REQUIRE_SERVICES=1``."""

from __future__ import annotations

import pytest

from tests.browser import lighthouse
from tests.browser.conftest import Shopper, _unavailable, game_id
from tests.e2e.api import PASSWORD
from tests.e2e.stack import Stack

JUDGED = ("accessibility", "best-practices")


@pytest.fixture(scope="module")
def runnable() -> None:
    why = lighthouse.missing()
    if why:
        _unavailable(why)


def test_accessibility_and_best_practices_score_at_least_90(
    runnable: None, web_stack: Stack, shopper: Shopper
) -> None:
    game = game_id(web_stack, "The Witcher 3")
    pages = [
        lighthouse.Page("catalog", "#/jogos", "/jogos"),
        lighthouse.Page("game", f"#/jogos/{game}", f"/jogos/{game}"),
        lighthouse.Page("library", "#/biblioteca", "/biblioteca", signed_in=True),
    ]
    results = lighthouse.audit(web_stack.gateway_url, pages, (shopper.email, PASSWORD))
    assert [row.name for row in results] == ["catalog", "game", "library"]
    low = {
        (row.name, category): (
            row.scores[category],
            [c for c in row.costs if c["category"] == category],
        )
        for row in results
        for category in JUDGED
        if row.scores[category] < lighthouse.BAR
    }
    assert not low, low
