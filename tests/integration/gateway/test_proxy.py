"""The proxy through a real socket: what the upstream receives, what the client gets back."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator

from tests.integration.gateway.conftest import Keys, StartGateway, closed_port_url, problem
from tests.integration.gateway.upstream import Echo


def bearer(keys: Keys, role: str = "player") -> dict[str, str]:
    return {"Authorization": f"Bearer {keys.token(role=role)}"}


async def test_forwards_method_path_query_and_body(
    start_gateway: StartGateway, upstream: tuple[Echo, str], keys: Keys
) -> None:
    body = b'{"order_id": "o-1", "payment_method": "pm_card_visa"}'
    auth = bearer(keys)
    async with start_gateway() as client:
        response = await client.post("/pagamento?x=1&y=%C3%A9", content=body, headers=auth)
    assert response.status_code == 200
    seen = response.json()
    assert (seen["method"], seen["path"], seen["query"]) == ("POST", "/pagamento", "x=1&y=%C3%A9")
    assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert seen["headers"]["authorization"] == [auth["Authorization"]]
    assert response.headers["x-upstream"] == "echo"


async def test_header_hygiene_both_ways(start_gateway: StartGateway, keys: Keys) -> None:
    headers = {
        **bearer(keys),
        "Connection": "keep-alive, X-Private-Hop",
        "X-Private-Hop": "secret",
        "Keep-Alive": "timeout=99",
        "Proxy-Authorization": "Basic abc",
        "TE": "trailers",
        "X-Custom": "kept",
    }
    async with start_gateway() as client:
        response = await client.get("/users/me", headers=headers)
    seen = response.json()["headers"]
    for dropped in ("x-private-hop", "keep-alive", "proxy-authorization", "te"):
        assert dropped not in seen, dropped
    assert seen["x-custom"] == ["kept"]
    assert seen["x-forwarded-for"] == ["127.0.0.1"]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-host"] == [client.base_url.netloc.decode()]
    assert seen["user-agent"][0].startswith("python-httpx/")  # the client's, not aiohttp's
    # The gateway's own headers replace the upstream's: each exactly once.
    raw = response.headers.multi_items()
    for name in ("x-request-id", "x-content-type-options", "date"):
        assert sum(1 for k, _ in raw if k == name) == 1, name
    assert response.headers["x-request-id"] != "upstream-made-this-up"


async def test_request_id_is_passed_upstream_and_echoed(
    start_gateway: StartGateway, keys: Keys
) -> None:
    async with start_gateway() as client:
        given = await client.get("/users/me", headers={**bearer(keys), "X-Request-ID": "req-42"})
        made = await client.get("/users/me", headers={**bearer(keys), "X-Request-ID": "bad id!"})
    assert given.headers["x-request-id"] == "req-42"
    assert given.json()["headers"]["x-request-id"] == ["req-42"]
    new_id = made.headers["x-request-id"]
    assert new_id != "bad id!"
    assert made.json()["headers"]["x-request-id"] == [new_id]


async def test_response_body_is_streamed(
    start_gateway: StartGateway, upstream: tuple[Echo, str]
) -> None:
    echo, _ = upstream
    async with start_gateway() as client, client.stream("GET", "/jogos?chunks=3") as response:
        chunks = response.aiter_raw()
        first = await asyncio.wait_for(chunks.__anext__(), 3)  # before the upstream is done
        echo.release.set()
        rest = b"".join([c async for c in chunks])
    assert first == b"chunk0;"
    assert rest == b"chunk1;chunk2;"


async def test_request_body_is_streamed(
    start_gateway: StartGateway, upstream: tuple[Echo, str]
) -> None:
    echo, _ = upstream
    part = os.urandom(64 * 1024)

    async def body() -> AsyncIterator[bytes]:
        yield part
        await asyncio.wait_for(echo.first_chunk_in.wait(), 3)  # the upstream has it already
        yield part

    async with start_gateway() as client:
        response = await client.post("/webhooks/psp", content=body())
    seen = response.json()
    assert seen["body_size"] == 2 * len(part)
    assert seen["body_sha256"] == hashlib.sha256(part + part).hexdigest()


async def test_large_body_by_content_length_is_refused_before_the_upstream(
    start_gateway: StartGateway, upstream: tuple[Echo, str]
) -> None:
    echo, _ = upstream
    async with start_gateway() as client:
        response = await client.post("/webhooks/psp", content=b"x" * (1024 * 1024 + 1))
    problem(response, 413)
    assert echo.seen == []


async def test_large_streamed_body_is_refused(start_gateway: StartGateway) -> None:
    # A raw socket: an HTTP client library would not read an answer that comes mid-upload.
    async with start_gateway() as client:
        host, port = client.base_url.host, client.base_url.port
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            b"POST /webhooks/psp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"y" * 64 * 1024
        for _ in range(16):  # exactly 1 MiB, then one byte too many
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        writer.write(b"1\r\ny\r\n0\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"application/problem+json" in answer


async def test_body_of_exactly_the_limit_passes(start_gateway: StartGateway) -> None:
    async with start_gateway() as client:
        response = await client.post("/webhooks/psp", content=b"z" * (1024 * 1024))
    assert response.json()["body_size"] == 1024 * 1024


async def test_unreachable_upstream_is_503_with_retry_after(start_gateway: StartGateway) -> None:
    async with start_gateway(services={"games": closed_port_url()}) as client:
        response = await client.get("/jogos")
    assert "games" in problem(response, 503)["detail"]
    assert response.headers["retry-after"] == "1"


async def test_an_upstream_503_and_its_retry_after_pass_through(
    start_gateway: StartGateway,
) -> None:
    async with start_gateway() as client:
        response = await client.get("/jogos?status=503&retry_after=7")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"


async def test_slow_upstream_is_504(start_gateway: StartGateway) -> None:
    async with start_gateway(gateway_upstream_timeout=0.3) as client:
        response = await client.get("/jogos?delay=2")
    problem(response, 504)


async def test_upstream_status_and_errors_pass_through(start_gateway: StartGateway) -> None:
    async with start_gateway() as client:
        response = await client.get("/jogos/abc?status=404")
    assert response.status_code == 404


async def test_pool_survives_many_concurrent_requests(
    start_gateway: StartGateway, keys: Keys
) -> None:
    async with start_gateway() as client:
        responses = await asyncio.gather(
            *(client.get("/users/me", headers=bearer(keys)) for _ in range(100))
        )
    assert {r.status_code for r in responses} == {200}


async def test_head_is_forwarded_without_body(start_gateway: StartGateway) -> None:
    async with start_gateway() as client:
        response = await client.head("/jogos")
    assert response.status_code == 200
    assert response.content == b""


async def test_a_cover_upload_may_pass_1_mib_up_to_5_mib(
    start_gateway: StartGateway, upstream: tuple[Echo, str], keys: Keys
) -> None:
    echo, _ = upstream
    image = os.urandom(3 * 1024 * 1024)
    admin = bearer(keys, "admin")
    async with start_gateway() as client:
        passed = await client.put("/jogos/7f3c/capa", content=image, headers=admin)
        refused = await client.put("/jogos/7f3c/capa", content=image * 2, headers=admin)
        elsewhere = await client.put("/jogos/7f3c", content=image, headers=admin)
    assert passed.status_code == 200
    assert passed.json()["body_sha256"] == hashlib.sha256(image).hexdigest()
    problem(refused, 413)
    problem(elsewhere, 413)
    assert len(echo.seen) == 1
