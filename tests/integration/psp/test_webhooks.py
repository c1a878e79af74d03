"""Webhooks: signed, retried on failure with a stable id, resumed after a restart."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from pathlib import Path

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from gamestore.psp.settings import PspSettings
from tests.integration.psp.conftest import make_settings
from tests.integration.psp.support import (
    Received,
    charge_body,
    eventually,
    receiver,
    running_psp,
    webhooks,
)


def verify(settings: PspSettings, hook: Received) -> dict[str, object]:
    payload: dict[str, object] = Webhook(settings.webhook_signing_secret()).verify(
        hook.body, hook.headers
    )
    return payload


async def test_a_failing_receiver_gets_the_same_webhook_until_it_accepts(tmp_path: Path) -> None:
    async with receiver([500, 503]) as hook:
        settings = make_settings(tmp_path, psp_webhook_url=hook.url)
        async with running_psp(settings) as psp:
            body = charge_body()
            headers = {"Idempotency-Key": str(uuid.uuid4()), "X-Request-ID": "corr-wh-1"}
            charge = (await psp.post("/v1/charges", json=body, headers=headers)).json()
            await eventually(lambda: len(hook.received) == 3)
            [row] = await eventually(lambda: _delivered(psp))
    assert [r.status for r in hook.received] == [500, 503, 204]
    assert {r.headers["webhook-id"] for r in hook.received} == {row["id"]}
    assert {r.headers["X-Request-ID"] for r in hook.received} == {"corr-wh-1"}
    for received in hook.received:
        assert verify(settings, received) == {
            "type": "charge.succeeded",
            "data": {
                "charge_id": charge["id"],
                "payment_id": body["payment_id"],
                "amount_cents": 5990,
                "currency": "BRL",
            },
        }
    assert (row["attempts"], row["last_status"], row["status"]) == (3, 204, "delivered")


async def _delivered(psp: object) -> list[dict[str, object]]:
    rows = await webhooks(psp)  # type: ignore[arg-type]
    return rows if rows and all(r["status"] == "delivered" for r in rows) else []


async def test_the_signature_covers_id_timestamp_and_body(tmp_path: Path) -> None:
    async with receiver() as hook:
        settings = make_settings(tmp_path, psp_webhook_url=hook.url)
        async with running_psp(settings) as psp:
            body = charge_body("pm_card_chargeDeclined")
            await psp.post("/v1/charges", json=body, headers={"Idempotency-Key": "k1"})
            await eventually(lambda: hook.received)
    [received] = hook.received
    secret = base64.b64decode(settings.webhook_signing_secret().removeprefix("whsec_"))
    wid, stamp = received.headers["webhook-id"], received.headers["webhook-timestamp"]
    signed = f"{wid}.{stamp}.".encode() + received.body
    expected = base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()
    assert received.headers["webhook-signature"] == f"v1,{expected}"
    payload = json.loads(received.body)
    assert payload["type"] == "charge.failed"
    assert payload["data"]["failure_code"] == "card_declined"
    tampered = [
        (received.body.replace(b"5990", b"1"), received.headers),
        (received.body, {**received.headers, "webhook-id": "msg_other"}),
        (received.body, {**received.headers, "webhook-timestamp": str(int(stamp) - 1)}),
    ]
    for data, headers in tampered:
        with pytest.raises(WebhookVerificationError):
            Webhook(settings.webhook_signing_secret()).verify(data, headers)


async def test_an_async_charge_is_told_only_by_its_webhook(tmp_path: Path) -> None:
    async with receiver() as hook:
        settings = make_settings(tmp_path, psp_webhook_url=hook.url)
        async with running_psp(settings) as psp:
            body = charge_body("pm_card_async")
            answer = await psp.post("/v1/charges", json=body, headers={"Idempotency-Key": "a1"})
            assert answer.json()["status"] == "processing"
            assert hook.received == []
            await eventually(lambda: hook.received)
    [received] = hook.received
    payload = verify(settings, received)
    assert payload["type"] == "charge.succeeded"
    assert payload["data"]["charge_id"] == answer.json()["id"]  # type: ignore[index]


async def test_undelivered_webhooks_are_delivered_after_a_restart(tmp_path: Path) -> None:
    down = make_settings(tmp_path)  # nobody listens at its webhook URL
    async with running_psp(down) as psp:
        for token in ("pm_card_visa", "pm_card_chargeDeclined"):
            headers = {"Idempotency-Key": token}
            await psp.post("/v1/charges", json=charge_body(token), headers=headers)
        await psp.post(
            "/v1/charges", json=charge_body("pm_card_async"), headers={"Idempotency-Key": "a"}
        )
        before = await eventually(lambda: _attempted(psp, 2))
    assert all(row["status"] == "pending" and row["last_error"] for row in before)
    async with receiver() as hook:
        up = make_settings(tmp_path, psp_webhook_url=hook.url)
        async with running_psp(up) as psp:
            after = await eventually(lambda: _delivered_count(psp, 3))
    ids = sorted(r.headers["webhook-id"] for r in hook.received)
    assert ids == sorted(str(row["id"]) for row in after)
    assert {row["id"] for row in before} <= set(ids)
    assert {json.loads(r.body)["type"] for r in hook.received} == {
        "charge.succeeded",
        "charge.failed",
    }


async def _attempted(psp: object, count: int) -> list[dict[str, object]]:
    rows = await webhooks(psp)  # type: ignore[arg-type]
    tried = [row for row in rows if int(str(row["attempts"])) >= 1]
    return tried if len(tried) >= count else []


async def _delivered_count(psp: object, count: int) -> list[dict[str, object]]:
    rows = await webhooks(psp)  # type: ignore[arg-type]
    done = [row for row in rows if row["status"] == "delivered"]
    return done if len(done) == count else []


async def test_a_webhook_gives_up_after_max_attempts(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, psp_webhook_max_attempts=2)
    async with running_psp(settings) as psp:
        await psp.post("/v1/charges", json=charge_body(), headers={"Idempotency-Key": "g"})

        async def failed() -> list[dict[str, object]]:
            rows = await webhooks(psp)
            return [row for row in rows if row["status"] == "failed"]

        [row] = await eventually(failed)
    assert row["attempts"] == 2
