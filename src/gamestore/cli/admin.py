"""``gamestore admin create``: create an admin, or promote an existing account.

Works with the users process down: it opens the users database itself and runs the same
account use case, so the ``UserRegistered``/``UserUpdated`` event goes through the outbox; the
event is relayed to the event store right away when it is reachable, else by the users process.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.cli.common import console, error_console
from gamestore.migrations import open_database
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import connect
from gamestore.platform.field_errors import field_errors
from gamestore.platform.i18n import language_from_environment, use_language
from gamestore.platform.logs import correlation, get_logger
from gamestore.platform.outbox import OutboxRelay
from gamestore.platform.uow import NO_RELAY, SqlUnitOfWork, UnitOfWork
from gamestore.users.accounts import Accounts, AdminGrant
from gamestore.users.domain import PasswordRequired
from gamestore.users.passwords import passwords_for
from gamestore.users.repository import SqlUsers, UserRepository
from gamestore.users.schemas import Email, Name, NewPassword
from gamestore.users.tables import outbox

app = typer.Typer(help="Administrator accounts.", no_args_is_help=True)
log = get_logger("admin")


async def make_admin(
    settings: Settings, request: AdminRequest, *, reset_password: bool = False
) -> AdminGrant:
    """Create or promote the admin in the users database, then try to relay its event (the
    command runs no relay of its own: it relays once, by hand, below)."""
    engine = await open_database(settings, "users")
    try:
        uow: UnitOfWork[UserRepository] = SqlUnitOfWork(engine, outbox, SqlUsers, wake=NO_RELAY)
        accounts = Accounts(uow, passwords_for(settings))
        grant = await accounts.make_admin(
            str(request.email), request.name, request.password, reset_password=reset_password
        )
        await _relay(engine, settings)
    finally:
        await engine.dispose()
    return grant


async def _relay(engine: AsyncEngine, settings: Settings) -> None:
    try:
        store = await connect(settings.event_store_url)
    except Exception as error:  # the users process relays it later; the admin exists anyway
        log.warning("event store unreachable; the users process will relay", error=repr(error))
        return
    try:
        await OutboxRelay(engine, store, outbox.table).relay_once()
    except Exception as error:  # e.g. the account's previous event is still another relay's
        log.warning("event not relayed yet; the users process will relay", error=repr(error))
    finally:
        await store.close()


class AdminRequest(BaseModel):
    """The command's input, under sign-up's rules; no password means "keep" or "ask"."""

    model_config = ConfigDict(regex_engine="python-re")
    name: Name
    email: Email
    password: NewPassword | None = None


def _validated(name: str, email: str, password: str | None) -> AdminRequest:
    try:
        return AdminRequest(name=name, email=email, password=password)
    except ValidationError as error:
        with use_language(language_from_environment()):
            problems = field_errors(error.errors())
        for problem in problems:  # each named by its option
            option = "--" + ".".join(problem["loc"])
            error_console().print(f"{option}: {problem['msg']}", style="red")
        raise typer.Exit(2) from None


def _grant(request: AdminRequest, reset_password: bool) -> AdminGrant:
    """Run the use case; ask for a password (twice, hidden) only when one is needed."""
    settings = Settings()
    with correlation(None):  # the event and any log line share one new correlation id
        try:
            return asyncio.run(make_admin(settings, request, reset_password=reset_password))
        except PasswordRequired:
            pass
    asked = typer.prompt("Senha", hide_input=True, confirmation_prompt="Repita a senha")
    request = _validated(request.name, str(request.email), asked)
    with correlation(None):
        return asyncio.run(make_admin(settings, request, reset_password=reset_password))


def _report(grant: AdminGrant, password_given: bool) -> str:
    """What was done, in the operator's words; a --password left unused is said to be."""
    who = f"{grant.user.email} (id {grant.user.id})"
    if grant.created:
        return f"Administrador criado: {who}."
    head = f"Conta existente promovida a administrador: {who}."
    if grant.was_admin:
        head = f"A conta {who} já era de administrador."
    if grant.password_reset:
        return f"{head} Senha redefinida; as sessões abertas foram encerradas."
    unused = " A --password foi ignorada; use --reset-password para trocá-la."
    return f"{head} A senha atual foi mantida.{unused if password_given else ''}"


@app.command()
def create(
    email: Annotated[str, typer.Option(help="E-mail do administrador.")],
    password: Annotated[
        str | None,
        typer.Option(
            help="Senha de uma conta nova (regras do cadastro); pedida sem eco se omitida."
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="Nome de exibição de uma conta nova.")] = "Admin",
    reset_password: Annotated[
        bool,
        typer.Option(
            "--reset-password",
            help="Ao promover uma conta existente, troca também a senha dela.",
        ),
    ] = False,
) -> None:
    """Cria um administrador, ou promove a conta com este e-mail mantendo a senha dela
    (troca a senha só com --reset-password)."""
    grant = _grant(_validated(name, email, password), reset_password)
    console().print(_report(grant, password is not None))


__all__ = ["AdminRequest", "app", "make_admin"]
