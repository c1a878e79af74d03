"""Access decisions: public routes pass, user routes need a valid token, admin routes the role.

The token check is :class:`gamestore.platform.auth.TokenVerifier` (pinned EdDSA, keys from the
users JWKS). A token that verified once is remembered until it expires, so the signature of the
same token is not checked again on every request (its revocation is); services still verify it
themselves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gamestore.gateway.routes import Access
from gamestore.platform import auth
from gamestore.platform.auth import CHALLENGE, InvalidToken, Principal, TokenVerifier, bearer_token
from gamestore.platform.http.codes import Problem


@dataclass(frozen=True, slots=True)
class Denied:
    """Why a request may not pass: the problem (401 or 403) and response headers."""

    problem: Problem
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return self.problem.status


MISSING_TOKEN = Denied(auth.MISSING_TOKEN, CHALLENGE)
BAD_TOKEN = Denied(auth.BAD_TOKEN, CHALLENGE)
NOT_ADMIN = Denied(auth.ADMIN_REQUIRED)


def authorize(access: Access, principal: Principal | None) -> Denied | None:
    """Whether a caller (``None``: no valid token) may use a route with this ``access`` rule."""
    if access is Access.PUBLIC:
        return None
    if principal is None:
        return MISSING_TOKEN
    if access is Access.ADMIN and not principal.is_admin:
        return NOT_ADMIN
    return None


class CachingVerifier:
    """Verifies access tokens, remembering each good one until its ``exp``.

    Only successes are cached (a failure costs the attacker as much as us); the cache is bounded
    and drops its oldest entries first. A key removed from the JWKS keeps already-verified tokens
    alive for at most their remaining lifetime (15 minutes).
    """

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._verifier = verifier
        self._max_entries = max_entries
        self._clock = clock
        self._good: dict[str, Principal] = {}

    async def verify(self, token: str) -> Principal:
        """The caller behind ``token``; :class:`InvalidToken` when it is not valid now."""
        known = self._good.get(token)
        if known is not None:
            if known.expires_at > self._clock():
                self._verifier.check_revoked(known)  # revoked since it was cached: refused
                return known
            del self._good[token]
        principal = await self._verifier.verify(token)
        if len(self._good) >= self._max_entries:
            for oldest in list(self._good)[: max(1, self._max_entries // 10)]:
                del self._good[oldest]
        self._good[token] = principal
        return principal


async def caller(
    access: Access, authorization: str | None, verifier: CachingVerifier
) -> Principal | Denied | None:
    """The verified caller of a route (``None`` on public routes), or why it is refused."""
    if access is Access.PUBLIC:
        return None
    token = bearer_token(authorization)
    if token is None:
        return MISSING_TOKEN
    try:
        principal = await verifier.verify(token)
    except InvalidToken:
        return BAD_TOKEN
    return authorize(access, principal) or principal
