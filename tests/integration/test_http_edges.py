"""What every service's HTTP layer does at its edges, on a real uvicorn: a request it cannot
parse, an error no handler took, and a request path full of control characters — each answered
as problem+json with a request id, each logged on one line under that id."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from gamestore.platform.http import create_app
from gamestore.platform.logs import configure
from tests.integration.serving import serving

CONTROL = "\r\x1b[2J\x07\x00\u202e\u2028\x85"


def _app() -> FastAPI:
    app = create_app("edges")

    @app.get("/ok")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    return app


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    log_file = configure("edges", tmp_path / "logs", stderr=False)
    try:
        async with serving(_app()) as url:
            yield url, log_file
    finally:
        for handler in logging.getLogger("gamestore").handlers:
            handler.flush()


async def _raw(url: str, head: bytes) -> tuple[bytes, bytes]:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head_part, _, body = data.partition(b"\r\n\r\n")
    return head_part, body


def _lines(log_file: Path) -> list[str]:
    for handler in logging.getLogger("gamestore").handlers:
        handler.flush()
    return log_file.read_text(encoding="utf-8").splitlines()


async def test_an_unreadable_request_is_a_problem_with_a_request_id(
    served: tuple[str, Path],
) -> None:
    url, log_file = served
    head, body = await _raw(
        url, b"GET /ok?q=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\nX-Request-ID: big-1\r\n\r\n"
    )
    assert head.startswith(b"HTTP/1.1 414"), head  # a URL over 16 KiB
    assert b"content-type: application/problem+json" in head
    assert b"x-request-id: " in head
    assert b'"status": 414' in body
    request_id = head.split(b"x-request-id: ")[1].split(b"\r\n")[0].decode()
    assert any(f"corr={request_id} unreadable request refused" in line for line in _lines(log_file))


async def test_an_unexpected_error_is_logged_under_the_request_id(
    served: tuple[str, Path],
) -> None:
    url, log_file = served
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/boom", headers={"X-Request-ID": "corr-boom-7"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "corr-boom-7"
    assert "kaboom" not in response.text  # details go to the log only
    [line] = [line for line in _lines(log_file) if "unhandled error" in line]
    assert "corr=corr-boom-7" in line and "RuntimeError: kaboom" in line


async def test_control_characters_in_a_path_cannot_forge_log_lines(
    served: tuple[str, Path],
) -> None:
    url, log_file = served
    forged = CONTROL + "\n2026-01-01 FAKE"
    path = "/nope" + "".join(f"%{b:02X}" for b in forged.encode("utf-8"))
    head, _ = await _raw(url, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert head.startswith(b"HTTP/1.1 404"), head
    text = log_file.read_text(encoding="utf-8")
    [line] = [line for line in _lines(log_file) if "path=" in line and "/nope" in line]
    for char in (c for c in CONTROL if not c.isprintable()):
        assert char not in text, repr(char)
    assert "\\r\\x1b[2J\\x07\\x00\\u202e\\u2028\\x85\\n2026-01-01 FAKE" in line
    assert not any(other.startswith("2026-01-01 FAKE") for other in _lines(log_file))
