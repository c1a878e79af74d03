"""HTTP routes of game covers: admins upload and remove them; anyone reads the files.

The upload's body is the image itself (``PUT`` with the file as the body), up to 5 MiB: the
one route the services' and the gateway's 1 MiB body limit leaves wider. Files are served with
a year of immutable caching, since their URLs name their content (``cover`` in the game's
document lists them).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response

from gamestore.games.covers.images import (
    MAX_BYTES,
    MAX_PIXELS,
    CoverRejected,
    TooManyPixels,
    UnsupportedFormat,
)
from gamestore.games.covers.service import CoverNotFound
from gamestore.games.domain import etag
from gamestore.games.schemas import GamePublic
from gamestore.games.state import GamesState
from gamestore.platform.auth import AdminUser
from gamestore.platform.http import ProblemError
from gamestore.platform.http.codes import Problem, define
from gamestore.platform.http.middleware import LargerBody
from gamestore.platform.http.openapi import problems
from gamestore.platform.http.state import state_of
from gamestore.platform.i18n import N_

COVER_TOO_MANY_PIXELS = define(
    413, "cover_too_many_pixels", N_("The cover has more than %(megapixels)s megapixels.")
)
COVER_UNSUPPORTED_TYPE = define(
    415, "cover_unsupported_type", N_("A cover must be a JPEG, PNG or WebP image.")
)
COVER_UNREADABLE = define(
    422, "cover_unreadable", N_("The cover is not a readable image (corrupt, truncated or empty).")
)
COVER_FILE_NOT_FOUND = define(404, "cover_file_not_found", N_("No such cover file."))
router = APIRouter()
GamesDep = Annotated[GamesState, Depends(state_of(GamesState))]
UPLOAD_PATH = "/jogos/{game_id}/capa"
UPLOAD_BODY = LargerBody("PUT", re.compile(r"/jogos/[^/]+/capa"), MAX_BYTES)
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# an SVG opened on its own (not through <img>) may run nothing and load nothing
FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
_IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The image file itself: JPEG, PNG or WebP, at most 5 MiB.",
        "content": {
            kind: {"schema": {"type": "string", "format": "binary"}}
            for kind in ("image/jpeg", "image/png", "image/webp")
        },
    }
}


@router.put(
    UPLOAD_PATH,
    response_model=GamePublic,
    tags=["covers"],
    responses=problems(413, 415, 422),
    openapi_extra=_IMAGE_BODY,
)
async def upload_cover(
    game_id: str, request: Request, _: AdminUser, state: GamesDep, response: Response
) -> GamePublic:
    """Set a game's cover (admin only). The type is read from the bytes, not from
    `Content-Type`: 415 unless JPEG, PNG or WebP; 422 for a corrupt file; 413 over 5 MiB or
    40 megapixels. The image is cropped to 16:9, resized to 320, 640 and 1280 pixels wide
    (never enlarged), re-encoded as WebP and JPEG and stripped of all metadata (EXIF, GPS).
    The game's version goes up by one."""
    data = await request.body()  # at most MAX_BYTES: the body limit's wider allowance
    try:
        game = await state.covers.upload(game_id, data)
    except CoverRejected as error:
        raise _refused(error) from error
    response.headers["ETag"] = etag(game.version)
    return GamePublic.model_validate(game.public())


def _refused(error: CoverRejected) -> ProblemError:
    """The problem that says why an upload cannot be a cover."""
    if isinstance(error, TooManyPixels):
        return ProblemError.of(COVER_TOO_MANY_PIXELS, megapixels=MAX_PIXELS // 1_000_000)
    problem: Problem = (
        COVER_UNSUPPORTED_TYPE if isinstance(error, UnsupportedFormat) else COVER_UNREADABLE
    )
    return ProblemError.of(problem)


@router.delete(UPLOAD_PATH, status_code=204, tags=["covers"])
async def delete_cover(game_id: str, _: AdminUser, state: GamesDep) -> Response:
    """Remove a game's uploaded cover (admin only): it shows its generated artwork again.
    Removing a cover the game does not have changes nothing."""
    await state.covers.remove(game_id)
    return Response(status_code=204)


@router.get(
    UPLOAD_PATH + "/{name}",
    tags=["covers"],
    responses={200: {"content": {t: {} for t in ("image/webp", "image/jpeg", "image/svg+xml")}}},
)
async def cover_file(
    game_id: str,
    name: str,
    state: GamesDep,
    if_none_match: Annotated[str | None, Header(max_length=1000)] = None,
) -> Response:
    """One file of a game's cover, as named in its `cover` object. Cached for a year
    (the URL names the content); 304 for a matching `If-None-Match`; 404 when absent."""
    try:
        found = await state.covers.file(game_id, name)
    except CoverNotFound as error:
        raise ProblemError.of(COVER_FILE_NOT_FOUND) from error
    cache = IMMUTABLE if found.current else REVALIDATE
    headers = {"ETag": found.etag, "Cache-Control": cache, "Content-Security-Policy": FILE_CSP}
    if if_none_match is not None and _matches(if_none_match, found.etag):
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)


def _matches(header: str, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (weakly compared, RFC 9110 §13.1.2) or is *."""
    return header.strip() == "*" or tag in {t.strip().removeprefix("W/") for t in header.split(",")}
