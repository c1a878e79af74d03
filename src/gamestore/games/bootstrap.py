"""The games process's composition root: database, event store, relay, token checks, app.

``build(settings)`` wires everything and yields a running service (its outbox relay included);
``main`` serves it over HTTP. Tests enter ``build`` themselves and talk to ``service.app``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.games.api import router
from gamestore.games.catalog import Catalog
from gamestore.games.errors import install_error_handlers
from gamestore.games.library import Libraries
from gamestore.games.search import SearchIndex, open_search
from gamestore.games.search_api import router as search_router
from gamestore.games.tables import metadata, outbox
from gamestore.platform.auth import TokenVerifier, users_jwks_verifier
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import EventStore
from gamestore.platform.http import create_app, serve
from gamestore.platform.logs import get_logger
from gamestore.platform.outbox import OutboxRelay
from gamestore.platform.service import service_address, service_storage

log = get_logger("games")
DESCRIPTION = "The game catalog (public reads, admin writes) and players' libraries."


@dataclass(frozen=True)
class GamesService:
    app: FastAPI
    engine: AsyncEngine
    store: EventStore
    relay: OutboxRelay
    catalog: Catalog
    libraries: Libraries
    search: SearchIndex


def _app(
    verifier: TokenVerifier, catalog: Catalog, libraries: Libraries, search: SearchIndex
) -> FastAPI:
    # the search routes first: /jogos/busca is not a game id
    app = create_app("GameStore games", [search_router, router], description=DESCRIPTION)
    install_error_handlers(app)
    app.state.verifier = verifier
    app.state.catalog = catalog
    app.state.libraries = libraries
    app.state.search = search  # read only: the indexer process writes it
    return app


@contextlib.asynccontextmanager
async def build(
    settings: Settings, *, verifier: TokenVerifier | None = None
) -> AsyncIterator[GamesService]:
    """The wired service with its relay running; everything is closed on exit.

    ``verifier`` defaults to one that fetches the users service's JWKS.
    """
    async with service_storage(settings, "games", metadata, outbox.table) as storage:
        catalog = Catalog(storage.engine, on_commit=storage.relay.wake)
        libraries = Libraries(storage.engine)
        search = await open_search(settings.search_url, settings.data_dir)
        try:
            app = _app(verifier or users_jwks_verifier(), catalog, libraries, search)
            yield GamesService(
                app, storage.engine, storage.store, storage.relay, catalog, libraries, search
            )
        finally:
            await search.close()


async def main(settings: Settings, stop: asyncio.Event) -> None:
    """The ``games`` process: serve the games API until ``stop``."""
    host, port = service_address("games")
    async with build(settings) as service:
        log.info("games service listening", host=host, port=port)
        await serve(service.app, host, port, stop)
