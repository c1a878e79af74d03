"""The indexer's own database: its inbox and the exact purchase tally.

The tally (``purchases``) is committed with the inbox claim of each ``PurchaseCompleted``, so it
never double-counts, unlike the index's popularity counter (see the package doc).
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.platform.db import Upsert
from gamestore.platform.inbox import inbox_table

metadata = MetaData()
inbox = inbox_table(metadata)
purchases = Table(
    "purchases",
    metadata,
    Column("game_id", String(36), primary_key=True),
    Column("count", Integer, nullable=False),
)

_COUNT_PURCHASE = Upsert(
    purchases,
    lambda insert: insert.on_conflict_do_update(
        index_elements=["game_id"], set_={"count": purchases.c.count + 1}
    ),
)


async def add_purchase(conn: AsyncConnection, game_id: str) -> None:
    """Count one more purchase of ``game_id`` (in the caller's transaction, with the claim)."""
    await _COUNT_PURCHASE.execute(conn, {"game_id": game_id, "count": 1})


async def purchase_counts(engine: AsyncEngine) -> dict[str, int]:
    """The exact number of purchases the indexer counted, per game id."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(purchases.c.game_id, purchases.c.count))
        return {game_id: int(count) for game_id, count in rows}
