"""What the instrumentation costs a request — the request histogram, the ops endpoints' check,
and tracing without an exporter (trace ids carried, nothing recorded) — measured against the
same app built without tracing and with the histogram a no-op, in one run.

The app is the one every service is built with (``create_app``: ops endpoints in front, request
ids, body limit, problem+json) serving a trivial route, called in-process over ASGI: no network,
no database, so the instruments' share is as large as it can get. A real request (a proxied
call through the gateway, a database transaction) takes far longer, and their share is smaller.

    python bench/observability.py            # 20,000 requests per variant, 5 rounds
    python bench/observability.py --smoke    # a second-long run (make test runs it)

The last line is JSON: requests/s of each variant and the ratio the bench is judged by
(instrumented / bare ≥ 0.95: the instruments cost at most 5 % of the cheapest request).
"""

# ruff: noqa: E402
from __future__ import annotations

import sys

# this directory holds scripts named like standard modules (queue.py): not importable as such
sys.path[:] = [p for p in sys.path if not p or not p.rstrip("/").endswith("/bench")]

import argparse
import asyncio
import json
import statistics
import time
from typing import Any
from unittest import mock

from fastapi import APIRouter

from gamestore.platform import tracing
from gamestore.platform.http import create_app
from gamestore.platform.http import middleware as http_middleware

router = APIRouter()


@router.get("/ping/{item}")
async def ping(item: str) -> dict[str, str]:
    return {"item": item}


class _NoOp:
    """A histogram child that records nothing (the bare variant)."""

    def observe(self, value: float) -> None:
        return None


_NO_OP = _NoOp()


async def _requests(app: Any, count: int) -> float:
    """Requests per second of ``count`` sequential GETs through the ASGI app."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/ping/42", "raw_path": b"/ping/42", "query_string": b"",
        "headers": [(b"host", b"bench")], "client": ("127.0.0.1", 1), "server": ("bench", 80),
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    began = time.perf_counter()
    for _ in range(count):
        await app(dict(scope), receive, send)
    return count / (time.perf_counter() - began)


async def measure(count: int, rounds: int) -> dict[str, float]:
    tracing.configure("bench")  # as a process does: ids on every request, no exporter
    app = create_app("bench", [router])
    with mock.patch.object(tracing, "propagation_only", lambda: False):
        bare_app = create_app("bench", [router])
    for warm in (app, bare_app):  # the middleware stacks are built lazily
        await _requests(warm, min(count, 500))
    instrumented, bare = [], []
    for _ in range(rounds):  # interleaved, so drift in the machine's speed hits both alike
        instrumented.append(await _requests(app, count))
        with mock.patch.object(http_middleware, "_timer", lambda scope, status: _NO_OP):
            bare.append(await _requests(bare_app, count))
    return {"instrumented": statistics.median(instrumented), "bare": statistics.median(bare)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="a second-long run")
    args = parser.parse_args()
    count, rounds = (500, 2) if args.smoke else (args.requests, args.rounds)
    result = asyncio.run(measure(count, rounds))
    ratio = result["instrumented"] / result["bare"]
    print(f"create_app, trivial route, {count} requests x {rounds} rounds (median):")
    print(f"  instrumented {result['instrumented']:,.0f} req/s, bare {result['bare']:,.0f} req/s")
    print(f"  instrumented / bare = {ratio:.3f} (bar: >= 0.95)")
    summary = {
        "bench": "observability",
        "requests_per_round": count,
        "rounds": rounds,
        "instrumented_rps": round(result["instrumented"], 1),
        "bare_rps": round(result["bare"], 1),
        "ratio": round(ratio, 3),
        "bar": 0.95,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
