"""What a client may make a server hold before the app sees its request, on a real uvicorn: a
URL over 16 KiB is 414, headers over 32 KiB together are 431 — problem+json with a request id,
answered even to a client still sending (the server reads and drops the rest before closing)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request

from gamestore.platform.http import create_app
from gamestore.platform.http.app import HEADERS_MAX, URL_MAX
from tests.integration.serving import serving


def _app() -> FastAPI:
    app = create_app("limits")

    @app.get("/ok")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    return app


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with serving(_app()) as address:
        yield address


async def _raw(url: str, request: bytes) -> tuple[str, dict[str, str], dict[str, object]]:
    """Status line, headers and problem body of the answer to ``request``, sent all at once."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    return status, headers, json.loads(body)


def _get(target: str, *headers: bytes) -> bytes:
    return b"GET " + target.encode() + b" HTTP/1.1\r\nHost: x\r\n" + b"".join(headers) + b"\r\n"


async def test_a_url_at_the_limit_is_served(url: str) -> None:
    target = "/ok?q=" + "a" * (URL_MAX - len("/ok?q="))
    status, _, body = await _raw(url, _get(target, b"Connection: close\r\n"))
    assert status == "HTTP/1.1 200 OK" and body == {"ok": True}


@pytest.mark.parametrize("size", [URL_MAX + 1, 100_000, 1_000_000])
async def test_a_longer_url_is_414(url: str, size: int) -> None:
    status, headers, problem = await _raw(url, _get("/ok?q=" + "a" * size))
    assert status == "HTTP/1.1 414 Request-URI Too Long"
    assert headers["content-type"] == "application/problem+json"
    assert headers["x-request-id"]  # a new one: the URL comes before any header
    assert problem["status"] == 414 and problem["title"] == "Request-URI Too Long"
    assert problem["code"] == "url_too_long"
    assert problem["detail"] == f"A URL tem mais de {URL_MAX} bytes."  # no header read: pt-BR


async def test_headers_at_the_limit_are_served(url: str) -> None:
    value = b"v" * (HEADERS_MAX - len("host") - len("x") - len("connection") - len("close") - 5)
    status, _, _ = await _raw(
        url, _get("/ok", b"Connection: close\r\n", b"X-Big: " + value + b"\r\n")
    )
    assert status == "HTTP/1.1 200 OK"


@pytest.mark.parametrize(
    "headers",
    [
        [b"X-Big: " + b"v" * (HEADERS_MAX + 1) + b"\r\n"],
        [b"X-Big: " + b"v" * 10_000_000 + b"\r\n"],  # refused long before its end arrives
        [b"X-H%d: v\r\n" % n for n in range(10_000)],
    ],
    ids=["one over the limit", "10 MB", "10,000 small ones"],
)
async def test_larger_headers_are_431_with_the_clients_request_id(
    url: str, headers: list[bytes]
) -> None:
    status, answered, problem = await _raw(url, _get("/ok", b"X-Request-ID: big-7\r\n", *headers))
    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert answered["content-type"] == "application/problem+json"
    assert answered["x-request-id"] == "big-7"  # read before the headers overflowed
    assert problem["status"] == 431 and problem["code"] == "headers_too_large"


async def test_a_refusal_speaks_the_language_asked_before_the_overflow(url: str) -> None:
    big = b"X-Big: " + b"v" * (HEADERS_MAX + 1) + b"\r\n"
    _, _, english = await _raw(url, _get("/ok", b"Accept-Language: en\r\n", big))
    _, _, portuguese = await _raw(url, _get("/ok", big))
    assert english["detail"] == f"The headers are larger than {HEADERS_MAX} bytes together."
    assert portuguese["detail"] == f"Os cabeçalhos somam mais de {HEADERS_MAX} bytes."


async def test_a_client_still_uploading_reads_the_answer(url: str) -> None:
    """The answer comes before the client has sent everything; it still gets it, not a reset."""
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/ok", headers={"X-Big": "v" * 5_000_000})
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("size", [200_000, 900_000])  # whole in one read of the server's, or not
async def test_large_bodies_on_one_connection_are_not_taken_for_headers(
    url: str, size: int
) -> None:
    """A body arrives in the same reads as its head: only a head still incomplete counts."""
    body = b"x" * size
    request = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    for _ in range(3):
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200"), head
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        assert json.loads(await reader.readexactly(length)) == {"received": len(body)}
    writer.close()


async def test_a_malformed_request_is_still_400(url: str) -> None:
    status, headers, problem = await _raw(url, b"GET /ok HTTP/9.9 nonsense\r\n\r\n")
    assert status == "HTTP/1.1 400 Bad Request"
    assert headers["content-type"] == "application/problem+json"
    assert problem["status"] == 400 and problem["code"] == "unreadable_request"
