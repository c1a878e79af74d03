"""One purchase is one trace: from the client's request through every process it touches —
the gateway, games, payments, the payment worker, the PSP and its webhook, the webhook
function, the notifier and the indexer — each span the child of the span that caused it."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from tests.e2e.api import Account, eventually
from tests.e2e.saga.support import (
    ASYNC,
    SAGA_TIMEOUT,
    VISA,
    buy,
    new_game,
    notifications,
    order_reaches,
)
from tests.e2e.stack import Stack
from tests.e2e.traces.receiver import ReceivedSpan, Receiver

SAGA = {"gateway", "games", "payments", "payment-worker", "psp", "notifier", "indexer"}


async def test_a_card_purchase_is_one_trace_across_every_process(
    client: httpx.AsyncClient, admin: Account, player: Account, stack: Stack, receiver: Receiver
) -> None:
    trace_id, root = await _purchase(client, admin, player, VISA)
    spans = await _trace_reaching(receiver, trace_id, SAGA)
    _assert_causal(spans, root)
    consumers = {s.process for s in spans if s.kind == 5}  # SPAN_KIND_CONSUMER
    assert {"payments", "payment-worker", "games", "notifier", "indexer"} <= consumers
    _assert_logged(stack, trace_id, SAGA - {"psp"})  # the PSP keeps its own log format


async def test_an_async_payment_continues_the_trace_through_the_psp_webhook(
    client: httpx.AsyncClient, admin: Account, player: Account, stack: Stack, receiver: Receiver
) -> None:
    trace_id, root = await _purchase(client, admin, player, ASYNC)
    spans = await _trace_reaching(receiver, trace_id, SAGA | {"webhook-function"})
    _assert_causal(spans, root)
    webhook = [s for s in spans if s.process == "payments" and "webhooks/psp" in s.name]
    assert webhook, "the PSP's webhook request is not in the purchase's trace"
    assert _ancestors(webhook[0], spans) & {s.span_id for s in spans if s.process == "psp"}


async def _purchase(
    client: httpx.AsyncClient, admin: Account, player: Account, method: str
) -> tuple[str, str]:
    """Buy a new game under a trace the test starts; the trace id and the root span id."""
    trace_id, root = os.urandom(16).hex(), os.urandom(8).hex()
    game = await new_game(client, admin)
    client.headers["traceparent"] = f"00-{trace_id}-{root}-01"
    try:
        response = await buy(client, player, game["id"], method)
    finally:
        del client.headers["traceparent"]
    assert response.status_code == 202, response.text
    await order_reaches(client, player, response.json()["order_id"], "completed")

    async def notified() -> bool:
        return any(game["title"] in n["message"] for n in await notifications(client, player))

    await eventually(notified, timeout=SAGA_TIMEOUT, what="the purchase's notification")
    return trace_id, root


async def _trace_reaching(
    receiver: Receiver, trace_id: str, processes: set[str]
) -> list[ReceivedSpan]:
    async def reached() -> list[ReceivedSpan] | None:
        spans = receiver.of_trace(trace_id)
        return spans if processes <= {s.process for s in spans} else None

    try:
        return await eventually(reached, timeout=SAGA_TIMEOUT, what="every process's spans")
    except AssertionError as timeout:
        seen = sorted({s.process for s in receiver.of_trace(trace_id)})
        wanted = sorted(processes)
        raise AssertionError(f"the trace reached only {seen}, not all of {wanted}") from timeout


def _assert_causal(spans: list[ReceivedSpan], root: str) -> None:
    """Every span hangs off the client's span through parents that were exported, and no
    child starts before its parent."""
    by_id = {span.span_id: span for span in spans}
    for span in spans:
        if span.parent_span_id == root:
            assert span.process == "gateway", span
            continue
        parent = by_id.get(span.parent_span_id)
        assert parent is not None, f"{span.process} {span.name!r}: its parent was not exported"
        assert parent.start <= span.start, f"{span.name!r} starts before its parent"


def _ancestors(span: ReceivedSpan, spans: list[ReceivedSpan]) -> set[str]:
    by_id, found = {s.span_id: s for s in spans}, set()
    while (parent := by_id.get(span.parent_span_id)) is not None:
        found.add(parent.span_id)
        span = parent
    return found


def _assert_logged(stack: Stack, trace_id: str, processes: set[str]) -> None:
    """The trace id is on the log lines of each process, and ``gamestore trace`` takes it."""
    for process in processes:
        assert f"trace_id={trace_id}" in stack.log_text(process), process
    shown = subprocess.run(
        [sys.executable, "-m", "gamestore", "trace", trace_id],
        env=stack.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stdout + shown.stderr
    for process in processes:
        assert process in shown.stdout, process
