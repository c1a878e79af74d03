"""The web app in real Chromium: bytes on first load, and time from the last keystroke to the
rendered search results.

Starts the real processes (``tests/e2e/stack.py``: users, games, indexer, gateway) under a
temporary directory, seeds the demo catalog (``gamestore seed``, 300 games by default), then
drives Debian's ``/usr/bin/chromium`` (headless) with Playwright:

1. First load: a fresh browser profile opens ``/`` (the catalog, with the "Populares" row and
   the first page of results). Every response is counted as transferred on the wire (the
   DevTools ``Network.loadingFinished`` ``encodedDataLength``: headers plus the compressed
   body), until the network is idle. Target: at most 250 KB (250,000 bytes). A repeat visit
   in the same profile is measured too (the assets are cached as immutable).
2. Search as you type: each query is typed into the search box like a person would (a key
   every 40 ms, the box cleared first); the page records, on its own clock, the last
   keystroke's ``input`` event and the frame in which that query's results were drawn. The
   difference includes the page's debounce, the request through the gateway and the drawing.
   Target: p95 at most 300 ms.

    .venv/bin/python bench/web.py [--games 300] [--rounds 2] [--key-delay-ms 40] [--smoke]

The last line is JSON: first-load bytes and their ratio to the ceiling, the search p50/p95 and
their ratio to the ceiling ("ratio" is the search one). ``--smoke``: 20 games, one round.
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
from typing import Any

from tests.e2e.stack import Stack, running_stack, seed_searchable

CHROMIUM = "/usr/bin/chromium"
FIRST_LOAD_CEILING = 250_000  # bytes
SEARCH_CEILING_MS = 300.0
QUERIES = [
    "witcer", "pokemon", "hades", "celest", "stardew", "holow knight", "elden rng", "dead cels",
    "disco elysium", "slay spire", "outer wilds", "ori blind", "portal", "baldurs gate",
    "forza", "street fighter", "terraria", "cuphead", "crimson", "empire", "abyss", "voyage",
    "citadel", "requiem", "clockwork", "legends", "shadows", "galaxy", "kingdom", "frozen",
    "quantum", "phantom", "neon", "harbor", "labirinth", "odysey",
]  # fmt: skip
# Runs in the page before its own scripts: the page's clock for keystrokes and results.
PROBE = """
window.__bench = { lastInput: 0, rendered: [] };
document.addEventListener('input', (e) => {
  if (e.target && e.target.id === 'busca') window.__bench.lastInput = performance.now();
}, true);
document.addEventListener('gs:results', (e) => {
  window.__bench.rendered.push({ q: e.detail.q, at: performance.now() });
});
"""


def seeded_stack(root: Path, games: int) -> Any:
    """The running stack, its catalog seeded and searchable."""
    manager = running_stack(root)
    stack: Stack = manager.__enter__()
    try:
        seed_searchable(stack, games)
    except RuntimeError as error:
        manager.__exit__(None, None, None)
        raise SystemExit(str(error)) from error
    return manager, stack


def load_bytes(context: Any, url: str) -> tuple[int, int, float]:
    """Bytes and responses that came over the network (a cached one counts 0) in one visit to
    ``url`` in ``context``, and the ms until the results and the first row show."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: list[int] = []
    cdp.on("Network.loadingFinished", lambda event: sizes.append(int(event["encodedDataLength"])))
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(
        "() => document.querySelector('#resultados')?.dataset.hash !== undefined"
        " && document.querySelector('.shelf ul li') !== null"
    )
    elapsed = (time.perf_counter() - started) * 1000
    page.wait_for_load_state("networkidle")
    cdp.detach()
    page.close()
    return sum(sizes), sum(1 for size in sizes if size > 0), elapsed


def first_load(browser: Any, url: str) -> dict[str, float]:
    context = browser.new_context()
    try:
        cold, requests, cold_ms = load_bytes(context, url)
        warm, warm_requests, warm_ms = load_bytes(context, url)
    finally:
        context.close()
    return {
        "first_load_bytes": cold, "first_load_requests": requests, "first_load_ms": cold_ms,
        "repeat_load_bytes": warm, "repeat_load_requests": warm_requests,
        "repeat_load_ms": warm_ms,
    }  # fmt: skip


def type_query(page: Any, query: str, delay_ms: int) -> float:
    """Types ``query`` into a cleared box; ms from the last keystroke to its drawn results."""
    page.evaluate("() => { window.__bench.rendered = []; }")
    box = page.locator("#busca")
    box.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(query, delay=delay_ms)
    page.wait_for_function(
        "q => window.__bench.rendered.some((r) => r.q === q)", arg=query, timeout=10_000
    )
    timing: float = page.evaluate(
        "q => window.__bench.rendered.find((r) => r.q === q).at - window.__bench.lastInput",
        query,
    )
    return timing


def search_latency(browser: Any, url: str, rounds: int, delay_ms: int) -> list[float]:
    context = browser.new_context()
    context.add_init_script(PROBE)
    page = context.new_page()
    try:
        page.goto(f"{url}#/jogos", wait_until="networkidle")
        page.wait_for_selector("#busca")
        return [type_query(page, q, delay_ms) for _ in range(rounds) for q in QUERIES]
    finally:
        context.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(load: dict[str, float], latencies: list[float]) -> dict[str, Any]:
    p50, p95 = percentile(latencies, 0.50), percentile(latencies, 0.95)
    rows = [
        ("first load, bytes transferred", f"{load['first_load_bytes']:,.0f} B in "
         f"{load['first_load_requests']:.0f} responses (ceiling {FIRST_LOAD_CEILING:,} B)"),
        ("first load, until results show", f"{load['first_load_ms']:.0f} ms"),
        ("repeat visit, bytes transferred", f"{load['repeat_load_bytes']:,.0f} B in "
         f"{load['repeat_load_requests']:.0f} responses"),
        ("keystroke → results, p50", f"{p50:.1f} ms over {len(latencies)} queries"),
        ("keystroke → results, p95", f"{p95:.1f} ms (ceiling {SEARCH_CEILING_MS:.0f} ms)"),
        ("keystroke → results, max", f"{max(latencies):.1f} ms"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return {
        "bench": "web",
        "ratio": round(p95 / SEARCH_CEILING_MS, 3),
        "bar": SEARCH_CEILING_MS,
        **{k: round(v, 1) for k, v in load.items()},
        "ratio_vs_ceiling": round(load["first_load_bytes"] / FIRST_LOAD_CEILING, 3),
        "search_p50_ms": round(p50, 1),
        "search_p95_ms": round(p95, 1),
        "search_ratio_vs_ceiling": round(p95 / SEARCH_CEILING_MS, 3),
        "queries": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2, help="passes over the query list")
    parser.add_argument("--key-delay-ms", type=int, default=40)
    parser.add_argument("--smoke", action="store_true", help="seconds: 20 games, one round")
    args = parser.parse_args()
    if args.smoke:
        args.games, args.rounds = 20, 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        manager, stack = seeded_stack(Path(tmp), args.games)
        try:
            with sync_playwright() as runner:
                browser = runner.chromium.launch(executable_path=CHROMIUM, headless=True)
                url = f"{stack.gateway_url}/"
                load = first_load(browser, url)
                latencies = search_latency(browser, url, args.rounds, args.key_delay_ms)
                browser.close()
        finally:
            manager.__exit__(None, None, None)
    print(json.dumps(report(load, latencies)))


if __name__ == "__main__":
    main()
