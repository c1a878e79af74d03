"""The games process's composition root: database, event store, relay, token checks, app.

``build(settings)`` wires everything and yields a running service (its outbox relay included);
``main`` serves it over HTTP. Tests enter ``build`` themselves and talk to ``service.app``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.games.api import router
from gamestore.games.catalog import Catalog
from gamestore.games.errors import install_error_handlers
from gamestore.games.library import Libraries
from gamestore.games.tables import create_schema, outbox
from gamestore.platform.auth import JwksClient, TokenVerifier
from gamestore.platform.config import Settings, service_url
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import EventStore, connect
from gamestore.platform.http import create_app, serve
from gamestore.platform.logs import get_logger
from gamestore.platform.outbox import OutboxRelay

log = get_logger("games")
DESCRIPTION = "The game catalog (public reads, admin writes) and players' libraries."
DEFAULT_PORT = 8002


@dataclass(frozen=True)
class GamesService:
    app: FastAPI
    engine: AsyncEngine
    store: EventStore
    relay: OutboxRelay
    catalog: Catalog
    libraries: Libraries


def users_verifier() -> TokenVerifier:
    """Access tokens checked against the users service's published keys (JWKS)."""
    return TokenVerifier(JwksClient(f"{service_url('users')}/.well-known/jwks.json"))


def _app(verifier: TokenVerifier, catalog: Catalog, libraries: Libraries) -> FastAPI:
    app = create_app("GameStore games", [router], description=DESCRIPTION)
    install_error_handlers(app)
    app.state.verifier = verifier
    app.state.catalog = catalog
    app.state.libraries = libraries
    return app


@contextlib.asynccontextmanager
async def build(
    settings: Settings, *, verifier: TokenVerifier | None = None
) -> AsyncIterator[GamesService]:
    """The wired service with its relay running; everything is closed on exit.

    ``verifier`` defaults to one that fetches the users service's JWKS.
    """
    async with contextlib.AsyncExitStack() as stack:
        engine = create_engine(settings.database_url("games"))
        stack.push_async_callback(engine.dispose)
        await create_schema(engine)
        store = await connect(settings.event_store_url)
        stack.push_async_callback(store.close)
        relay = OutboxRelay(engine, store, outbox.table)
        catalog = Catalog(engine, on_commit=relay.wake)
        libraries = Libraries(engine)
        await stack.enter_async_context(_running(relay))
        app = _app(verifier or users_verifier(), catalog, libraries)
        yield GamesService(app, engine, store, relay, catalog, libraries)


@contextlib.asynccontextmanager
async def _running(relay: OutboxRelay) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop=stop))
    try:
        yield
    finally:
        stop.set()
        await task


def games_port() -> int:
    """The port of ``service_url("games")`` (8002 unless ``GAMESTORE_GAMES_URL`` says)."""
    return urlsplit(service_url("games")).port or DEFAULT_PORT


async def main(settings: Settings, stop: asyncio.Event) -> None:
    """The ``games`` process: serve the games API until ``stop``."""
    host = urlsplit(service_url("games")).hostname or "127.0.0.1"
    port = games_port()
    async with build(settings) as service:
        log.info("games service listening", host=host, port=port)
        await serve(service.app, host, port, stop)
