"""POST /webhooks/psp: verified (Standard Webhooks, rotation), deduplicated, stored with its
event in one transaction; everything else refused without a trace in the store."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from gamestore.payments.bootstrap import build
from gamestore.payments.domain import decide_attempt
from gamestore.payments.tables import webhooks
from gamestore.payments.webhook_settings import configured_secrets
from gamestore.platform.config import Settings
from tests.integration.games.support import Issuer, problem
from tests.integration.payments.support import (
    PaymentsApi,
    charge_body,
    new_secret,
    signed_headers,
    sqlite_only,
)


async def stored_webhooks(api: PaymentsApi) -> int:
    async with api.service.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(webhooks)) or 0)


async def received(api: PaymentsApi, webhook_id: str, count: int = 1) -> list[dict[str, object]]:
    """The data of the ``webhook-{id}`` stream once it holds ``count`` events."""
    deadline = time.monotonic() + 10
    while True:
        events = await api.service.store.read_stream(f"webhook-{webhook_id}")
        if len(events) >= count or time.monotonic() > deadline:
            return [e.data for e in events]
        await asyncio.sleep(0.02)


async def test_a_valid_webhook_is_stored_with_its_event(api: PaymentsApi) -> None:
    payment_id = str(uuid.uuid4())
    body = charge_body(payment_id, "charge.failed")
    response = await api.webhook(body, "msg_1")
    assert response.status_code == 204, response.text
    [data] = await received(api, "msg_1")
    sent = json.loads(body)["data"]
    assert data == {"webhook_id": "msg_1", "type": "charge.failed", **sent}
    assert await stored_webhooks(api) == 1


async def test_a_duplicate_is_204_and_stored_once(api: PaymentsApi) -> None:
    body = charge_body(str(uuid.uuid4()))
    answers = await asyncio.gather(*(api.webhook(body, "msg_dup") for _ in range(5)))
    assert [a.status_code for a in answers] == [204] * 5
    assert (await api.webhook(body, "msg_dup")).status_code == 204
    await asyncio.sleep(0.2)
    assert len(await received(api, "msg_dup")) == 1
    assert await stored_webhooks(api) == 1


def _headers_without(name: str, body: bytes, secret: str) -> dict[str, str]:
    headers = signed_headers(secret, body, "msg_x")
    headers.pop(name)
    return headers


@sqlite_only
@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
async def test_missing_headers_are_401(api: PaymentsApi, missing: str) -> None:
    body = charge_body(str(uuid.uuid4()))
    headers = _headers_without(missing, body, api.secret)
    problem(await api.client.post("/webhooks/psp", content=body, headers=headers), 401)


@sqlite_only
@pytest.mark.parametrize(
    "signature",
    [
        "v1,AAAA",  # wrong
        "v1AAAA",  # no comma: the library raises ValueError
        "v1,a,b",  # too many commas
        "v1,@@not-base64@@",
        "v2,c2lnbmF0dXJl",  # unknown version only
        "",
    ],
)
async def test_bad_signatures_are_401(api: PaymentsApi, signature: str) -> None:
    body = charge_body(str(uuid.uuid4()))
    headers = signed_headers(api.secret, body, "msg_bad") | {"webhook-signature": signature}
    problem(await api.client.post("/webhooks/psp", content=body, headers=headers), 401)
    assert await stored_webhooks(api) == 0


@sqlite_only
async def test_a_tampered_body_or_id_is_401(api: PaymentsApi) -> None:
    body = charge_body(str(uuid.uuid4()), "charge.failed")
    headers = signed_headers(api.secret, body, "msg_t")
    tampered = body.replace(b"charge.failed", b"charge.succeeded")
    problem(await api.client.post("/webhooks/psp", content=tampered, headers=headers), 401)
    other_id = headers | {"webhook-id": "msg_other"}
    problem(await api.client.post("/webhooks/psp", content=body, headers=other_id), 401)


@sqlite_only
@pytest.mark.parametrize("offset", [-600, 600])
async def test_a_timestamp_ten_minutes_off_is_401(api: PaymentsApi, offset: int) -> None:
    body = charge_body(str(uuid.uuid4()))
    problem(await api.webhook(body, timestamp=time.time() + offset), 401)


@sqlite_only
@pytest.mark.parametrize("timestamp", ["yesterday", "nan", "1e400", "-1"])
async def test_a_garbage_timestamp_is_401(api: PaymentsApi, timestamp: str) -> None:
    body = charge_body(str(uuid.uuid4()))
    headers = signed_headers(api.secret, body, "msg_ts") | {"webhook-timestamp": timestamp}
    problem(await api.client.post("/webhooks/psp", content=body, headers=headers), 401)


@sqlite_only
async def test_another_secret_is_401(api: PaymentsApi) -> None:
    problem(await api.webhook(charge_body(str(uuid.uuid4())), secret=new_secret()), 401)


@sqlite_only
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"type": "charge.refunded", "data": {}}',
        b'{"type": "charge.succeeded"}',
        b'{"type": "charge.succeeded", "data": {"payment_id": "p", "charge_id": "c"}}',
        json.dumps({"type": "charge.succeeded", "data": {"amount_cents": -1}}).encode(),
        '{"type": "ção"}'.encode(),
    ],
)
async def test_signed_but_malformed_is_400(api: PaymentsApi, body: bytes) -> None:
    problem(await api.webhook(body), 400)
    assert await stored_webhooks(api) == 0


@sqlite_only
async def test_an_overlong_webhook_id_is_400(api: PaymentsApi) -> None:
    problem(await api.webhook(charge_body(str(uuid.uuid4())), webhook_id="m" * 256), 400)


@sqlite_only
async def test_a_non_utf8_body_is_refused(api: PaymentsApi) -> None:
    body = b"\xff\xfe{}"
    headers = signed_headers(api.secret, b"{}", "msg_bin")
    problem(await api.client.post("/webhooks/psp", content=body, headers=headers), 401)


async def test_rotation_old_and_new_secrets_while_both_are_listed(settings: Settings) -> None:
    old, new = new_secret(), new_secret()
    for listed, accepted, refused in (([new, old], [old, new], []), ([new], [new], [old])):
        async with (
            build(
                settings, verifier=Issuer().verifier(), webhook_secrets=listed, consumers=False
            ) as service,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=service.app), base_url="http://p"
            ) as client,
        ):
            api = PaymentsApi(client, service, Issuer(), listed[0])
            for secret in accepted:
                assert (await api.webhook(charge_body("p"), secret=secret)).status_code == 204
            for secret in refused:
                problem(await api.webhook(charge_body("p"), secret=secret), 401)


@sqlite_only
async def test_secrets_from_the_environment_or_the_data_dir(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GAMESTORE_PSP_WEBHOOK_SECRETS", raising=False)
    monkeypatch.delenv("GAMESTORE_PSP_WEBHOOK_SECRET", raising=False)

    def configured() -> list[str]:  # Settings read the environment when they are built
        return configured_secrets(Settings(data_dir=settings.data_dir))

    stored = configured()
    assert len(stored) == 1 and stored == configured()
    assert (settings.data_dir / "keys" / "psp_webhook_secret").exists()
    monkeypatch.setenv("GAMESTORE_PSP_WEBHOOK_SECRET", "whsec_c2luZ2xl")
    assert configured() == ["whsec_c2luZ2xl"]
    monkeypatch.setenv("GAMESTORE_PSP_WEBHOOK_SECRETS", " whsec_bmV3 , whsec_b2xk ,")
    assert configured() == ["whsec_bmV3", "whsec_b2xk"]


@sqlite_only
async def test_a_body_over_one_mebibyte_is_413(api: PaymentsApi) -> None:
    body = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    problem(await api.webhook(body), 413)
    assert await stored_webhooks(api) == 0


async def settled_by_worker(api: PaymentsApi, payment_id: str, succeeded: bool) -> None:
    """As the worker records it: the PSP call with the charge it answered with, the outcome."""
    outcome = "succeeded" if succeeded else "declined"
    await api.payments.change(payment_id, lambda p: decide_attempt(p, 1, outcome, None, "ch_test"))
    await api.conclude(payment_id, succeeded=succeeded, reason="card_declined")


async def _no_event_staged(api: PaymentsApi, webhook_id: str) -> None:
    await asyncio.sleep(0.3)  # the relay runs meanwhile: a staged event would be stored now
    assert await received(api, webhook_id, count=0) == []


async def test_a_webhook_for_a_payment_settled_with_its_outcome_stages_nothing(
    api: PaymentsApi,
) -> None:
    """The worker had the PSP's answer first (the usual case): the webhook would change
    nothing, so it is stored and answered without an event for the webhook function."""
    data = await api.ordered()
    await settled_by_worker(api, data["payment_id"], succeeded=True)
    before = await api.stream(data["payment_id"])
    response = await api.webhook(charge_body(data["payment_id"], charge_id="ch_test"), "msg_s")
    assert response.status_code == 204, response.text
    assert await stored_webhooks(api) == 1
    await _no_event_staged(api, "msg_s")
    assert await api.stream(data["payment_id"]) == before
    duplicate = await api.webhook(charge_body(data["payment_id"], charge_id="ch_test"), "msg_s")
    assert duplicate.status_code == 204 and await stored_webhooks(api) == 1


@pytest.mark.parametrize(
    ("settled_as", "kind", "charge"),
    [
        (False, "charge.succeeded", "ch_test"),  # contradicts the outcome: an anomaly to record
        (True, "charge.failed", "ch_test"),  # the same
        (True, "charge.succeeded", "ch_other"),  # a charge the payment did not record
    ],
)
async def test_a_webhook_that_would_change_something_is_staged(
    api: PaymentsApi, settled_as: bool, kind: str, charge: str
) -> None:
    data = await api.ordered()
    await settled_by_worker(api, data["payment_id"], succeeded=settled_as)
    response = await api.webhook(charge_body(data["payment_id"], kind, charge_id=charge), "msg_c")
    assert response.status_code == 204, response.text
    [staged] = await received(api, "msg_c")
    assert staged["payment_id"] == data["payment_id"] and staged["type"] == kind


async def test_a_webhook_for_a_payment_still_waiting_is_staged(api: PaymentsApi) -> None:
    data = await api.ordered()
    body = charge_body(data["payment_id"], charge_id="ch_test")
    assert (await api.webhook(body, "msg_w")).status_code == 204
    [staged] = await received(api, "msg_w")
    assert staged["charge_id"] == "ch_test"
