"""A tiny upstream for gateway tests: it echoes what it received, as JSON.

Test scaffolding standing in for a service (not a copy of one): the gateway is tested against
what actually arrives on the other side of a real socket. Query parameters steer it:
``delay`` (seconds before answering), ``chunks`` (stream the answer in N chunks, each after
``release`` is set), ``status``, ``retry_after`` (a ``Retry-After`` header).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from gamestore.platform.http.ops import no_work_lifespan


@dataclass
class Echo:
    """The upstream app; ``seen`` lists every request it got, ``documents`` what it serves."""

    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    openapi: dict[str, Any] | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)
    openapi_fetches: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    first_chunk_in: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await no_work_lifespan(receive, send)
            return
        if scope["path"] == "/.well-known/jwks.json":
            await _json(send, 200, self.jwks)
            return
        if scope["path"] == "/openapi.json":
            self.openapi_fetches += 1
            await _json(send, 200 if self.openapi else 404, self.openapi or {})
            return
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        seen = await self._receive_body(scope, receive)
        self.seen.append(seen)
        await asyncio.sleep(float(query.get("delay", 0)))
        if "chunks" in query:
            await self._stream(send, int(query["chunks"]))
            return
        extra = [(b"x-upstream", b"echo")]
        if "retry_after" in query:
            extra.append((b"retry-after", query["retry_after"].encode()))
        await _json(send, int(query.get("status", 200)), seen, extra)

    async def _receive_body(self, scope: Scope, receive: Receive) -> dict[str, Any]:
        digest, size, chunks, more = hashlib.sha256(), 0, 0, True
        while more:
            message = await receive()
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if body:
                digest.update(body)
                size += len(body)
                chunks += 1
                self.first_chunk_in.set()
        headers: dict[str, list[str]] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
        return {
            "method": scope["method"],
            "path": scope["path"],
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query": scope["query_string"].decode("latin-1"),
            "headers": headers,
            "body_size": size,
            "body_chunks": chunks,
            "body_sha256": digest.hexdigest(),
        }

    async def _stream(self, send: Send, count: int) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for n in range(count):
            if n:
                await asyncio.wait_for(self.release.wait(), 5)
            await send(
                {"type": "http.response.body", "body": f"chunk{n};".encode(), "more_body": True}
            )
        await send({"type": "http.response.body", "body": b""})


async def _json(
    send: Send, status: int, payload: Any, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(payload).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"keep-alive"),
        (b"x-request-id", b"upstream-made-this-up"),
        (b"x-content-type-options", b"nosniff"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
