"""A tiny service schema with an outbox, shared by the outbox tests and their crash child."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.platform.eventstore import NO_STREAM, NewEvent
from gamestore.platform.outbox import Outbox, outbox_table

metadata = MetaData()
games = Table(
    "games",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("version", Integer, nullable=False),
)
outbox = Outbox(outbox_table(metadata))


async def create_game(engine: AsyncEngine, game_id: str, title: str) -> None:
    """One unit of work: the game row and its GameCreated event commit together."""
    async with engine.begin() as conn:
        await conn.execute(games.insert().values(id=game_id, title=title, version=1))
        await outbox.add(
            conn,
            f"game-{game_id}",
            [NewEvent(type="GameCreated", data={"id": game_id, "title": title})],
            expected_version=NO_STREAM,
        )


async def rename_game(engine: AsyncEngine, game_id: str, title: str) -> None:
    """A second unit of work on the same stream: the relay must keep it after the creation."""
    async with engine.begin() as conn:
        await conn.execute(games.update().where(games.c.id == game_id).values(title=title))
        await outbox.add(
            conn,
            f"game-{game_id}",
            [NewEvent(type="GameRenamed", data={"id": game_id, "title": title})],
            expected_version=1,
        )
