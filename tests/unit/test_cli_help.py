"""``gamestore --help`` and each command's help read as a command line's help should."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from gamestore.cli import app

runner = CliRunner()


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer's own click, or click)
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _commands(typer.main.get_group(app))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "gamestore")
def test_no_flag_is_shown_as_taking_a_value(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    assert "<bool>" not in result.output
    assert "--help  " in result.output or "--help " in result.output


def test_every_command_is_listed() -> None:
    assert {("up",), ("serve",), ("admin", "create"), ("dlq", "replay")} <= set(COMMANDS)
