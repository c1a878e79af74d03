"""``Idempotency-Key`` for unsafe requests (IETF draft "The Idempotency-Key HTTP Header Field").

A client that may retry a POST sends a key; the service runs the request once per key and
answers every retry with the first answer. Keys are scoped per ``(user_id, route)``: two users
(or two routes) never see each other's keys. The rules:

- a new key is reserved (row ``in_progress``), the request runs, its answer is stored (``done``);
- the same key and the same body once ``done`` → the stored status and body, replayed
  (the response also carries ``Idempotent-Replayed: true``);
- the same key with a different body (sha256 of the canonical JSON) → 422;
- the same key while the first request still runs → 409 with ``Retry-After`` (the client
  retries later);
- an empty key or one over 255 characters → 422;
- a request that raised (a 4xx of the use case, a crash of the code) releases its key: the
  client may retry it. Only successful answers are stored.

Use, in a service (the table on the service's metadata, so its migrations create it)::

    keys_table = idempotency_table(metadata)
    keys = Idempotency(engine, keys_table)

    @router.post("/things", status_code=202)
    async def create(body: ThingIn, user: CurrentUser, response: Response, key: IdempotencyKey):
        request = keys.request(key, user.user_id, "POST /things", body.model_dump(mode="json"))

        async def run(finish: Finish) -> Stored:
            thing = await things.create(..., before_commit=lambda conn, t: finish(conn, 202, {...}))
            return Stored(202, {...})

        stored = await keys.run(request, run)   # request is None when no key was sent
        return stored.respond(response)

``run`` gets ``finish(conn, status, body)``: calling it INSIDE the transaction of the effect
stores the answer in that same transaction, so the effect and its stored answer commit together
or not at all. A run that never calls it has its answer stored right after it returns.

Crashes: the reservation is a short transaction of its own (so a concurrent retry can see it and
answer 409). It is a lease: ``lease`` seconds (10 by default), renewed every third of that for
as long as the run goes on, so a long request keeps its key. A process that dies while running
stops renewing; at most ``lease`` seconds later the next request with that key takes it over and
runs it, once. ``finish`` checks that the reservation is still this run's: a run that outlived
its lease (its renewals could not land) and lost the key to a retry raises :class:`LeaseLost`,
which rolls its effect back instead of committing it twice.
Concurrency: the primary key ``(user_id, route, key)`` makes the reservation race-free on
SQLite and PostgreSQL (an ``INSERT … ON CONFLICT DO NOTHING``; the loser reads the winner).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Header, Response
from fastapi.responses import JSONResponse
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.platform.clock import utcnow
from gamestore.platform.db import Upsert, UtcDateTime
from gamestore.platform.field_errors import message
from gamestore.platform.http import ProblemError
from gamestore.platform.http.codes import define
from gamestore.platform.i18n import N_
from gamestore.platform.logs import get_logger

log = get_logger("idempotency")
KEY_MAX = 255
# visible ASCII, spaces only inside (HTTP trims a header value's own): what a UUID or a
# client's token is made of, and what the document can state
KEY_PATTERN = f"^[!-~](?:[ -~]{{0,{KEY_MAX - 2}}}[!-~])?$"
HEADER = "Idempotency-Key"
IN_PROGRESS, DONE = "in_progress", "done"
REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="Any unique string of 1 to 255 visible ASCII characters: a retry with the "
        "same key and body gets the first answer again, without doing the work twice.",
        pattern=KEY_PATTERN,
    ),
]


def idempotency_table(metadata: MetaData) -> Table:
    """The ``idempotency_keys`` table, declared on the service's own metadata."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("user_id", String(255), primary_key=True),
        Column("route", String(200), primary_key=True),
        Column("key", String(KEY_MAX), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("state", String(16), nullable=False),
        Column("owner", String(36), nullable=False),  # the run holding the reservation
        Column("locked_until", UtcDateTime, nullable=False),
        Column("status_code", Integer),
        Column("response", JSON),
        Column("created_at", UtcDateTime, nullable=False),
    )


