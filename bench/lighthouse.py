"""Lighthouse on the web app: performance, accessibility and best-practices scores of the
catalog (home), a game's page and a signed-in player's library.

Starts the whole store as real processes (``tests/e2e/stack.py``, the purchase saga included)
under a temporary directory, seeds the demo catalog (``gamestore seed``, 300 games by default),
makes a player who owns three games, then runs Lighthouse 12 (npm ``lighthouse``, installed by
``make`` with ``npm ci``) as a user flow in one headless tab of Debian's Chromium
(``CHROME_PATH``, default ``/usr/bin/chromium``): the catalog on a cold cache, the game's page,
then, after signing in through the page's form, the library (the session lives in the tab's
sessionStorage). Lighthouse's default mobile preset (a mid-range phone on a slow 4G, simulated
throttling) unless ``--preset desktop``.

    .venv/bin/python bench/lighthouse.py [--games 300] [--preset mobile|desktop] [--smoke]

Accessibility and best-practices are deterministic (the browser tests hold them at 90 or more);
performance depends on the machine's speed at the time, so it is judged here only. The last line
is JSON: every page's scores, the lowest score, and its ratio to the bar of 90 ("ratio", at
least 1 when every score meets it). ``--smoke``: 20 games, the catalog only, seconds.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if not p or not p.rstrip("/").endswith("/bench")]
sys.path.insert(0, str(ROOT))  # tests.e2e.stack starts the processes

import argparse
import json
import tempfile
import time
import uuid
from typing import Any

import httpx
from tests.browser.lighthouse import BAR, CATEGORIES, Page, Scores, audit, missing
from tests.e2e.api import PASSWORD, bearer, unique_email
from tests.e2e.stack import Stack, running_stack, seed_searchable

OWNED = ("Hades", "Celeste", "Stardew Valley")
TIMINGS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time")


def game_id(http: httpx.Client, title: str) -> str:
    return str(http.get("/jogos/busca", params={"q": title}).json()["items"][0]["id"])


def player(stack: Stack) -> tuple[str, str]:
    """A new player whose library holds ``OWNED`` (bought through the saga); email, password."""
    email = unique_email("lighthouse")
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as http:
        made = http.post("/users", json={"name": "Lia Farol", "email": email, "password": PASSWORD})
        made.raise_for_status()
        token = http.post("/login/auth", json={"email": email, "password": PASSWORD}).json()
        for title in OWNED:
            key = {**bearer(token["access_token"]), "Idempotency-Key": str(uuid.uuid4())}
            body = {"game_id": game_id(http, title), "payment_method": "pm_card_visa"}
            http.post("/jogos/compra", json=body, headers=key).raise_for_status()
        deadline = time.monotonic() + 60
        while len(
            http.get("/biblioteca", headers=bearer(token["access_token"])).json()["items"]
        ) < len(OWNED):
            if time.monotonic() > deadline:
                raise SystemExit("the purchases did not reach the library in 60 s")
            time.sleep(0.2)
    return email, PASSWORD


def pages(stack: Stack, smoke: bool) -> list[Page]:
    catalog = Page("catalog", "#/jogos", "/jogos")
    if smoke:
        return [catalog]
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as http:
        game = game_id(http, "The Witcher 3")
    return [
        catalog,
        Page("game", f"#/jogos/{game}", f"/jogos/{game}"),
        Page("library", "#/biblioteca", "/biblioteca", signed_in=True),
    ]


def report(results: list[Scores], preset: str) -> dict[str, Any]:
    width = max(len(r.name) for r in results)
    print(f"{'page':<{width}}  " + "  ".join(f"{c:>14}" for c in CATEGORIES) + f"   ({preset})")
    for row in results:
        print(f"{row.name:<{width}}  " + "  ".join(f"{row.scores[c]:>14}" for c in CATEGORIES))
        timings = ", ".join(f"{k} {v:.0f}" for k, v in row.metrics.items() if k in TIMINGS)
        print(f"{'':<{width}}    {timings} ms, CLS {row.metrics['cumulative-layout-shift']:.3f}")
        for cost in row.costs:
            what = f"{cost['category']}: {cost['id']} {cost['score']:.2f} {cost['value']}"
            print(f"{'':<{width}}    {what}")
    lowest = min(score for row in results for score in row.scores.values())
    return {
        "bench": "lighthouse",
        "ratio": round(lowest / BAR, 3),
        "bar": BAR,
        "lowest": lowest,
        "preset": preset,
        "pages": {row.name: row.scores for row in results},
        "metrics": {row.name: {k: round(v, 3) for k, v in row.metrics.items()} for row in results},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, default=300)
    parser.add_argument("--preset", choices=("mobile", "desktop"), default="mobile")
    parser.add_argument("--smoke", action="store_true", help="seconds: 20 games, one page")
    args = parser.parse_args()
    if args.smoke:
        args.games = 20
    why = missing()
    if why:
        raise SystemExit(why)
    with (
        tempfile.TemporaryDirectory(prefix="bench-lighthouse-") as tmp,
        running_stack(Path(tmp), saga=not args.smoke) as stack,
    ):
        seed_searchable(stack, args.games)
        account = None if args.smoke else player(stack)
        results = audit(stack.gateway_url, pages(stack, args.smoke), account, args.preset)
    print(json.dumps(report(results, args.preset)))


if __name__ == "__main__":
    main()
