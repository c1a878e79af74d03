"""``gamestore admin create``: create an admin, or promote an existing account.

Works with the users process down: it opens the users database itself and runs the same
account use case, so the ``UserRegistered``/``UserUpdated`` event goes through the outbox; the
event is relayed to the event store right away when it is reachable, else by the users process.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.cli.common import console, error_console
from gamestore.migrations import open_database
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import connect
from gamestore.platform.field_errors import field_errors
from gamestore.platform.i18n import language_from_environment, use_language
from gamestore.platform.logs import correlation, get_logger
from gamestore.platform.outbox import OutboxRelay
from gamestore.users.accounts import Accounts
from gamestore.users.domain import User
from gamestore.users.passwords import passwords_for
from gamestore.users.schemas import UserCreate
from gamestore.users.tables import outbox

app = typer.Typer(help="Administrator accounts.", no_args_is_help=True)
log = get_logger("admin")


async def make_admin(settings: Settings, body: UserCreate) -> tuple[User, bool]:
    """Create or promote the admin in the users database, then try to relay its event."""
    engine = await open_database(settings, "users")
    try:
        accounts = Accounts(engine, passwords_for(settings))
        result = await accounts.make_admin(str(body.email), body.password, body.name)
        await _relay(engine, settings)
    finally:
        await engine.dispose()
    return result


async def _relay(engine: AsyncEngine, settings: Settings) -> None:
    try:
        store = await connect(settings.event_store_url)
    except Exception as error:  # the users process relays it later; the admin exists anyway
        log.warning("event store unreachable; the users process will relay", error=repr(error))
        return
    try:
        await OutboxRelay(engine, store, outbox.table).relay_once()
    finally:
        await store.close()


def _validated(name: str, email: str, password: str) -> UserCreate:
    try:
        return UserCreate(name=name, email=email, password=password)
    except ValidationError as error:
        with use_language(language_from_environment()):
            problems = field_errors(error.errors())
        for problem in problems:  # each named by its option
            option = "--" + ".".join(problem["loc"])
            error_console().print(f"{option}: {problem['msg']}", style="red")
        raise typer.Exit(2) from None


@app.command()
def create(
    email: Annotated[str, typer.Option(help="The admin's email.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, help="Same policy as sign-up; prompted if omitted."
        ),
    ],
    name: Annotated[str, typer.Option(help="Display name of a new account.")] = "Admin",
) -> None:
    """Create an admin, or promote the account with this email (its password becomes PASSWORD)."""
    body = _validated(name, email, password)
    with correlation(None):  # the event and any log line share one new correlation id
        user, created = asyncio.run(make_admin(Settings(), body))
    verb = "Created admin" if created else "Promoted to admin"
    console().print(f"{verb} {user.email} (id {user.id}).")


__all__ = ["app", "make_admin"]
