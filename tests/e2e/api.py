"""Small helpers for talking to the public API as a client would."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

PROBLEM_JSON = "application/problem+json"
PASSWORD = "S3cret!pass"

T = TypeVar("T")


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Account:
    """A registered, logged-in user."""

    id: str
    name: str
    email: str
    password: str
    access_token: str
    refresh_token: str
    role: str = "player"

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.access_token)


async def register(
    client: httpx.AsyncClient,
    *,
    name: str = "Ada Lovelace",
    email: str | None = None,
    password: str = PASSWORD,
) -> dict[str, Any]:
    """POST /users; the created user (asserts 201)."""
    response = await client.post(
        "/users", json={"name": name, "email": email or unique_email(), "password": password}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/login/auth", json={"email": email, "password": password})


async def new_account(
    client: httpx.AsyncClient, *, name: str = "Ada Lovelace", password: str = PASSWORD
) -> Account:
    """A fresh player, registered and logged in through ``client``."""
    user = await register(client, name=name, password=password)
    response = await login(client, user["email"], password)
    assert response.status_code == 200, response.text
    tokens = response.json()
    return Account(
        id=user["id"],
        name=user["name"],
        email=user["email"],
        password=password,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        role=user["role"],
    )


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is a problem+json document with ``status``; its body."""
    assert response.status_code == status, f"{response.status_code} {response.text[:500]}"
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status, body
    assert isinstance(body.get("title"), str), body
    assert "detail" in body, body
    assert "Traceback" not in response.text
    return body


def assert_unauthorized(response: httpx.Response) -> None:
    """401 problem+json with a Bearer challenge."""
    assert_problem(response, 401)
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.lower().startswith("bearer"), response.headers


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 10.0, what: str = "condition"
) -> T:
    """Poll ``probe`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


async def raw_request(base_url: str, request_head: bytes) -> RawResponse:
    """Send bytes a well-behaved client library refuses to send (``request_head`` is the request
    line and headers without the final blank line); read the whole response."""
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(request_head + b"\r\nConnection: close\r\n\r\n")
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 15)
    finally:
        writer.close()
    return _parse(data)


async def raw_upload(
    base_url: str, path: str, body: bytes, *, chunked: bool = False
) -> RawResponse:
    """POST a large body the way curl does: ``Expect: 100-continue``, and the body only after
    the server's go-ahead, stopping as soon as a final answer arrives (httpx can do neither,
    and reports a 413 that comes before the upload ends as a read error)."""
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % len(body)
    writer.write(
        b"POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Expect: 100-continue\r\nConnection: close\r\n%s\r\n\r\n" % (path.encode(), framing)
    )
    try:
        first = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        if not first.startswith(b"HTTP/1.1 100"):
            return _parse(first + await _read_until_closed(reader))
        reading = asyncio.create_task(_read_until_closed(reader))
        with contextlib.suppress(ConnectionError, OSError):
            await _send_body(writer, body, chunked, answered=lambda: _has_data(reader, reading))
        return _parse(await asyncio.wait_for(reading, 30))
    finally:
        writer.close()


def _has_data(reader: asyncio.StreamReader, reading: asyncio.Task[bytes]) -> bool:
    return reading.done() or bool(getattr(reader, "_buffer", b""))


async def _send_body(
    writer: asyncio.StreamWriter, body: bytes, chunked: bool, answered: Callable[[], bool]
) -> None:
    for start in range(0, len(body), 65536):
        if answered():
            return
        piece = body[start : start + 65536]
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        await writer.drain()
    writer.write(b"0\r\n\r\n" if chunked else b"")
    await writer.drain()


async def _read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything received before EOF or a reset (a reset after the answer keeps the answer)."""
    data = b""
    while True:
        try:
            piece = await reader.read(65536)
        except ConnectionError:  # reset, or the upload's broken pipe surfacing here
            return data
        if not piece:
            return data
        data += piece


class NoAnswer(AssertionError):
    """The connection closed (or was reset) before any response byte arrived."""


def _parse(data: bytes) -> RawResponse:
    if not data:
        raise NoAnswer("the server closed the connection without an answer")
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(int(status_line.split()[1]), headers, body)