class LeaseLost(ProblemError):
    """The run outlived its lease and a retry took the key over; its effect must roll back."""

    def __init__(self) -> None:
        super().__init__(409, "A retry with the same Idempotency-Key took this request over.")


@dataclass(frozen=True, slots=True)
class Stored:
    """An answer: what the first run returned, or what a replay returns again."""

    status: int
    body: Any
    replayed: bool = False

    def respond(self, response: Response | None = None) -> JSONResponse:
        """The answer as a JSON response (headers already set on ``response`` are kept)."""
        headers = dict(response.headers) if response is not None else {}
        headers.pop("content-length", None)
        if self.replayed:
            headers[REPLAYED_HEADER] = "true"
        return JSONResponse(self.body, status_code=self.status, headers=headers)


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    """A request with its key, its scope and the fingerprint of its body."""

    key: str
    user_id: str
    route: str
    fingerprint: str


Finish = Callable[[AsyncConnection, int, Any], Awaitable[None]]
Run = Callable[[Finish], Awaitable[Stored]]


def fingerprint(body: Any) -> str:
    """sha256 of the body as canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


KEY_INVALID = define(
    422,
    "idempotency_key_invalid",
    N_("%(header)s must have 1 to %(max)s visible ASCII characters."),
)
KEY_REUSED = define(
    422,
    "idempotency_key_reused",
    N_("This %(header)s was used with a different request body."),
)
KEY_IN_USE = define(
    409,
    "idempotency_key_in_use",
    N_("A request with this %(header)s is still being processed."),
)


def check_key(key: str) -> str:
    """The key itself; 422 when it is not 1 to 255 visible ASCII characters."""
    if not re.fullmatch(KEY_PATTERN.strip("^$"), key):  # ($ would allow a final line break)
        code, limits = "idempotency_key_invalid", {"max": KEY_MAX}
        field = {"loc": ["header", HEADER], "code": code, "msg": message(code, limits)}
        raise ProblemError.of(KEY_INVALID, errors=[field], header=HEADER, max=KEY_MAX)
    return key


def _seconds_until(moment: datetime) -> str:
    """``Retry-After`` for a reservation held until ``moment``: whole seconds, at least 1."""
    return str(max(1, math.ceil((moment - utcnow()).total_seconds())))


async def _no_finish(conn: AsyncConnection, status: int, body: Any) -> None:
    return None


class Idempotency:
    """Runs keyed requests once per key (see the module docstring)."""

    def __init__(
        self,
        engine: AsyncEngine,
        table: Table,
        *,
        lease: float = 10.0,
        renew_every: float | None = None,
    ) -> None:
        self._engine = engine
        self._table = table
        self._insert_key = Upsert(
            table,
            lambda insert: insert.on_conflict_do_nothing(
                index_elements=["user_id", "route", "key"]
            ),
        )
        self._lease = timedelta(seconds=lease)
        self._renew_every = lease / 3 if renew_every is None else renew_every

    def request(self, key: str | None, user_id: str, route: str, body: Any) -> KeyedRequest | None:
        """The keyed request, or None when the client sent no key (422 for a malformed one)."""
        if key is None:
            return None
        return KeyedRequest(check_key(key), user_id, route, fingerprint(body))

    async def run(self, request: KeyedRequest | None, run: Run) -> Stored:
        """``run`` once for this key, or the stored answer; 409 / 422 as the module says."""
        if request is None:
            return await run(_no_finish)
        owner = str(uuid.uuid4())
        stored = await self._reserve(request, owner)
        if stored is not None:
            return stored
        finished = False

        async def finish(conn: AsyncConnection, status: int, body: Any) -> None:
            nonlocal finished
            await self._finish(conn, request, owner, Stored(status, body))
            finished = True

        keeper = asyncio.create_task(self._keep(request, owner))
        try:
            answer = await run(finish)
        except BaseException:
            keeper.cancel()
            await self._release(request, owner)
            raise
        keeper.cancel()
        if not finished:
            async with self._engine.begin() as conn:
                await self._finish(conn, request, owner, answer)
        return answer

    async def _reserve(self, request: KeyedRequest, owner: str) -> Stored | None:
        """Reserve the key for ``owner`` (None), or answer with what it already holds."""
        while True:
            async with self._engine.begin() as conn:
                if await self._insert(conn, request, owner):
                    return None
                row = (await conn.execute(self._select(request))).first()
                if row is None:
                    continue  # released between our insert and our read: try again
                if row.fingerprint != request.fingerprint:
                    raise ProblemError.of(KEY_REUSED, header=HEADER)
                if row.state == DONE:
                    log.info("idempotent replay", route=request.route, status=row.status_code)
                    return Stored(row.status_code, row.response, replayed=True)
                if row.locked_until > utcnow():
                    wait = {"Retry-After": _seconds_until(row.locked_until)}
                    raise ProblemError.of(KEY_IN_USE, headers=wait, header=HEADER)
                if await self._take_over(conn, request, row.owner, owner):
                    log.warning("expired idempotency reservation taken over", route=request.route)
                    return None

    async def _insert(self, conn: AsyncConnection, request: KeyedRequest, owner: str) -> bool:
        now = utcnow()
        row = {
            "user_id": request.user_id,
            "route": request.route,
            "key": request.key,
            "fingerprint": request.fingerprint,
            "state": IN_PROGRESS,
            "owner": owner,
            "locked_until": now + self._lease,
            "created_at": now,
        }
        return (await self._insert_key.execute(conn, row)).rowcount == 1

    async def _take_over(
        self, conn: AsyncConnection, request: KeyedRequest, previous: str, owner: str
    ) -> bool:
        statement = (
            update(self._table)
            .where(self._matches(request), self._table.c.owner == previous)
            .where(self._table.c.state == IN_PROGRESS)
            .values(owner=owner, locked_until=utcnow() + self._lease)
        )
        return (await conn.execute(statement)).rowcount == 1

    async def _finish(
        self, conn: AsyncConnection, request: KeyedRequest, owner: str, answer: Stored
    ) -> None:
        statement = (
            update(self._table)
            .where(self._matches(request), self._table.c.owner == owner)
            .where(self._table.c.state == IN_PROGRESS)
            .values(state=DONE, status_code=answer.status, response=answer.body)
        )
        if (await conn.execute(statement)).rowcount != 1:
            raise LeaseLost()

    async def _keep(self, request: KeyedRequest, owner: str) -> None:
        """Renew the reservation while its run goes on. A renewal that fails (the database is
        away) is simply tried again at the next turn; if the lease runs out meanwhile, a
        retry may take the key and ``finish`` then says so (:class:`LeaseLost`)."""
        renew = (
            update(self._table)
            .where(self._matches(request), self._table.c.owner == owner)
            .where(self._table.c.state == IN_PROGRESS)
        )
        while True:
            await asyncio.sleep(self._renew_every)
            with contextlib.suppress(Exception):
                async with self._engine.begin() as conn:
                    await conn.execute(renew.values(locked_until=utcnow() + self._lease))

    async def _release(self, request: KeyedRequest, owner: str) -> None:
        """Forget a reservation whose run failed, so the client may retry with the same key."""
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(self._table).where(
                    self._matches(request),
                    self._table.c.owner == owner,
                    self._table.c.state == IN_PROGRESS,
                )
            )

    async def forget_before(self, moment: datetime) -> int:
        """Delete answered keys created before ``moment`` (housekeeping); how many went."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(self._table).where(
                    self._table.c.created_at < moment, self._table.c.state == DONE
                )
            )
        return int(result.rowcount)

    def _matches(self, request: KeyedRequest) -> Any:
        c = self._table.c
        return (c.user_id == request.user_id) & (c.route == request.route) & (c.key == request.key)

    def _select(self, request: KeyedRequest) -> Any:
        return select(self._table).where(self._matches(request))
