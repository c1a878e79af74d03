"""``python -m gamestore``: the same command line as ``gamestore``."""

from gamestore.cli import app

app(prog_name="gamestore")
