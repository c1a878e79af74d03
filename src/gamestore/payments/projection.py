"""``payments_view``: one row per payment, for lists (``GET /pagamento?order_id``).

The consumer group ``payments-view`` hands pages of Payment events to
:meth:`PaymentsView.apply_batch`, which folds each payment's whole stream and upserts the rows at
the folded versions, one transaction per page; an older
version never overwrites a newer one, so duplicated or reordered deliveries cannot take the row
backwards. ``PaymentSucceeded`` also marks the order paid. Single payments are never read from
here: ``GET /pagamento/{id}`` folds the stream, always current.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.payments.domain import Payment, fold
from gamestore.payments.events import PaymentSucceeded
from gamestore.payments.tables import payment_orders, payments_view
from gamestore.platform.auth import Principal
from gamestore.platform.db import Upsert, read_only
from gamestore.platform.eventstore import EventStore, RecordedEvent
from gamestore.platform.logs import correlation, get_logger

log = get_logger("payments")
VIEW_COLUMNS = (
    "id",
    "order_id",
    "user_id",
    "amount_cents",
    "currency",
    "status",
    "failure_reason",
    "attempts",
    "version",
    "created_at",
    "updated_at",
)


def view_row(payment: Payment) -> dict[str, Any]:
    """The ``payments_view`` row of a folded payment."""
    return {
        "id": payment.id,
        "order_id": payment.order_id,
        "user_id": payment.user_id,
        "amount_cents": payment.amount_cents,
        "currency": payment.currency,
        "status": payment.status,
        "failure_reason": payment.failure_reason,
        "attempts": payment.attempts,
        "version": payment.version,
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
    }


_UPSERT_VIEW = Upsert(
    payments_view,
    lambda insert: insert.on_conflict_do_update(
        index_elements=["id"],
        set_={name: insert.excluded[name] for name in VIEW_COLUMNS if name != "id"},
        where=payments_view.c.version < insert.excluded.version,
    ),
)


async def upsert_view(conn: AsyncConnection, payment: Payment) -> bool:
    """Write the payment's row unless the stored one is as new or newer; True if written."""
    return bool((await _UPSERT_VIEW.execute(conn, view_row(payment))).rowcount)


@dataclass(frozen=True, slots=True)
class PaymentsPage:
    items: list[dict[str, Any]]
    total: int


class PaymentsView:
    """The projection (writes) and its queries (reads)."""

    def __init__(self, engine: AsyncEngine, store: EventStore) -> None:
        self._engine = engine
        self._store = store

    async def apply(self, event: RecordedEvent) -> None:
        """Bring the row of the event's payment up to date (idempotent, never backwards)."""
        await self.apply_batch([event])

    async def apply_batch(self, events: list[RecordedEvent]) -> None:
        """The bus handler: the rows of a page's payments in ONE transaction, each payment's
        stream folded once (its newest state serves every event of it in the page)."""
        newest = {event.stream_id: event for event in events}  # per payment, its last event
        succeeded = {event.stream_id for event in events if event.type == PaymentSucceeded.TYPE}
        folded = [(e, fold(await self._store.read_stream(s))) for s, e in newest.items()]
        async with self._engine.begin() as conn:
            for event, payment in folded:
                if payment is not None:
                    with correlation(event.correlation_id):
                        await _project(conn, payment, paid=event.stream_id in succeeded)

    async def page(
        self, caller: Principal, order_id: str | None, page: int, size: int
    ) -> PaymentsPage:
        """The caller's payments (an admin's: everyone's), newest first, one page."""
        c = payments_view.c
        where = []
        if not caller.is_admin:
            where.append(c.user_id == caller.user_id)
        if order_id is not None:
            where.append(c.order_id == order_id)
        query = select(payments_view).where(*where)
        ordered = query.order_by(c.created_at.desc(), c.id).offset((page - 1) * size).limit(size)
        async with read_only(self._engine) as conn:
            total = await conn.scalar(select(func.count()).select_from(query.subquery()))
            rows = (await conn.execute(ordered)).mappings().all()
        items = [{k: v for k, v in row.items() if k != "version"} for row in rows]
        return PaymentsPage(items, int(total or 0))


async def _project(conn: AsyncConnection, payment: Payment, *, paid: bool) -> None:
    """Upsert the payment's row; ``paid``: a success of it was delivered, the order is paid."""
    written = await upsert_view(conn, payment)
    if paid:
        await conn.execute(
            update(payment_orders)
            .where(payment_orders.c.order_id == payment.order_id)
            .values(paid=True, updated_at=payment.updated_at)
        )
    log.info(
        "payment view updated" if written else "payment view already current",
        payment_id=payment.id,
        version=payment.version,
        status=payment.status,
    )
