"""An error after the response has started, on a real uvicorn: Starlette's last resort and
uvicorn's own logger handle it outside the request's middleware, and its traceback is still
one line of the TXT log, once, under the request's id — nothing raw on stderr."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from gamestore.platform.http import create_app, serve
from gamestore.platform.http.middleware import RequestContextMiddleware
from gamestore.platform.logs import configure
from tests.ports import free_port


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    yield configure("tb", tmp_path / "logs", stderr=False)
    for handler in logging.getLogger("gamestore").handlers:
        handler.close()


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    port, stop = free_port(), asyncio.Event()
    task = asyncio.create_task(serve(app, "127.0.0.1", port, stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(250):
                try:
                    await client.get("/ready")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.02)
            yield client
    finally:
        stop.set()
        await task


def lines_of(path: Path) -> list[str]:
    for handler in logging.getLogger("gamestore").handlers:
        handler.flush()
    return path.read_text(encoding="utf-8").splitlines()


async def test_a_stream_that_fails_midway_is_logged_once_under_its_request_id(
    log_file: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    app = create_app("tb")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first chunk"
            raise RuntimeError("the stream broke\r\x1b[2J")

        return StreamingResponse(chunks())

    async with served(app) as client:
        with pytest.raises(httpx.RemoteProtocolError):  # the server closes mid-body
            await client.get("/stream", headers={"X-Request-ID": "corr-stream-1"})
    [line] = [line for line in lines_of(log_file) if "RuntimeError" in line]
    assert " ERROR tb corr=corr-stream-1 unhandled error method=GET path=/stream " in line
    assert "RuntimeError: the stream broke\\r\\x1b[2J" in line
    assert "Traceback" not in capfd.readouterr().err


async def test_uvicorns_own_traceback_is_a_line_under_the_request_id(
    log_file: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    async def bare(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if scope["path"] == "/fail":
            raise LookupError("no handler of ours saw this")
        await send({"type": "http.response.body", "body": b""})

    async with served(RequestContextMiddleware(bare)) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/fail", headers={"X-Request-ID": "corr-bare-2"})
    [line] = [line for line in lines_of(log_file) if "LookupError" in line]
    assert " ERROR tb corr=corr-bare-2 Exception in ASGI application error=" in line
    assert "Traceback" not in capfd.readouterr().err
