"""The time, in one place: every timestamp the store writes is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC, with its zone."""
    return datetime.now(UTC)
