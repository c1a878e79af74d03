"""What every command shares: consoles, messages in the user's language, the event store,
timestamps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from gamestore.platform.config import Settings, scheme, sqlite_path
from gamestore.platform.eventstore import EventStore, connect
from gamestore.platform.i18n import language_from_environment, translate


def console() -> Console:
    """Standard output; one record per line even when piped (no wrapping, no guessing)."""
    return Console(soft_wrap=True, highlight=False)


def error_console() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


def text(message: str, /, **params: Any) -> str:
    """``message`` (an English msgid marked with ``N_``) in the CLI's language: the one
    ``LANG``/``LANGUAGE`` ask for among those we speak, Brazilian Portuguese otherwise."""
    return translate(message, params, language=language_from_environment())


def say_error(message: str, /, **params: Any) -> None:
    """A user's mistake, on standard error in the CLI's language."""
    error_console().print(text(message, **params), style="red")


@asynccontextmanager
async def open_event_store(settings: Settings) -> AsyncIterator[EventStore | None]:
    """The configured event store, or None when its SQLite file does not exist yet.

    Read-only commands must not create an empty store as a side effect.
    """
    url = settings.event_store_url
    if scheme(url) == "sqlite" and not sqlite_path(url).exists():
        yield None
        return
    store = await connect(url)
    try:
        yield store
    finally:
        await store.close()


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as in the logs."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")
