"""Alembic's environment for every history: the runner (``__init__.py``) hands it the
connection (inside the transaction that holds the upgrade lock) and the history to run."""

from __future__ import annotations

from alembic import context

from gamestore.migrations import History, context_options

history: History = context.config.attributes["history"]
connection = context.config.attributes["connection"]
if connection is None:
    raise RuntimeError("migrations run through `gamestore migrate`, which passes a connection")

context.configure(connection=connection, **context_options(history))
with context.begin_transaction():
    context.run_migrations()
