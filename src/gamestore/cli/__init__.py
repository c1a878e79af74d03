"""The ``gamestore`` command line (CONTRACT.md, "Command line")."""

from __future__ import annotations

import typer

from gamestore.cli import admin, dlq, events
from gamestore.cli.migrate import migrate
from gamestore.cli.reindex import reindex
from gamestore.cli.seed import seed
from gamestore.cli.serve import serve
from gamestore.cli.status import status
from gamestore.cli.trace import trace
from gamestore.cli.up import up

app = typer.Typer(
    name="gamestore",
    help="GameStore: an event-driven game store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # click's own help layout: typer's rich one shows every flag as taking a "<bool>" value
    rich_markup_mode=None,
)
app.command()(up)
app.command()(serve)
app.command()(status)
app.command()(trace)
app.command()(migrate)
app.command()(seed)
app.command()(reindex)
app.add_typer(events.app, name="events")
app.add_typer(dlq.app, name="dlq")
app.add_typer(admin.app, name="admin")

__all__ = ["app"]
