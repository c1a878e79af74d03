"""Catalog use cases through an in-memory unit of work: what each write decides and emits."""

from __future__ import annotations

from pathlib import Path

import pytest

from gamestore.games.catalog import Catalog
from gamestore.games.covers.service import Covers
from gamestore.games.covers.storage import open_cover_storage
from gamestore.games.domain import GameExists, GameNotFound, PreconditionFailed, TitleTaken
from gamestore.games.events import GameCreated, GameDeleted, GameUpdated
from gamestore.platform.eventstore import NO_STREAM
from tests.covers_support import image_bytes
from tests.unit.games.support import FIELDS, memory_uow, titled


async def test_a_created_game_emits_its_document_on_a_new_stream_and_wakes_once() -> None:
    uow = memory_uow()
    game = await Catalog(uow).create(FIELDS)
    [emitted] = uow.committed
    assert (emitted.stream_id, emitted.expected_version) == (f"game-{game.id}", NO_STREAM)
    [event] = emitted.events
    assert event.type == "GameCreated"
    assert GameCreated.parse(event.data) == GameCreated.of(game)
    assert (event.data["title"], event.data["version"]) == ("Celeste", 1)
    assert uow.wakes == 1


async def test_a_title_taken_by_a_listed_game_emits_nothing() -> None:
    uow = memory_uow()
    catalog = Catalog(uow)
    await catalog.create(FIELDS)
    with pytest.raises(TitleTaken):
        await catalog.create(titled("  CELESTE "))  # case and spacing do not make it new
    assert uow.types() == ["GameCreated"] and uow.wakes == 1


async def test_a_chosen_id_is_taken_for_good_even_once_delisted() -> None:
    uow = memory_uow()
    catalog = Catalog(uow)
    game = await catalog.create(FIELDS)
    await catalog.delist(game.id)
    with pytest.raises(GameExists):
        await catalog.create(titled("Another"), game_id=game.id)
    assert uow.types() == ["GameCreated", "GameDeleted"]


async def test_an_update_expects_the_version_it_replaced() -> None:
    uow = memory_uow()
    catalog = Catalog(uow)
    game = await catalog.create(FIELDS)
    updated = await catalog.replace(game.id, titled("Celeste Classic"), frozenset({1}))
    assert updated.version == 2
    emitted = uow.committed[-1]
    assert (emitted.stream_id, emitted.expected_version) == (f"game-{game.id}", 1)
    assert GameUpdated.parse(emitted.events[0].data).title == "Celeste Classic"
    assert uow.wakes == 2


async def test_an_update_with_a_stale_version_emits_nothing() -> None:
    uow = memory_uow()
    catalog = Catalog(uow)
    game = await catalog.create(FIELDS)
    await catalog.replace(game.id, titled("Celeste Classic"))
    with pytest.raises(PreconditionFailed):
        await catalog.replace(game.id, titled("Celeste 2"), frozenset({1}))
    assert uow.types() == ["GameCreated", "GameUpdated"] and uow.wakes == 2


async def test_an_update_that_changes_nothing_is_no_new_version_and_no_event() -> None:
    uow = memory_uow()
    catalog = Catalog(uow)
    game = await catalog.create(FIELDS)
    assert (await catalog.replace(game.id, FIELDS)).version == 1
    assert uow.types() == ["GameCreated"] and uow.wakes == 1


async def test_a_delisting_emits_game_deleted_and_the_game_is_gone_from_the_catalog() -> None:
    uow = memory_uow()
    catalog = Catalog(uow)
    game = await catalog.create(FIELDS)
    await catalog.delist(game.id)
    emitted = uow.committed[-1]
    assert emitted.expected_version == 1
    deleted = GameDeleted.parse(emitted.events[0].data)
    assert (deleted.version, deleted.deleted_at) == (2, deleted.updated_at)
    with pytest.raises(GameNotFound):
        await catalog.get(game.id)
    assert (await catalog.owned(game.id)).version == 2  # libraries still show it
    with pytest.raises(GameNotFound):
        await catalog.delist(game.id)
    assert uow.wakes == 2


async def test_a_cover_upload_emits_game_updated_with_the_new_cover(tmp_path: Path) -> None:
    uow = memory_uow()
    catalog = Catalog(uow)
    covers = Covers(uow, open_cover_storage(None, tmp_path))
    game = await catalog.create(FIELDS)
    covered = await covers.upload(game.id, image_bytes("PNG"))
    emitted = uow.committed[-1]
    assert (emitted.stream_id, emitted.expected_version) == (f"game-{game.id}", 1)
    updated = GameUpdated.parse(emitted.events[0].data)
    assert (updated.version, updated.cover.generated) == (2, False)
    assert updated == GameUpdated.of(covered)
    await covers.remove(game.id)
    assert GameUpdated.parse(uow.events()[-1].data).cover.generated
    assert uow.types() == ["GameCreated", "GameUpdated", "GameUpdated"] and uow.wakes == 3
