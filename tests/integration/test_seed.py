"""``gamestore seed`` and ``up --demo``'s seeding: real games database, outbox and event store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gamestore.cli import app
from gamestore.cli.seed import listed_games, open_games_database, run_seed, seed_catalog
from gamestore.games.catalog import Catalog
from gamestore.games.demo import curated_games, demo_catalog, demo_games
from gamestore.games.domain import GameExists
from gamestore.games.schemas import GameIn
from gamestore.games.sql_repository import games_unit_of_work
from gamestore.games.tables import outbox
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import connect
from gamestore.platform.outbox import OutboxRelay
from gamestore.platform.uow import NO_RELAY

runner = CliRunner()
WITCHER_AND_HADES = {"curated:the-witcher-3", "curated:hades"}


def test_the_demo_catalog_is_deterministic_unique_and_valid_for_the_api() -> None:
    games = list(demo_games(3000, seed=7))
    assert games == list(demo_games(3000, seed=7))
    assert games != list(demo_games(3000, seed=8))
    assert len({g.title.casefold() for g in games}) == 3000
    titles = [g.title for g in games]
    for known in ("The Witcher 3: Wild Hunt", "Pokémon Legends: Arceus", "Hades", "Celeste"):
        assert known in titles
    for game in games:  # every game passes the same validation as POST /jogos
        body = {
            **{k: getattr(game, k) for k in ("title", "description", "developer", "publisher")},
            "genres": list(game.genres),
            "platforms": list(game.platforms),
            "tags": list(game.tags),
            "price_cents": game.price_cents,
            "release_date": game.release_date.isoformat(),
        }
        assert GameIn.model_validate(body).fields() == game


async def test_seed_writes_games_and_their_events_through_the_outbox_and_is_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GAMESTORE_GAMES_DB_URL", raising=False)
    settings = Settings(data_dir=tmp_path / "data", eventstore_url=f"sqlite:///{tmp_path}/ev.db")
    assert await run_seed(settings, 40, 1, only_if_empty=False) == 40
    engine = await open_games_database(settings)
    store = await connect(settings.event_store_url)
    try:
        assert await listed_games(engine) == 40
        again = await seed_catalog(engine, 50, seed=1)  # the first 40 are the same titles
        assert (again.created, again.skipped) == (10, 40)
        assert await listed_games(engine) == 50
        relay = OutboxRelay(engine, store, outbox.table)
        while await relay.relay_once():
            pass
        events = await store.read_all(0, 1000)
        assert [e.type for e in events] == ["GameCreated"] * 50
        assert {e.data["title"] for e in events} == {g.title for g in demo_games(50, seed=1)}
        assert all(e.version == 1 and e.stream_id == f"game-{e.data['id']}" for e in events)
    finally:
        await store.close()
        await engine.dispose()


async def test_demo_seeding_only_fills_an_empty_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GAMESTORE_GAMES_DB_URL", raising=False)
    settings = Settings(data_dir=tmp_path / "data", eventstore_url=f"sqlite:///{tmp_path}/ev.db")
    assert (
        await run_seed(settings, len(curated_games()) + 5, 3, only_if_empty=True)
        == len(curated_games()) + 5
    )
    assert await run_seed(settings, 100, 4, only_if_empty=True) == 0  # not empty: untouched
    engine = await open_games_database(settings)
    try:
        assert await listed_games(engine) == len(curated_games()) + 5
    finally:
        await engine.dispose()


async def test_a_renamed_or_delisted_demo_game_is_not_seeded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GAMESTORE_GAMES_DB_URL", raising=False)
    settings = Settings(data_dir=tmp_path / "data", eventstore_url=f"sqlite:///{tmp_path}/ev.db")
    engine = await open_games_database(settings)
    try:
        assert (await seed_catalog(engine, 6, seed=2)).created == 6
        witcher, hades = (g for g in demo_catalog(6, seed=2) if g.key in WITCHER_AND_HADES)
        catalog = Catalog(games_unit_of_work(engine, wake=NO_RELAY))
        renamed = replace(witcher.fields, title="The Witcher 3: Wild Hunt (GOTY)")
        await catalog.replace(witcher.id, renamed)
        await catalog.delist(hades.id)

        again = await seed_catalog(engine, 6, seed=2)

        assert (again.created, again.skipped) == (0, 6)
        assert await listed_games(engine) == 5
        titles = {game.title for game in (await catalog.page(1, 50))[0]}
        assert "The Witcher 3: Wild Hunt (GOTY)" in titles
        assert "The Witcher 3: Wild Hunt" not in titles and "Hades" not in titles
        with pytest.raises(GameExists):  # the id is taken for good, whatever the title
            await catalog.create(replace(hades.fields, title="Another"), game_id=hades.id)
    finally:
        await engine.dispose()


def test_the_seed_command_reports_what_it_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GAMESTORE_GAMES_DB_URL", raising=False)
    monkeypatch.setenv("GAMESTORE_DATA_DIR", str(tmp_path / "data"))
    first = runner.invoke(app, ["seed", "--games", "25"])
    assert first.exit_code == 0, first.output
    assert "25 games created, 0 already there." in first.output
    second = runner.invoke(app, ["seed", "--games", "30"])
    assert "5 games created, 25 already there." in second.output
    assert runner.invoke(app, ["seed", "--games", "0"]).exit_code != 0
