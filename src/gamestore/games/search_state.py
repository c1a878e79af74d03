"""What the search routes read, installed by the app that mounts them (the games app)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from gamestore.games.catalog import Catalog
from gamestore.games.library import Libraries
from gamestore.platform.http.state import state_of
from gamestore.search.index import SearchIndex


@dataclass(frozen=True)
class SearchState:
    """The index (read only: the ``indexer`` process writes it), the catalog for the hits'
    covers and the callers' owned games, and the libraries for recommendations."""

    index: SearchIndex
    catalog: Catalog
    libraries: Libraries


SearchDep = Annotated[SearchState, Depends(state_of(SearchState))]
