"""The saga on two replicas of every process that scales, against one PostgreSQL and one
RabbitMQ: the embedded suite's purchase, webhook, revocation and crash tests again, and a
payment worker killed while it holds a payment, whose message the other replica takes over
(the killed one is not restarted): charged once, completed once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.api import Account, eventually
from tests.e2e.conftest import create_admin
from tests.e2e.saga import test_authorization as authorization
from tests.e2e.saga import test_cards as cards
from tests.e2e.saga import test_concurrency as concurrency
from tests.e2e.saga import test_crashes as crashes
from tests.e2e.saga import test_revocation as revocation
from tests.e2e.saga import test_webhooks as webhooks
from tests.e2e.saga.support import (
    ASYNC,
    SAGA_TIMEOUT,
    VISA,
    bought,
    buy,
    charges,
    events,
    new_game,
    order_reaches,
    psp_control,
)
from tests.e2e.saga.test_postgres_rabbitmq import production_stack
from tests.e2e.stack import Stack

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

SCALE = dict.fromkeys(
    ("bus-publisher", "users", "games", "indexer", "payments", "payment-worker",
     "webhook-function", "notifier", "gateway"),
    2,
)  # fmt: skip


@pytest.fixture(scope="module")
def saga_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with production_stack(tmp_path_factory.mktemp("saga-replicas"), SCALE) as running:
        yield running


@pytest.fixture(scope="module")
def stack(saga_stack: Stack) -> Stack:
    return saga_stack


@pytest.fixture(scope="module")
def admin(saga_stack: Stack) -> Account:
    return create_admin(saga_stack)


def test_two_of_every_scalable_process_run(stack: Stack) -> None:
    for name in SCALE:
        assert {name, f"{name}-2"} <= set(stack.processes)
        assert stack.processes[f"{name}-2"].poll() is None, f"{name}-2 is not running"


test_visa_completes_grants_the_game_and_notifies = (
    cards.test_visa_completes_grants_the_game_and_notifies
)
test_a_declined_card_fails_with_its_reason_then_a_retry_with_visa_completes = (
    cards.test_a_declined_card_fails_with_its_reason_then_a_retry_with_visa_completes
)
test_a_processing_error_is_dead_lettered_after_n_attempts_and_replayable = (
    cards.test_a_processing_error_is_dead_lettered_after_n_attempts_and_replayable
)
test_an_async_card_completes_by_webhook_alone = cards.test_an_async_card_completes_by_webhook_alone
test_twenty_simultaneous_purchases_make_one_order_one_charge_one_entry = (
    concurrency.test_twenty_simultaneous_purchases_make_one_order_one_charge_one_entry
)
test_the_same_webhook_twice_has_one_effect = webhooks.test_the_same_webhook_twice_has_one_effect
test_a_demoted_admin_s_token_loses_the_admin_routes = (
    revocation.test_a_demoted_admin_s_token_loses_the_admin_routes
)
test_a_password_change_kills_the_tokens_issued_before_it = (
    revocation.test_a_password_change_kills_the_tokens_issued_before_it
)
test_another_players_order_and_payment_are_not_found = (
    authorization.test_another_players_order_and_payment_are_not_found
)
test_payment_admin_routes_are_for_admins = authorization.test_payment_admin_routes_are_for_admins
test_killing_the_webhook_function_and_the_notifier_mid_stream_loses_nothing = (
    crashes.test_killing_the_webhook_function_and_the_notifier_mid_stream_loses_nothing
)


async def test_one_correlation_id_follows_the_purchase_through_whichever_replicas_served_it(
    client: httpx.AsyncClient, admin: Account, player: Account, stack: Stack
) -> None:
    game = await new_game(client, admin)
    corr = f"trace-{uuid.uuid4().hex[:12]}"
    response = await buy(client, player, game["id"], ASYNC, request_id=corr)
    assert response.status_code == 202, response.text
    await order_reaches(client, player, response.json()["order_id"], "completed")
    served = ("gateway", "games", "payments", "payment-worker", "webhook-function", "notifier")

    async def everywhere() -> bool:
        return all(
            any(f"corr={corr}" in stack.log_text(key) for key in (name, f"{name}-2"))
            for name in served
        )

    await eventually(everywhere, timeout=SAGA_TIMEOUT, what="the id in every process's log")
    trace = stack.cli("trace", corr)
    assert trace.returncode == 0, trace.stderr
    for name in served:
        assert f" {name} " in trace.stdout or f" {name}-2 " in trace.stdout, trace.stdout
    assert "PurchaseCompleted" in trace.stdout


async def test_the_other_worker_takes_over_a_payment_whose_worker_was_killed(
    client: httpx.AsyncClient, admin: Account, player: Account, stack: Stack
) -> None:
    """The PSP answers slowly; the replica working on the payment is killed after the PSP
    took the charge and is NOT restarted: the broker gives the message to the other replica,
    which retries with the same idempotency key and gets the same charge back."""
    game = await new_game(client, admin)
    await psp_control(stack, "/v1/_sim/latency", {"ms": 3000})
    try:
        accepted = await bought(client, player, game["id"], VISA)
        payment_id = accepted["payment_id"]

        async def holder() -> str | None:
            for key in ("payment-worker", "payment-worker-2"):
                if f"charging at the psp payment_id={payment_id}" in stack.log_text(key):
                    return key
            return None

        working = await eventually(holder, timeout=SAGA_TIMEOUT, what="a worker on it")

        async def charged() -> list[object] | None:
            return list(await charges(stack, payment_id)) or None

        await eventually(charged, timeout=SAGA_TIMEOUT, what="the PSP's charge")
        stack.kill(working)  # still waiting for the PSP's answer
    finally:
        await psp_control(stack, "/v1/_sim/latency", {"ms": 0})
    try:
        await order_reaches(client, player, accepted["order_id"], "completed")
        other = "payment-worker-2" if working == "payment-worker" else "payment-worker"
        # the broker gave the message to the other replica: it charged (same key, same charge)
        # or found the payment already settled by the PSP's webhook
        assert f"payment_id={payment_id}" in stack.log_text(other), "the message was lost"
        assert len(await charges(stack, payment_id)) == 1, "the PSP charged twice"
        stream = await events(client, admin, stream=f"payment-{payment_id}")
        assert [e["type"] for e in stream].count("PaymentSucceeded") == 1
    finally:
        stack.restart(working)
        index = 0 if working == "payment-worker" else 1
        ops = stack.env["GAMESTORE_PAYMENT_WORKER_URL"].split(",")[index]
        await eventually(lambda: _ready(ops), timeout=SAGA_TIMEOUT, what=f"{working} back")


async def _ready(url: str) -> bool:
    async with httpx.AsyncClient(timeout=2) as probe:
        try:
            return (await probe.get(f"{url}/readyz")).status_code == 200
        except httpx.TransportError:
            return False
