"""Charges: test-card outcomes, Stripe-like idempotency keys, and the ledger they land in.

A key is claimed first (one row per key: the primary key makes the claim race-free), the charge
is decided while the claim is held (a second request with the key meanwhile gets 409), then the
charge, its first response and its webhook are written in ONE transaction. Only final answers
(succeeded, failed, processing) are bound to a key; a processing error releases the claim, so a
retry really retries.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.psp import logs
from gamestore.psp.tables import charges, idempotency_keys, rfc3339
from gamestore.psp.webhooks import new_webhook
from gamestore.psp.wire import Charge, ChargeRequest, Outcome

STATUS_CODES = {"succeeded": 200, "failed": 402, "processing": 202}
CLAIM_EXPIRES_SECONDS = 60.0  # a claim older than this belonged to a request that died


class KeyInUse(Exception):
    """The idempotency key was used with a different request body."""


class KeyInFlight(Exception):
    """A request with the same idempotency key is still being processed."""


class ProcessingError(Exception):
    """The card's issuer failed transiently (nothing stored; retrying retries)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The HTTP status and body of a charge, and whether it is a replay of the first answer."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def request_hash(request: ChargeRequest) -> str:
    """Fingerprint of a request body: the same fields and values give the same hash."""
    canonical = json.dumps(request.model_dump(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def charge_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A ledger row as the wire's ``Charge``."""
    fields = {k: row[k] for k in Charge.model_fields if k not in ("object",) and k in row}
    fields["created_at"] = rfc3339(row["created_at"])
    fields["updated_at"] = rfc3339(row["updated_at"])
    return Charge(**fields).model_dump()


def _status_of(outcome: Outcome) -> tuple[str, str | None]:
    if outcome is Outcome.SUCCEEDED:
        return "succeeded", None
    if outcome is Outcome.ASYNC:
        return "processing", None
    return "failed", outcome.value


async def create_charge(
    engine: AsyncEngine,
    request: ChargeRequest,
    outcome: Outcome,
    key: str,
    *,
    request_id: str | None,
    traceparent: str | None = None,
    latency: float = 0.0,
    async_delay: float = 0.5,
) -> Answer:
    """Charge once per idempotency key; raises KeyInUse, KeyInFlight or ProcessingError."""
    locked_at = time.time()
    replay = await _claim(engine, key, request_hash(request), locked_at)
    if replay is not None:
        return replay
    try:
        if outcome is Outcome.PROCESSING_ERROR:
            raise ProcessingError(outcome.value)
        row = _new_charge(request, outcome, key, request_id, async_delay)
        row["traceparent"] = traceparent
        answer = await _record(engine, key, locked_at, row)
    except BaseException:
        await asyncio.shield(_release(engine, key, locked_at))
        raise
    if latency > 0:
        # the charge is taken; its answer is slow to come back (a caller that gives up or dies
        # now has been charged without knowing it: what idempotency keys are for)
        await asyncio.sleep(latency)
    return answer


async def _claim(engine: AsyncEngine, key: str, digest: str, now: float) -> Answer | None:
    """Claim ``key`` (None), or the first answer to replay; raises KeyInUse / KeyInFlight.

    INSERT … ON CONFLICT DO NOTHING, not a caught IntegrityError: on PostgreSQL it waits for a
    concurrent claimer to commit; on SQLite a failed INSERT under aiosqlite could leave the
    write lock held by a pooled connection.
    """
    async with engine.begin() as conn:
        values = {"idempotency_key": key, "request_hash": digest, "locked_at": now}
        claimed = await conn.execute(_insert_new(engine, values))
        if claimed.rowcount == 1:
            return None
        query = select(idempotency_keys).where(idempotency_keys.c.idempotency_key == key)
        row = (await conn.execute(query)).mappings().one_or_none()
        if row is None:
            raise KeyInFlight(key)  # released just now: the caller may retry
        if row["request_hash"] != digest:
            raise KeyInUse(key)
        if row["charge_id"] is not None:
            body = json.loads(row["response_body"])
            return Answer(row["response_status"], body, replayed=True)
        if now - row["locked_at"] < CLAIM_EXPIRES_SECONDS:
            raise KeyInFlight(key)
        taken = await conn.execute(
            _unbound(key, row["locked_at"]).values(locked_at=now)  # take over a dead claim
        )
        if taken.rowcount != 1:
            raise KeyInFlight(key)
    return None


def _insert_new(engine: AsyncEngine, values: dict[str, Any]) -> Any:
    """INSERT a key row unless the key exists (rowcount says which)."""
    dialect_insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    return dialect_insert(idempotency_keys).values(values).on_conflict_do_nothing()


def _unbound(key: str, locked_at: float) -> Any:
    """An UPDATE of our claim on ``key``, if it is still ours and still unbound."""
    return update(idempotency_keys).where(
        idempotency_keys.c.idempotency_key == key,
        idempotency_keys.c.charge_id.is_(None),
        idempotency_keys.c.locked_at == locked_at,
    )


async def _release(engine: AsyncEngine, key: str, locked_at: float) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.idempotency_key == key,
                idempotency_keys.c.charge_id.is_(None),
                idempotency_keys.c.locked_at == locked_at,
            )
        )


