"""Gateway overhead: the same authenticated request straight to the users service and through
the gateway, with the same client at the same concurrency, in the same run.

Starts ``gamestore serve users`` and ``gamestore serve gateway`` as real processes (temporary
data and log directories, free ports), signs up one user, logs in, then fires ``GET /users/me``
with its access token. The load client is an aiohttp client in its own process (uvloop), so it
does not share an interpreter with either server. The gateway's rate limiter stays on, with
limits raised far above what the run can reach (its cost is measured, its 429s are not).

Also: logins per second through the gateway with the production argon2id parameters.

    .venv/bin/python bench/gateway.py [--concurrency 32] [--seconds 8] [--logins 24]
        [--upstream users|echo]

``--upstream echo`` replaces the users service by a trivial upstream (its own process, a key of
its own): then the ratio and the added latency are the gateway's own cost, not hidden behind a
slow service.

The last line is JSON: throughput of each path, their ratio, p50/p99 latencies, the gateway's
added p50 under load and unloaded (one request at a time), logins per second.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys

sys.path[:] = [p for p in sys.path if not p or not p.rstrip("/").endswith("/bench")]

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

PASSWORD = "Bench-pass-1!"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TELEMETRY = {
    "off": {"OTEL_SDK_DISABLED": "true"},
    "on": {},  # tracing on, no exporter: spans are not recorded but carry ids
    "export": {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},  # + the sink's endpoint
}


@contextmanager
def stack(
    root: Path, users_port: int, names: tuple[str, ...], extra: dict[str, str] | None = None
) -> Any:
    """The named processes (users, gateway); yields (users_url, gateway_url)."""
    gateway_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GAMESTORE_", "OTEL_"))} | (
        extra or {}
    )
    env |= {
        "GAMESTORE_DATA_DIR": str(root / "data"),
        "GAMESTORE_LOG_DIR": str(root / "logs"),
        "GAMESTORE_PORT": str(gateway_port),
        "GAMESTORE_USERS_URL": f"http://127.0.0.1:{users_port}",
        "GAMESTORE_GAMES_URL": f"http://127.0.0.1:{free_port()}",
        "GAMESTORE_PAYMENTS_URL": f"http://127.0.0.1:{free_port()}",
        "GAMESTORE_GATEWAY_OPS_URL": f"http://127.0.0.1:{free_port()}",
        "GAMESTORE_GATEWAY_CLIENT_RATE": "1e9",
        "GAMESTORE_GATEWAY_CLIENT_BURST": "1000000000",
        "GAMESTORE_GATEWAY_USER_RATE": "1e9",
        "GAMESTORE_GATEWAY_USER_BURST": "1000000000",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "gamestore", "serve", name],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in names
    ]
    try:
        yield f"http://127.0.0.1:{users_port}", f"http://127.0.0.1:{gateway_port}"
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(20)


async def wait_ready(gateway: str, users: str, deadline: float = 60.0) -> None:
    """Until the users service is ready and the gateway alive (the gateway's own readiness
    waits for every service of a whole store, which this bench does not start)."""
    end = time.monotonic() + deadline
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < end:
            if await _answers(session, f"{users}/readyz") and await _answers(
                session, f"{gateway}/healthz"
            ):
                return
            await asyncio.sleep(0.2)
    raise RuntimeError("the stack did not become ready")


async def _answers(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with session.get(url) as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def sign_up_and_log_in(gateway: str) -> str:
    async with aiohttp.ClientSession() as session:
        email = f"bench-{os.getpid()}@example.com"
        body = {"name": "Bench", "email": email, "password": PASSWORD}
        async with session.post(f"{gateway}/users", json=body) as response:
            assert response.status == 201, await response.text()
        login = {"email": email, "password": PASSWORD}
        async with session.post(f"{gateway}/login/auth", json=login) as response:
            assert response.status == 200, await response.text()
            return str((await response.json())["access_token"])


async def logins_per_second(gateway: str, count: int, concurrency: int = 2) -> float:
    email = f"bench-{os.getpid()}@example.com"
    login = {"email": email, "password": PASSWORD}
    async with aiohttp.ClientSession() as session:
        left = list(range(count))

        async def worker() -> None:
            while left:
                left.pop()
                async with session.post(f"{gateway}/login/auth", json=login) as response:
                    assert response.status == 200, await response.text()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - started)


def echo_upstream(port: int, jwks: dict[str, Any]) -> None:
    """Runs in its own process: a trivial service answering every path with a small JSON."""
    from gamestore.platform.http import serve

    me = json.dumps({"id": "u-1", "name": "Bench", "email": "b@example.com"}).encode()
    keys = json.dumps(jwks).encode()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = keys if scope["path"].endswith("jwks.json") else me
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def run() -> None:
        await serve(app, "127.0.0.1", port, asyncio.Event())

    import uvloop

    uvloop.run(run())


def echo_token() -> tuple[dict[str, Any], str]:
    """A signing key's JWKS and a token it signed (what the users service would issue)."""
    import uuid

    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from jwt.algorithms import OKPAlgorithm

    from gamestore.platform.auth import AUDIENCE, ISSUER

    key = Ed25519PrivateKey.generate()
    jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    now = int(time.time())
    claims = {"sub": "u-1", "role": "player", "iss": ISSUER, "aud": AUDIENCE, "iat": now}
    claims |= {"exp": now + 900, "jti": uuid.uuid4().hex}
    token = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "bench"})
    return {"keys": [{**jwk, "kid": "bench", "alg": "EdDSA"}]}, token


