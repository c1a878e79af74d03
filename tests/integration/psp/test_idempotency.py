"""Stripe-like idempotency: replays, a reused key, concurrent requests, a claim left by a crash."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import insert

from gamestore.migrations import upgrade
from gamestore.psp.ledger import request_hash
from gamestore.psp.settings import PspSettings
from gamestore.psp.tables import create_engine, idempotency_keys
from gamestore.psp.wire import ChargeRequest
from tests.integration.psp.conftest import make_settings
from tests.integration.psp.support import charge_body, running_psp, webhooks


@pytest.mark.parametrize(
    ("token", "status"),
    [("pm_card_visa", 200), ("pm_card_chargeDeclined", 402), ("pm_card_async", 202)],
)
async def test_same_key_same_body_replays_the_same_charge(
    settings: PspSettings, token: str, status: int
) -> None:
    async with running_psp(settings) as psp:
        body, headers = charge_body(token), {"Idempotency-Key": str(uuid.uuid4())}
        first = await psp.post("/v1/charges", json=body, headers=headers)
        again = await psp.post("/v1/charges", json=dict(reversed(body.items())), headers=headers)
        assert (first.status_code, again.status_code) == (status, status)
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert (await psp.get("/v1/charges")).json()["total"] == 1


async def test_same_key_different_body_is_refused(settings: PspSettings) -> None:
    async with running_psp(settings) as psp:
        body, headers = charge_body(), {"Idempotency-Key": "order-1"}
        await psp.post("/v1/charges", json=body, headers=headers)
        other = await psp.post("/v1/charges", json={**body, "amount_cents": 1}, headers=headers)
        assert other.status_code == 400
        assert other.json()["error"]["code"] == "idempotency_key_in_use"
        assert (await psp.get("/v1/charges")).json()["total"] == 1


async def test_twenty_concurrent_requests_with_one_key_make_one_charge(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, psp_db_url=database_url, psp_latency_ms=200)
    async with running_psp(settings) as psp:
        body, headers = charge_body(), {"Idempotency-Key": str(uuid.uuid4())}
        answers = await asyncio.gather(
            *(psp.post("/v1/charges", json=body, headers=headers) for _ in range(20))
        )
        codes = sorted(answer.status_code for answer in answers)
        assert set(codes) <= {200, 409}
        assert 200 in codes and 409 in codes
        charged = {answer.json()["id"] for answer in answers if answer.status_code == 200}
        ledger = (await psp.get("/v1/charges")).json()
        assert ledger["total"] == 1
        assert charged == {ledger["data"][0]["id"]}
        late = await psp.post("/v1/charges", json=body, headers=headers)
        assert late.json()["id"] in charged
        assert late.headers["Idempotent-Replayed"] == "true"
        assert len(await webhooks(psp)) == 1


async def _leave_claim(
    settings: PspSettings, key: str, body: dict[str, object], age: float
) -> None:
    """A claim on ``key`` as a request that died ``age`` seconds ago would have left it."""
    engine = create_engine(settings.db_url)
    await upgrade(engine, "psp")
    claim = {"idempotency_key": key, "request_hash": _hash_of(body), "locked_at": time.time() - age}
    async with engine.begin() as conn:
        await conn.execute(insert(idempotency_keys).values(claim))
    await engine.dispose()


async def test_a_claim_left_by_a_dead_request_expires(settings: PspSettings) -> None:
    body = charge_body()
    await _leave_claim(settings, "k-dead", body, age=3600)
    await _leave_claim(settings, "k-running", body, age=1)
    await _leave_claim(settings, "k-other-body", charge_body(), age=3600)
    async with running_psp(settings) as psp:

        async def charge(key: str) -> int:
            response = await psp.post("/v1/charges", json=body, headers={"Idempotency-Key": key})
            return response.status_code

        assert await charge("k-dead") == 200
        assert await charge("k-running") == 409
        assert await charge("k-other-body") == 400
        assert (await psp.get("/v1/charges")).json()["total"] == 1


def _hash_of(body: dict[str, object]) -> str:
    return request_hash(ChargeRequest.model_validate(body))
