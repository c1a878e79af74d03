"""The real ``indexer`` process, SIGKILLed mid-stream, resumes without losing an event."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gamestore.platform.config import sqlite_url
from gamestore.platform.eventstore import connect
from gamestore.search.index import SearchIndex, SearchQuery, open_search
from tests.integration.indexer.support import create, eventually, rename

GAMES = 3000  # several pages of the bus: the kill lands between two of them


def _environment(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAMESTORE_")}
    env.update(GAMESTORE_DATA_DIR=str(root / "data"), GAMESTORE_LOG_DIR=str(root / "logs"))
    return env


@contextmanager
def indexer_process(root: Path) -> Iterator[subprocess.Popen[bytes]]:
    with (root / "indexer.out").open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gamestore", "serve", "indexer"],
            env=_environment(root),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def _total(index: SearchIndex) -> int:
    return (await index.search(SearchQuery(size=1))).total


async def _every_title(index: SearchIndex) -> dict[str, str]:
    titles: dict[str, str] = {}
    for page in range(1, GAMES // 100 + 2):
        result = await index.search(SearchQuery(page=page, size=100))
        titles.update((hit.id, hit.title) for hit in result.items)
    return titles


async def test_a_killed_indexer_resumes_without_loss(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = await connect(sqlite_url(data / "events.db"))
    reader = await open_search("embedded", data)  # this process only reads
    try:
        games = await asyncio.gather(*(create(store, f"Crash Test Game {n}") for n in range(GAMES)))
        with indexer_process(tmp_path) as first:
            seen = await eventually(lambda: _total(reader), lambda t: t >= 1, timeout=30)
            first.send_signal(signal.SIGKILL)
            assert first.wait(10) == -signal.SIGKILL
        assert seen < GAMES, "the indexer finished before it was killed: kill it sooner"

        renamed = await rename(store, games[0], "Zanzibar Odyssey")
        with indexer_process(tmp_path) as second:
            await eventually(lambda: _total(reader), lambda t: t == GAMES, timeout=60)
            found = await eventually(
                lambda: reader.search(SearchQuery("zanzibar")),
                lambda r: r.total == 1,
            )
            assert found.items[0].id == renamed.id
            second.send_signal(signal.SIGTERM)
            assert second.wait(15) == 0
        expected = {g.id: g.title for g in games} | {renamed.id: renamed.title}
        assert await _every_title(reader) == expected  # nothing lost, nothing stale
        log = (tmp_path / "logs" / "indexer.log").read_text()
        assert f"game_id={renamed.id}" in log and "event_type=GameUpdated" in log
    finally:
        await reader.close()
        await store.close()
