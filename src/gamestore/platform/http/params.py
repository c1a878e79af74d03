"""Query parameters every list shares, bounded to what every engine takes.

An integer the client sends must fit the column or the engine it reaches (SQLite and PostgreSQL
``BIGINT``: 2^63 - 1), or it turns into an overflow deep inside a driver; bounding it here
makes it a 422 problem+json, and puts the bound in the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

BIGINT_MAX = 2**63 - 1  # the largest integer a SQLite or PostgreSQL BIGINT column holds
PAGE_MAX = 1_000_000
SIZE_MAX = 100

PageNumber = Annotated[int, Query(ge=1, le=PAGE_MAX, description="From 1.")]
PageSize = Annotated[int, Query(ge=1, le=SIZE_MAX, description=f"At most {SIZE_MAX}.")]
Position = Annotated[
    int, Query(ge=0, le=BIGINT_MAX, description="An event-store position (0: the beginning).")
]
