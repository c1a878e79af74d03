"""The users process's composition root: database, event store, relay, keys, app.

``build(settings)`` wires everything and yields a running service (its outbox relay included);
``main`` serves it over HTTP. Tests enter ``build`` themselves and talk to ``service.app``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.platform.auth import StaticKeys, TokenVerifier
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import EventStore
from gamestore.platform.http import create_app, serve
from gamestore.platform.http.state import install
from gamestore.platform.logs import get_logger
from gamestore.platform.outbox import OutboxRelay
from gamestore.platform.revocation import Revocations
from gamestore.platform.service import service_address, service_storage
from gamestore.platform.uow import SqlUnitOfWork, UnitOfWork
from gamestore.users.accounts import Accounts
from gamestore.users.api import UsersState, router
from gamestore.users.errors import install_error_handlers
from gamestore.users.keys import KeyRing, load_key_ring
from gamestore.users.passwords import Passwords, passwords_for
from gamestore.users.repository import SqlUsers, UserRepository
from gamestore.users.sessions import Sessions
from gamestore.users.tables import outbox
from gamestore.users.throttle import LoginThrottle, connect_throttle
from gamestore.users.tokens import AccessTokens

log = get_logger("users")
DESCRIPTION = "Accounts, login and the public keys that verify access tokens."


@dataclass(frozen=True)
class UsersService:
    app: FastAPI
    engine: AsyncEngine
    store: EventStore
    relay: OutboxRelay
    accounts: Accounts
    sessions: Sessions
    keys: KeyRing


def _app(
    keys: KeyRing, accounts: Accounts, sessions: Sessions, revocations: Revocations
) -> FastAPI:
    app = create_app("GameStore users", [router], description=DESCRIPTION)
    install_error_handlers(app)
    app.state.verifier = TokenVerifier(StaticKeys(keys.jwks()), revocations=revocations)
    install(app, UsersState(accounts, sessions, keys))
    return app


def _sessions(
    uow: UnitOfWork[UserRepository],
    settings: Settings,
    passwords: Passwords,
    keys: KeyRing,
    throttle: LoginThrottle,
    clients: LoginThrottle,
) -> Sessions:
    return Sessions(
        uow,
        passwords,
        AccessTokens(keys, settings.access_token_ttl_seconds),
        throttle,
        timedelta(seconds=settings.refresh_token_ttl_seconds),
        clients,
    )


@contextlib.asynccontextmanager
async def build(settings: Settings) -> AsyncIterator[UsersService]:
    """The wired service with its relay running; everything is closed on exit."""
    async with contextlib.AsyncExitStack() as stack:
        storage = await stack.enter_async_context(service_storage(settings, "users", outbox.table))
        keys = load_key_ring(settings)
        window, cap = settings.login_failure_window_seconds, settings.login_max_delay_seconds
        throttle = connect_throttle(
            settings.redis_url, settings.login_max_failures, window, cap=cap
        )
        stack.push_async_callback(throttle.close)
        clients = connect_throttle(
            settings.redis_url, settings.login_client_max_failures, window, cap=cap,
            name="login-client",
        )  # fmt: skip
        stack.push_async_callback(clients.close)
        passwords = passwords_for(settings)
        uow: UnitOfWork[UserRepository] = SqlUnitOfWork(
            storage.engine, outbox, SqlUsers, wake=storage.relay.wake
        )
        accounts = Accounts(uow, passwords)
        sessions = _sessions(uow, settings, passwords, keys, throttle, clients)
        yield UsersService(
            _app(keys, accounts, sessions, storage.revocations),
            storage.engine,
            storage.store,
            storage.relay,
            accounts,
            sessions,
            keys,
        )


async def main(settings: Settings, stop: asyncio.Event) -> None:
    """The ``users`` process: serve the users API until ``stop``."""
    host, port = service_address("users")
    async with build(settings) as service:
        log.info("users service listening", host=host, port=port, kid=service.keys.signing.kid)
        await serve(service.app, host, port, stop)
