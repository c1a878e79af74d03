"""Each test card's outcome, bad input, outages, the ledger and request ids."""

from __future__ import annotations

import uuid

import pytest

from gamestore.psp.settings import PspSettings
from tests.integration.psp.support import charge_body, eventually, running_psp


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


@pytest.mark.parametrize(
    ("token", "status", "charge_status", "failure_code"),
    [
        ("pm_card_visa", 200, "succeeded", None),
        ("pm_card_chargeDeclined", 402, "failed", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", 402, "failed", "insufficient_funds"),
        ("pm_card_async", 202, "processing", None),
    ],
)
async def test_each_test_card_gets_its_outcome(
    settings: PspSettings, token: str, status: int, charge_status: str, failure_code: str | None
) -> None:
    async with running_psp(settings) as psp:
        body = charge_body(token)
        response = await psp.post("/v1/charges", json=body, headers=key())
        assert response.status_code == status
        charge = response.json()
        assert charge["status"] == charge_status
        assert charge["failure_code"] == failure_code
        assert charge["id"].startswith("ch_")
        assert (charge["payment_id"], charge["amount_cents"]) == (body["payment_id"], 5990)
        assert "Idempotent-Replayed" not in response.headers


async def test_processing_error_fails_every_try_and_stores_nothing(settings: PspSettings) -> None:
    async with running_psp(settings) as psp:
        body, headers = charge_body("pm_card_chargeDeclinedProcessingError"), key()
        for _ in range(3):
            response = await psp.post("/v1/charges", json=body, headers=headers)
            assert response.status_code == 500
            assert response.json()["error"]["code"] == "processing_error"
        assert (await psp.get("/v1/charges")).json() == {"data": [], "total": 0}


async def test_an_async_charge_succeeds_later(settings: PspSettings) -> None:
    async with running_psp(settings) as psp:
        response = await psp.post("/v1/charges", json=charge_body("pm_card_async"), headers=key())
        charge_id = response.json()["id"]

        async def succeeded() -> bool:
            charge = (await psp.get(f"/v1/charges/{charge_id}")).json()
            return bool(charge["status"] == "succeeded")

        await eventually(succeeded)


@pytest.mark.parametrize(
    ("body", "headers", "code"),
    [
        (charge_body("pm_card_mastercard_unknown"), key(), "invalid_payment_method"),
        (charge_body(), {}, "idempotency_key_missing"),
        (charge_body(), {"Idempotency-Key": "k" * 256}, "idempotency_key_missing"),
        (charge_body(amount_cents=-1), key(), "invalid_request"),
        (charge_body(currency="reais"), key(), "invalid_request"),
        ({"amount_cents": 100}, key(), "invalid_request"),
    ],
)
async def test_bad_requests_are_400_and_charge_nothing(
    settings: PspSettings, body: dict[str, object], headers: dict[str, str], code: str
) -> None:
    async with running_psp(settings) as psp:
        response = await psp.post("/v1/charges", json=body, headers=headers)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == code
        assert (await psp.get("/v1/charges")).json()["total"] == 0


async def test_outage_answers_503_until_healed_and_the_key_is_not_spent(
    settings: PspSettings,
) -> None:
    async with running_psp(settings) as psp:
        body, headers = charge_body(), key()
        await psp.post("/v1/_sim/outage", json={"seconds": 60})
        for _ in range(2):
            response = await psp.post("/v1/charges", json=body, headers=headers)
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "service_unavailable"
        await psp.post("/v1/_sim/outage", json={"seconds": 0})
        response = await psp.post("/v1/charges", json=body, headers=headers)
        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response.headers
        assert (await psp.get("/v1/charges")).json()["total"] == 1


async def test_an_outage_ends_by_itself_with_its_own_status(settings: PspSettings) -> None:
    async with running_psp(settings) as psp:
        await psp.post("/v1/_sim/outage", json={"seconds": 0.2, "status": 502})
        first = await psp.post("/v1/charges", json=charge_body(), headers=key())
        assert first.status_code == 502

        async def healed() -> bool:
            response = await psp.post("/v1/charges", json=charge_body(), headers=key())
            return response.status_code == 200

        await eventually(healed)


async def test_latency_is_injected(settings: PspSettings) -> None:
    import time

    async with running_psp(settings) as psp:
        assert (await psp.post("/v1/_sim/latency", json={"ms": 300})).json() == {"ms": 300}
        started = time.monotonic()
        await psp.post("/v1/charges", json=charge_body(), headers=key())
        assert time.monotonic() - started >= 0.3
        assert (await psp.post("/v1/_sim/latency", json={"ms": -1})).status_code == 400


async def test_the_ledger_lists_and_filters_charges(settings: PspSettings) -> None:
    async with running_psp(settings) as psp:
        mine = charge_body()
        await psp.post("/v1/charges", json=mine, headers=key())
        await psp.post(
            "/v1/charges", json={**mine, "payment_method": "pm_card_chargeDeclined"}, headers=key()
        )
        await psp.post("/v1/charges", json=charge_body(), headers=key())
        everything = (await psp.get("/v1/charges")).json()
        assert everything["total"] == 3
        only = (await psp.get("/v1/charges", params={"payment_id": mine["payment_id"]})).json()
        assert only["total"] == 2
        assert [c["status"] for c in only["data"]] == ["succeeded", "failed"]
        one = only["data"][0]
        assert (await psp.get(f"/v1/charges/{one['id']}")).json() == one
        missing = await psp.get("/v1/charges/ch_nope")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "resource_missing"


async def test_health_and_request_ids(settings: PspSettings) -> None:
    async with running_psp(settings) as psp:
        assert (await psp.get("/healthz")).status_code == 200
        mine = await psp.post(
            "/v1/charges", json=charge_body(), headers={**key(), "X-Request-ID": "corr-123"}
        )
        assert mine.headers["X-Request-ID"] == "corr-123"
        minted = await psp.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
        assert uuid.UUID(minted.headers["X-Request-ID"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/charges"),
        ("GET", "/v1/charges"),
        ("GET", "/v1/charges/ch_1"),
        ("POST", "/v1/_sim/outage"),
        ("POST", "/v1/_sim/latency"),
        ("GET", "/v1/_sim/webhooks"),
    ],
)
@pytest.mark.parametrize("auth", [None, "Bearer sk_test_guess", "Basic c2tfdGVzdA==", "Bearer "])
async def test_every_v1_call_needs_the_secret_api_key(
    settings: PspSettings, method: str, path: str, auth: str | None
) -> None:
    """Anyone on the host could charge, list every charge or cause an outage; now only the
    holder of the secret key can, like at a real provider."""
    async with running_psp(settings) as psp:
        headers = key() | ({"Authorization": auth} if auth is not None else {})
        psp.headers.pop("Authorization")
        body = charge_body() if path == "/v1/charges" else {"seconds": 60, "ms": 1}
        response = await psp.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "authentication_required"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        psp.headers["Authorization"] = f"Bearer {settings.secret_api_key()}"
        assert (await psp.get("/v1/charges")).json()["total"] == 0  # nothing was charged
        assert (await psp.post("/v1/charges", json=charge_body(), headers=key())).status_code == 200


async def test_a_charge_shows_the_key_it_was_made_under(settings: PspSettings) -> None:
    async with running_psp(settings) as psp:
        headers = key()
        charge = (await psp.post("/v1/charges", json=charge_body(), headers=headers)).json()
        assert charge["idempotency_key"] == headers["Idempotency-Key"]
        listed = (await psp.get(f"/v1/charges/{charge['id']}")).json()
        assert listed["idempotency_key"] == headers["Idempotency-Key"]
