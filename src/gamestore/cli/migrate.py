"""``gamestore migrate [DATABASE…]``: upgrade databases' schemas to what this code needs.

Idempotent: a database at head is left alone, so it runs at every deploy (a compose one-shot
service, a Kubernetes Job) and before ``gamestore up`` starts anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from gamestore.cli.common import console, say_error
from gamestore.migrations import HISTORIES, UnknownHistory, history, upgrade
from gamestore.platform.config import Settings
from gamestore.platform.db import create_engine
from gamestore.platform.i18n import N_


@dataclass(frozen=True, slots=True)
class Migrated:
    database: str
    url: str | None  # None: this profile has no such database (the queue on RabbitMQ)
    before: str | None = None
    after: str | None = None

    def describe(self) -> str:
        if self.url is None:
            return f"{self.database}: not a database in this profile, skipped"
        if self.before == self.after:
            return f"{self.database}: at {self.after}, up to date ({self.url})"
        return f"{self.database}: {self.before or 'empty'} -> {self.after} ({self.url})"


def shown(url: str) -> str:
    """The URL with its password masked."""
    return make_url(url).render_as_string(hide_password=True) if "://" in url else url


async def migrate_databases(settings: Settings, names: Sequence[str]) -> list[Migrated]:
    """Upgrade each named database (every one if ``names`` is empty), in registry order."""
    chosen = [history(name) for name in names] if names else list(HISTORIES.values())
    done = []
    for found in chosen:
        url = found.url(settings)
        if url is None:
            done.append(Migrated(found.name, None))
            continue
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            before, after = await upgrade(engine, found.name)
        finally:
            await engine.dispose()
        done.append(Migrated(found.name, shown(url), before, after))
    return done


def migrate(
    databases: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[DATABASE]...",
            help=f"Which databases ({', '.join(HISTORIES)}); every one when none is named.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Upgrade database schemas to this version's migrations (safe to run again)."""
    settings = Settings()
    try:
        done = asyncio.run(migrate_databases(settings, databases or []))
    except UnknownHistory as error:
        known = ", ".join(HISTORIES)
        why = N_("Cannot migrate: no database called %(name)r (known: %(known)s).")
        say_error(why, name=error.name, known=known)
        raise typer.Exit(2) from None
    except (OSError, ConnectionError) as error:
        say_error(N_("Cannot migrate: a database cannot be reached (%(error)s)."), error=error)
        raise typer.Exit(1) from None
    out = console()
    for result in done:
        out.print(result.describe())
