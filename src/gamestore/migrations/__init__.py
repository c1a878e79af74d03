"""Schema migrations: one Alembic history per database, ``gamestore migrate`` to upgrade them.

Every database this system owns has a history of its own under ``versions/<history>/``:
the five service databases (users, games, payments, notifier, PSP), the indexer's, the event
store's (its log, checkpoints, the bus's bookkeeping) and the table-backed queue's. Each history
records its revision in a version table of its own (``alembic_version_<history>``), so several
histories can share one database and be upgraded independently.

A process checks its databases at start (:func:`ensure_schema`): at head it goes on; behind,
it refuses to start with the command that fixes it, unless it is allowed to migrate on start
(``GAMESTORE_MIGRATE_ON_START``; by default only the embedded SQLite databases are). Upgrades
of one database are serialised: under a PostgreSQL advisory lock, and by SQLite's write lock
(``BEGIN IMMEDIATE``), so replicas starting together, a migration job and a CLI command never
run the same migration twice. See docs/adr/015-migrations-and-replicas.md.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, MetaData, inspect, text

from gamestore.platform.config import scheme
from gamestore.platform.logs import get_logger

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.ext.asyncio import AsyncEngine

    from gamestore.platform.config import Settings

log = get_logger("migrations")

HERE = Path(__file__).parent
_LOCK = 0x6773_0000  # the advisory lock key create_tables took before migrations (db.py)


@dataclass(frozen=True)
class History:
    """One database's migration history."""

    name: str
    metadata_ref: str
    """``module:attribute`` of the MetaData these migrations build (what autogenerate compares)."""
    url: Callable[[Settings], str | None]
    """The database it migrates under these settings (None: this profile has no such database)."""

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.name.replace('-', '_')}"

    @functools.cached_property
    def metadata(self) -> MetaData:
        module, _, attribute = self.metadata_ref.partition(":")
        found: MetaData = getattr(importlib.import_module(module), attribute)
        return found

    def config(self, connection: Connection | None = None) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(HERE))
        config.set_main_option("path_separator", "os")
        config.set_main_option("version_locations", str(HERE / "versions" / self.name))
        config.attributes["history"] = self
        config.attributes["connection"] = connection
        return config

    @functools.cached_property
    def head(self) -> str:
        """The revision this code expects."""
        from alembic.script import ScriptDirectory

        heads = ScriptDirectory.from_config(self.config()).get_heads()
        if len(heads) != 1:
            raise RuntimeError(f"the {self.name} history must have one head, not {heads}")
        return heads[0]

    def knows(self, revision: str) -> bool:
        from alembic.script import ScriptDirectory
        from alembic.util import CommandError

        try:
            return ScriptDirectory.from_config(self.config()).get_revision(revision) is not None
        except CommandError:
            return False


def _service_db(service: str) -> Callable[[Settings], str | None]:
    return lambda settings: settings.database_url(service)


def _queue_db(settings: Settings) -> str | None:
    url = settings.work_queue_url
    return url if scheme(url) in ("sqlite", "postgresql", "postgres") else None


HISTORIES: dict[str, History] = {
    history.name: history
    for history in (
        History(
            "eventstore", "gamestore.platform.bus.deadletters:metadata", lambda s: s.event_store_url
        ),
        History("users", "gamestore.users.tables:metadata", _service_db("users")),
        History("games", "gamestore.games.tables:metadata", _service_db("games")),
        History("payments", "gamestore.payments.tables:metadata", _service_db("payments")),
        History("notifier", "gamestore.notifications.tables:metadata", _service_db("notifier")),
        History("indexer", "gamestore.search.indexer.tables:metadata", _service_db("indexer")),
        History("psp", "gamestore.psp.tables:metadata", _service_db("psp")),
        History("queue", "gamestore.platform.queue.tables:metadata", _queue_db),
    )
}
"""Every history, in the order ``gamestore migrate`` upgrades them."""


