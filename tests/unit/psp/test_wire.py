"""The shared wire format: test cards, request validation, the webhook secret file, signing."""

from __future__ import annotations

import os
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook

from gamestore.psp.ledger import request_hash
from gamestore.psp.webhooks import signed_headers
from gamestore.psp.wire import (
    TEST_CARDS,
    ChargeRequest,
    Outcome,
    WebhookBody,
    new_webhook_secret,
    outcome_of,
    webhook_secret,
)


def test_every_contract_test_card_has_an_outcome() -> None:
    assert outcome_of("pm_card_visa") is Outcome.SUCCEEDED
    assert outcome_of("pm_card_chargeDeclined") is Outcome.CARD_DECLINED
    assert outcome_of("pm_card_chargeDeclinedInsufficientFunds") is Outcome.INSUFFICIENT_FUNDS
    assert outcome_of("pm_card_chargeDeclinedProcessingError") is Outcome.PROCESSING_ERROR
    assert outcome_of("pm_card_async") is Outcome.ASYNC
    assert outcome_of("4242424242424242") is None
    assert len(TEST_CARDS) == 5


@pytest.mark.parametrize(
    "change",
    [{"amount_cents": -1}, {"currency": "brl"}, {"payment_method": ""}, {"payment_id": ""}],
)
def test_a_charge_request_rejects_bad_fields(change: dict[str, object]) -> None:
    body = {
        "amount_cents": 1,
        "currency": "BRL",
        "payment_method": "pm_card_visa",
        "payment_id": "p",
    }
    with pytest.raises(ValidationError):
        ChargeRequest.model_validate({**body, **change})


def test_the_request_hash_depends_on_values_not_order() -> None:
    one = ChargeRequest(
        amount_cents=1, currency="BRL", payment_method="pm_card_visa", payment_id="p"
    )
    same = ChargeRequest.model_validate(dict(reversed(one.model_dump().items())))
    other = one.model_copy(update={"amount_cents": 2})
    assert request_hash(one) == request_hash(same) != request_hash(other)


def test_the_webhook_secret_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    first = webhook_secret(tmp_path)
    path = tmp_path / "keys" / "psp_webhook_secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert first.startswith("whsec_")
    assert webhook_secret(tmp_path) == first
    Webhook(first)  # a valid Standard Webhooks secret
    assert list((tmp_path / "keys").iterdir()) == [path]


def test_concurrent_creators_agree_on_one_secret(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(lambda _: webhook_secret(tmp_path), range(32)))
    assert len(secrets) == 1


def test_signed_headers_verify_with_standard_webhooks() -> None:
    secret = new_webhook_secret()
    body = '{"type":"charge.succeeded","data":{}}'
    headers = signed_headers(Webhook(secret), "msg_1", body, time.time(), "corr-1")
    assert headers["X-Request-ID"] == "corr-1"
    assert Webhook(secret).verify(body, headers) == {"type": "charge.succeeded", "data": {}}
    stale = signed_headers(Webhook(secret), "msg_1", body, time.time() - 3600, None)
    assert "X-Request-ID" not in stale
    with pytest.raises(Exception, match="too old"):
        Webhook(secret).verify(body, stale)


def test_a_webhook_body_names_only_known_types() -> None:
    data = {"charge_id": "ch_1", "payment_id": "p", "amount_cents": 1, "currency": "BRL"}
    assert WebhookBody.model_validate({"type": "charge.failed", "data": data}).data.charge_id
    with pytest.raises(ValidationError):
        WebhookBody.model_validate({"type": "charge.refunded", "data": data})
