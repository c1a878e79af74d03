"""The games process's composition root: database, event store, relay, token checks, app,
and the purchase saga's consumer of payment events.

``build(settings)`` wires everything and yields a running service (its outbox relay included;
the saga's bus consumer too with ``consume=True``, which ``main`` passes); ``main`` serves it
over HTTP. Tests enter ``build`` themselves and talk to ``service.app``.
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
from gamestore.games.covers.api import UPLOAD_BODY
from gamestore.games.covers.api import router as covers_router
from gamestore.games.covers.service import Covers
from gamestore.games.covers.storage import open_cover_storage
from gamestore.games.errors import install_error_handlers
from gamestore.games.library import Libraries
from gamestore.games.orders import Orders
from gamestore.games.orders_api import router as orders_router
from gamestore.games.saga import EVENT_TYPES, GROUP, PurchaseSaga
from gamestore.games.search_api import router as search_router
from gamestore.games.search_state import SearchState
from gamestore.games.sql_repository import games_unit_of_work
from gamestore.games.state import GamesState
from gamestore.games.tables import idempotency_keys, outbox
from gamestore.platform.auth import TokenVerifier, users_jwks_verifier
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import EventStore
from gamestore.platform.health import depend_on
from gamestore.platform.http import create_app
from gamestore.platform.http.state import install
from gamestore.platform.idempotency import Idempotency
from gamestore.platform.logs import get_logger
from gamestore.platform.outbox import OutboxRelay
from gamestore.platform.service import (
    Consumer,
    consuming,
    serve_and_consume,
    service_storage,
)
from gamestore.search.index import SearchIndex, open_search

log = get_logger("games")
DESCRIPTION = "The game catalog (public reads, admin writes) and players' libraries."


@dataclass(frozen=True)
class GamesService:
    app: FastAPI
    engine: AsyncEngine
    store: EventStore
    relay: OutboxRelay
    catalog: Catalog
    covers: Covers
    libraries: Libraries
    search: SearchIndex
    orders: Orders
    saga: PurchaseSaga


def _app(verifier: TokenVerifier, state: GamesState, search: SearchIndex) -> FastAPI:
    # the search and purchase routes first: /jogos/busca and /jogos/compra are not game ids
    routers = [search_router, orders_router, router, covers_router]
    app = create_app(
        "GameStore games", routers, description=DESCRIPTION, larger_bodies=[UPLOAD_BODY]
    )
    install_error_handlers(app)
    app.state.verifier = verifier
    install(app, state)
    # the search routes, served by this app: the index is read only (the indexer writes it)
    install(app, SearchState(search, state.catalog, state.libraries))
    return app


@contextlib.asynccontextmanager
async def build(
    settings: Settings, *, verifier: TokenVerifier | None = None, consume: bool = False
) -> AsyncIterator[GamesService]:
    """The wired service with its relay running; everything is closed on exit.

    ``verifier`` defaults to one that fetches the users service's JWKS. ``consume`` also runs
    the purchase saga's bus consumer (the process does; most tests call the saga directly).
    """
    async with contextlib.AsyncExitStack() as stack:
        storage = await stack.enter_async_context(service_storage(settings, "games", outbox.table))
        uow = games_unit_of_work(storage.engine, wake=storage.relay.wake)
        catalog = Catalog(uow)
        files = open_cover_storage(settings.covers_url, settings.data_dir)
        stack.push_async_callback(files.close)
        covers = Covers(uow, files)
        libraries = Libraries(uow)
        orders = Orders(uow)
        saga = PurchaseSaga(uow)
        search = await open_search(settings.search_url, settings.data_dir)
        stack.push_async_callback(search.close)
        depend_on(stack, search=search.ping)
        keys = Idempotency(storage.engine, idempotency_keys)
        state = GamesState(catalog, covers, libraries, orders, keys)
        app = _app(verifier or users_jwks_verifier(storage.revocations), state, search)
        if consume:
            consumers = [Consumer.pages(GROUP, EVENT_TYPES, saga.handle_batch)]
            await stack.enter_async_context(consuming(settings, storage.store, consumers))
        yield GamesService(
            app,
            storage.engine,
            storage.store,
            storage.relay,
            catalog,
            covers,
            libraries,
            search,
            orders,
            saga,
        )


async def main(settings: Settings, stop: asyncio.Event) -> None:
    """The ``games`` process: serve the games API and run the saga's consumer until ``stop``."""
    async with build(settings) as service:
        consumers = [Consumer.pages(GROUP, EVENT_TYPES, service.saga.handle_batch)]
        await serve_and_consume(service.app, "games", settings, service.store, consumers, stop)