class UnknownHistory(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"no database called {self.name!r} (known: {', '.join(HISTORIES)})"


def history(name: str) -> History:
    try:
        return HISTORIES[name]
    except KeyError:
        raise UnknownHistory(name) from None


class SchemaNotCurrent(RuntimeError):
    """A database's schema is behind the code that opens it."""

    def __init__(self, history: History, at: str | None) -> None:
        self.history = history
        self.at = at
        where = f"revision {at}" if at else "no schema yet"
        super().__init__(
            f"the {history.name} database has {where}; this code needs revision "
            f"{history.head}. Run `gamestore migrate {history.name}` first "
            "(or set GAMESTORE_MIGRATE_ON_START=1 to let processes migrate when they start)."
        )


def migrates_on_start(url: str, settings: Settings | None = None) -> bool:
    """Whether a process may upgrade the database at ``url`` itself when it starts:
    ``GAMESTORE_MIGRATE_ON_START`` if set, else only for SQLite (the embedded profile)."""
    if settings is None:
        from gamestore.platform.config import Settings

        settings = Settings()
    if settings.migrate_on_start is not None:
        return settings.migrate_on_start
    return scheme(url) == "sqlite"


async def current(engine: AsyncEngine, name: str) -> str | None:
    """The revision the database is at (None: never migrated)."""
    found = history(name)
    async with engine.connect() as conn:
        return await conn.run_sync(_current, found)


def _current(conn: Connection, found: History) -> str | None:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"version_table": found.version_table})
    return context.get_current_revision()


async def upgrade(engine: AsyncEngine, name: str) -> tuple[str | None, str]:
    """Upgrade the database to head; returns (revision before, revision after). Idempotent."""
    found = history(name)
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        return await conn.run_sync(_upgrade, found)


def _upgrade(conn: Connection, found: History) -> tuple[str | None, str]:
    from alembic import command

    before = _current(conn, found)
    if before == found.head:
        return before, before
    if before is None and _has_tables_of(conn, found):
        _add_missing_columns(conn, found.metadata)
    command.upgrade(found.config(conn), "head")
    after = _current(conn, found)
    assert after is not None  # alembic just wrote it
    log.info("database migrated", database=found.name, before=before or "-", after=after)
    return before, after


def _has_tables_of(conn: Connection, found: History) -> bool:
    """Whether this database predates migrations: some of the history's tables exist."""
    present = set(inspect(conn).get_table_names())
    return bool(present & set(found.metadata.tables))


def _add_missing_columns(conn: Connection, metadata: MetaData) -> None:
    """A database made before migrations by an older version may lack nullable columns added
    since (an event's ``traceparent``): add them, so the baseline's ``IF NOT EXISTS`` tables
    match it. Anything else is the migrations' job."""
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable and column.server_default is None:
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))


async def ensure_schema(engine: AsyncEngine, name: str, *, migrate: bool) -> None:
    """Go on if the database is at head; else upgrade it (``migrate``) or refuse to start.

    A revision this code does not know is a newer schema (a rollout's migration ran before this
    process restarted): migrations only add, so it starts, with a warning."""
    found = history(name)
    at = await current(engine, name)
    if at == found.head:
        return
    if migrate:
        await upgrade(engine, name)
        return
    if at is not None and not found.knows(at):
        log.warning(
            "database schema is newer than this code", database=name, at=at, head=found.head
        )
        return
    raise SchemaNotCurrent(found, at)


async def open_database(settings: Settings, name: str) -> AsyncEngine:
    """An engine on the database of history ``name``, its schema at head (checked, or
    migrated where :func:`migrates_on_start` allows); disposed again if it is not."""
    from gamestore.platform.db import create_engine

    url = history(name).url(settings)
    if url is None:
        raise ValueError(f"this profile has no {name} database")
    engine = create_engine(url)
    try:
        await ensure_schema(engine, name, migrate=migrates_on_start(url, settings))
    except BaseException:
        await engine.dispose()
        raise
    return engine


async def ensure_schema_at(url: str, name: str, *, migrate: bool | None = None) -> None:
    """:func:`ensure_schema` for a database this process reaches by other means (the event
    store's own driver): a short-lived engine checks it, and migrates it if allowed."""
    from gamestore.platform.db import create_engine

    allowed = migrates_on_start(url) if migrate is None else migrate
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        await ensure_schema(engine, name, migrate=allowed)
    finally:
        await engine.dispose()


def differences(conn: Connection, name: str) -> list[Any]:
    """What autogenerate finds between the history's models and the database (empty: none)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    found = history(name)
    context = MigrationContext.configure(conn, opts=context_options(found))
    return list(compare_metadata(context, found.metadata))


def context_options(found: History) -> dict[str, Any]:
    """What every migration context of ``found`` is configured with (env.py uses it too)."""
    ours = set(found.metadata.tables)

    def include_object(obj: Any, name: str | None, kind: str, reflected: bool, _: Any) -> bool:
        # other histories' tables may share the database; the event store's log tables are
        # plain SQL (triggers, functions), outside any model
        if kind == "table":
            return name in ours
        table = getattr(obj, "table", None)
        return table is None or table.name in ours

    return {
        "version_table": found.version_table,
        "target_metadata": found.metadata,
        "include_object": include_object,
        "compare_type": True,
        "render_as_batch": True,
    }