def _new_charge(
    request: ChargeRequest, outcome: Outcome, key: str, request_id: str | None, delay: float
) -> dict[str, Any]:
    now = time.time()
    status, failure_code = _status_of(outcome)
    return {
        **request.model_dump(),
        "id": "ch_" + uuid.uuid4().hex,
        "idempotency_key": key,
        "status": status,
        "failure_code": failure_code,
        "request_id": request_id,
        "complete_at": now + delay if status == "processing" else None,
        "created_at": now,
        "updated_at": now,
    }


async def _record(engine: AsyncEngine, key: str, locked_at: float, row: dict[str, Any]) -> Answer:
    """Write the charge, bind it and its answer to the key, and stage its webhook: all or none."""
    answer = Answer(STATUS_CODES[row["status"]], charge_view(row))
    async with engine.begin() as conn:
        bound = await conn.execute(
            _unbound(key, locked_at).values(
                charge_id=row["id"],
                response_status=answer.status_code,
                response_body=json.dumps(answer.body),
            )
        )
        if bound.rowcount != 1:
            raise KeyInFlight(key)  # our claim expired and another request took it over
        await conn.execute(insert(charges).values(row))
        if row["status"] != "processing":
            await conn.execute(new_webhook(row, row["created_at"]))
    return answer


async def complete_due(engine: AsyncEngine, now: float) -> int:
    """Async charges whose time has come succeed, each with its webhook; returns how many."""
    async with engine.begin() as conn:
        due = select(charges).where(charges.c.status == "processing", charges.c.complete_at <= now)
        rows = (await conn.execute(due.limit(100))).mappings().all()
        for row in rows:
            done = {"status": "succeeded", "updated_at": now, "complete_at": None}
            await conn.execute(update(charges).where(charges.c.id == row["id"]).values(done))
            await conn.execute(new_webhook({**row, **done}, now))
    for row in rows:
        token = logs.corr.set(row["request_id"] or "-")
        logs.info("async charge completed", payment_id=row["payment_id"], charge_id=row["id"])
        logs.corr.reset(token)
    return len(rows)


async def run_completer(engine: AsyncEngine, poll: float, on_done: Callable[[], None]) -> None:
    """Complete due async charges forever (until cancelled); ``on_done`` wakes the deliverer."""
    while True:
        try:
            if await complete_due(engine, time.time()):
                on_done()
        except Exception:
            logs.error("completing async charges failed")
        await asyncio.sleep(poll)


async def list_charges(engine: AsyncEngine, payment_id: str | None) -> list[dict[str, Any]]:
    """The ledger, oldest first, optionally only one payment's charges."""
    query = select(charges).order_by(charges.c.created_at, charges.c.id)
    if payment_id is not None:
        query = query.where(charges.c.payment_id == payment_id)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [charge_view(row) for row in rows]


async def get_charge(engine: AsyncEngine, charge_id: str) -> dict[str, Any] | None:
    async with engine.connect() as conn:
        query = select(charges).where(charges.c.id == charge_id)
        row = (await conn.execute(query)).mappings().one_or_none()
    return None if row is None else charge_view(row)
