"""``gamestore seed``: a demo catalog written through the games service's own use case.

Each game is created by :class:`~gamestore.games.catalog.Catalog` on the games database, so its
``GameCreated`` event goes through the outbox like any admin write; the running games process
(or its next start) relays the events to the event store, and the indexer indexes them.
A demo game has a stable id (:func:`~gamestore.games.demo.demo_id`): one created before is
skipped even if an admin renamed or delisted it since, and so is a title already listed; running
it again adds nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.cli.common import console
from gamestore.games.catalog import Catalog
from gamestore.games.demo import demo_catalog
from gamestore.games.domain import GameExists, TitleTaken
from gamestore.games.sql_repository import games_unit_of_work
from gamestore.games.tables import games
from gamestore.migrations import open_database
from gamestore.platform.config import Settings
from gamestore.platform.logs import get_logger
from gamestore.platform.outbox import without_own_relay
from gamestore.platform.uow import NO_RELAY

log = get_logger("seed")


@dataclass(frozen=True, slots=True)
class SeedReport:
    created: int
    skipped: int


def progress_bar() -> Progress:
    """The progress bar the long-running commands share."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console(),
        transient=False,
    )


async def seed_catalog(
    engine: AsyncEngine, count: int, seed: int = 42, progress: Progress | None = None
) -> SeedReport:
    """Create ``count`` demo games (deterministic for ``seed``), skipping those created before
    (by id, whatever happened to them since) and titles already listed."""
    catalog = Catalog(games_unit_of_work(engine, wake=NO_RELAY))  # the games process relays
    task = progress.add_task("Seeding games", total=count) if progress else None
    created = skipped = 0
    for game in demo_catalog(count, seed):
        try:
            await catalog.create(game.fields, game_id=game.id)
            created += 1
        except (GameExists, TitleTaken):
            skipped += 1
        if progress is not None and task is not None:
            progress.advance(task)
    log.info("demo catalog seeded", created=created, skipped=skipped)
    return SeedReport(created, skipped)


async def listed_games(engine: AsyncEngine) -> int:
    """How many listed games the catalog holds."""
    async with engine.connect() as conn:
        query = select(func.count()).select_from(games).where(games.c.deleted_at.is_(None))
        return int((await conn.execute(query)).scalar_one())


async def open_games_database(settings: Settings) -> AsyncEngine:
    """The games database, its schema at head (migrated here where processes may migrate)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return await open_database(settings, "games")


async def run_seed(settings: Settings, count: int, seed: int, *, only_if_empty: bool) -> int:
    """Seed the configured games database; with ``only_if_empty``, only an empty catalog.
    Returns how many games were created."""
    without_own_relay()  # the games process relays what this stages, at once
    engine = await open_games_database(settings)
    try:
        if only_if_empty and await listed_games(engine) > 0:
            return 0
        with progress_bar() as progress:
            report = await seed_catalog(engine, count, seed, progress)
    finally:
        await engine.dispose()
    console().print(f"{report.created} games created, {report.skipped} already there.")
    return report.created


def seed(
    games_: Annotated[int, typer.Option("--games", min=1, help="How many games.")] = 300,
    seed_: Annotated[int, typer.Option("--seed", help="Same seed, same catalog.")] = 42,
) -> None:
    """Fill the catalog with the demo catalog: real games first, then fictional ones (games
    seeded before, and titles already there, are skipped)."""
    asyncio.run(run_seed(Settings(), games_, seed_, only_if_empty=False))
