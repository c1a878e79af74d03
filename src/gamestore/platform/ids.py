"""Identifiers: a UUID has one spelling."""

from __future__ import annotations

import uuid


def canonical_uuid(text: str) -> str | None:
    """``text`` as a UUID in its one spelling (lower case, hyphenated); None if it is not one."""
    try:
        return str(uuid.UUID(text))
    except (ValueError, TypeError, AttributeError):
        return None