def load(url: str, token: str, concurrency: int, seconds: float) -> dict[str, Any]:
    """Runs in its own process: ``concurrency`` loops of GET ``url`` for ``seconds``."""
    import uvloop

    return uvloop.run(_load(url, token, concurrency, seconds))


async def _load(url: str, token: str, concurrency: int, seconds: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(until: float, record: bool) -> None:
            nonlocal failures
            while (now := time.perf_counter()) < until:
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                if record:
                    latencies.append(time.perf_counter() - now)

        warmup = time.perf_counter() + 1.0
        await asyncio.gather(*(worker(warmup, False) for _ in range(concurrency)))
        started = time.perf_counter()
        await asyncio.gather(*(worker(started + seconds, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "failures": failures,
    }


def measure(pool: Any, url: str, token: str, concurrency: int, seconds: float) -> dict[str, Any]:
    result: dict[str, Any] = pool.apply(load, (url, token, concurrency, seconds))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--logins", type=int, default=24)
    parser.add_argument(
        "--upstream",
        choices=["users", "echo"],
        default="users",
        help="users: the real service; echo: a trivial upstream (the gateway's own cost)",
    )
    parser.add_argument(
        "--telemetry",
        action="store_true",
        help="instead: the gateway path with tracing off, on without exporter, and exporting",
    )
    parser.add_argument("--rounds", type=int, default=3, help="--telemetry: rounds per mode")
    parser.add_argument("--smoke", action="store_true", help="a few seconds, every path once")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.logins, args.concurrency, args.rounds = 1.0, 2, 4, 1
    if args.telemetry:
        return telemetry(args)
    from gamestore.platform.config import Settings

    settings = Settings()
    argon2 = (
        f"argon2id t={settings.argon2_time_cost} m={settings.argon2_memory_cost_kib} KiB "
        f"p={settings.argon2_parallelism}"
    )
    context = multiprocessing.get_context("spawn")
    users_port = free_port()
    echo = None
    if args.upstream == "echo":
        jwks, token = echo_token()
        echo = context.Process(target=echo_upstream, args=(users_port, jwks), daemon=True)
        echo.start()
    names = ("gateway",) if echo else ("users", "gateway")
    try:
        with tempfile.TemporaryDirectory() as tmp, stack(Path(tmp), users_port, names) as urls:
            users, gateway = urls
            asyncio.run(wait_ready(gateway, users))
            if echo is None:
                token = asyncio.run(sign_up_and_log_in(gateway))
            with context.Pool(1) as pool:
                n, secs = args.concurrency, args.seconds
                direct = measure(pool, f"{users}/users/me", token, n, secs)
                through = measure(pool, f"{gateway}/users/me", token, n, secs)
                direct_1 = measure(pool, f"{users}/users/me", token, 1, secs / 2)
                through_1 = measure(pool, f"{gateway}/users/me", token, 1, secs / 2)
            logins = 0.0 if echo else asyncio.run(logins_per_second(gateway, args.logins))
    finally:
        if echo is not None:
            echo.terminate()
            echo.join()
    report(args, direct, through, direct_1, through_1, logins, argon2)


def sink() -> tuple[str, Any]:
    """An OTLP/HTTP endpoint that accepts and drops every export (a collector's cost is not
    ours); its URL and its server."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Drop(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Drop)
    Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def telemetry(args: Any) -> None:
    """The gateway path (users upstream) with tracing off, on, and exporting: three stacks up
    at once, measured in turn for ``--rounds`` rounds (the median of each), so drift in the
    machine's load hits all three alike; judged by on/off (bar: >= 0.95)."""
    context = multiprocessing.get_context("spawn")
    endpoint, server = sink()
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in TELEMETRY}
    try:
        with contextlib.ExitStack() as stacks, context.Pool(1) as pool:
            targets = {}
            for mode, env in TELEMETRY.items():
                export = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint} if mode == "export" else {}
                tmp = stacks.enter_context(tempfile.TemporaryDirectory())
                names = ("users", "gateway")
                users, gateway = stacks.enter_context(
                    stack(Path(tmp), free_port(), names, {**env, **export})
                )
                asyncio.run(wait_ready(gateway, users))
                targets[mode] = (f"{gateway}/users/me", asyncio.run(sign_up_and_log_in(gateway)))
            for _ in range(args.rounds):
                for mode, (url, token) in targets.items():
                    runs[mode].append(measure(pool, url, token, args.concurrency, args.seconds))
    finally:
        server.shutdown()
    results = {mode: _median(results) for mode, results in runs.items()}
    print(
        f"GET /users/me through the gateway, c={args.concurrency}, {args.seconds:g} s per run, "
        f"median of {args.rounds} interleaved rounds"
    )
    for mode, r in results.items():
        rps, p50, errors = r["rps"], r["p50_ms"], r["failures"]
        print(f"  tracing {mode:<7}{rps:>10.0f} req/s  p50 {p50:.2f} ms  errors {errors}")
    on, export = (results[m]["rps"] / results["off"]["rps"] for m in ("on", "export"))
    print(
        f"tracing on (no exporter) / off = {on:.3f} (bar: >= 0.95); exporting / off = {export:.3f}"
    )
    summary = {f"{mode}_rps": round(r["rps"]) for mode, r in results.items()}
    print(
        json.dumps(
            {
                "bench": "gateway-telemetry",
                "ratio": round(on, 3),
                **summary,
                "on_ratio": round(on, 3),
                "export_ratio": round(export, 3),
                "bar": 0.95,
            }
        )
    )


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda run: run["rps"])[len(runs) // 2]


def report(
    args: Any,
    direct: dict[str, Any],
    through: dict[str, Any],
    direct_1: dict[str, Any],
    through_1: dict[str, Any],
    logins: float,
    argon2: str,
) -> None:
    ratio = through["rps"] / direct["rps"]
    added_loaded = through["p50_ms"] - direct["p50_ms"]
    added_unloaded = through_1["p50_ms"] - direct_1["p50_ms"]
    print(
        f"GET /users/me ({args.upstream} upstream), one token, aiohttp client in its own "
        f"process, {os.cpu_count()} cores"
    )
    print(f"{'path':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, r in [
        (f"direct    c={args.concurrency}", direct),
        (f"gateway   c={args.concurrency}", through),
        ("direct    c=1", direct_1),
        ("gateway   c=1", through_1),
    ]:
        print(
            f"{name:<28}{r['rps']:>10.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['failures']:>8}"
        )
    print(f"throughput gateway/direct at c={args.concurrency}: {ratio:.2f} (target >= 0.6)")
    print(
        f"added p50 at c={args.concurrency}: {added_loaded:.2f} ms; unloaded (c=1): "
        f"{added_unloaded:.2f} ms (target <= 2 ms)"
    )
    print(f"logins/s through the gateway: {logins:.1f} ({argon2}, 2 concurrent)")
    summary = {
        "bench": "gateway",
        "ratio": round(ratio, 3),
        "bar": 0.6,
        "direct_rps": round(direct["rps"]),
        "gateway_rps": round(through["rps"]),
        "direct_p50_ms": round(direct["p50_ms"], 2),
        "gateway_p50_ms": round(through["p50_ms"], 2),
        "added_p50_ms_loaded": round(added_loaded, 2),
        "added_p50_ms_unloaded": round(added_unloaded, 2),
        "logins_per_s": round(logins, 1),
        "argon2": argon2,
        "concurrency": args.concurrency,
        "upstream": args.upstream,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
