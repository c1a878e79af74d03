"""Access-token verification, shared by the gateway and every service (defence in depth).

Tokens are EdDSA (Ed25519) JWTs issued by the users service, whose public keys are published
at ``/.well-known/jwks.json``. Verification pins the algorithm and refuses every header that
would let a token choose its own key (``jku``, ``x5u``, ``jwk``, ``x5c``) — the classic JWT
attacks (``alg:none``, HS256 signed with the public key, key injection) all end in 401. A
token its account has outlived (deleted, demoted, password changed) is refused too, from the
:class:`~gamestore.platform.revocation.Revocations` the process follows (docs/adr/011).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import aiohttp
import jwt
from fastapi import Depends, Request

from gamestore.platform.http.codes import Problem, define
from gamestore.platform.http.problems import ProblemError
from gamestore.platform.i18n import N_
from gamestore.platform.revocation import Revocations

ALGORITHM = "EdDSA"
ISSUER = "gamestore-users"
AUDIENCE = "gamestore"
ROLES = frozenset({"player", "admin"})
_FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})
_KID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_RETRY_AFTER_FAILURE = 1.0  # seconds before refetching a JWKS that could not be fetched
_REQUIRED = ["exp", "iat", "sub", "jti", "iss", "aud", "role"]


class InvalidToken(Exception):
    """The token is not one we issued, or no longer valid. The message is for logs only."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as the token says."""

    user_id: str
    role: str
    token_id: str
    expires_at: int
    issued_at: float = 0.0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class KeySet(Protocol):
    async def key(self, kid: str) -> jwt.PyJWK | None: ...


class StaticKeys:
    """Public keys known in-process (the users service verifies with its own keys)."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self._keys = {k["kid"]: jwt.PyJWK(k) for k in jwks.get("keys", [])}

    async def key(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)


class JwksClient:
    """Keys fetched from a JWKS URL, cached; an unknown ``kid`` refetches, at most every
    ``min_refresh`` seconds, so a flood of forged kids cannot hammer the users service."""

    def __init__(self, url: str, *, min_refresh: float = 30.0, timeout: float = 3.0) -> None:
        self._url = url
        self._min_refresh = min_refresh
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK | None:
        if kid not in self._keys:
            await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < self._min_refresh:
                return
            self._fetched_at = time.monotonic()
            try:
                async with (
                    aiohttp.ClientSession(timeout=self._timeout) as session,
                    session.get(self._url) as response,
                ):
                    response.raise_for_status()
                    document = await response.json()
            except (aiohttp.ClientError, TimeoutError, ValueError):
                # Down or broken: try again soon, but not on every request meanwhile.
                self._fetched_at = time.monotonic() - self._min_refresh + _RETRY_AFTER_FAILURE
                return
            self._keys = {k["kid"]: jwt.PyJWK(k) for k in document.get("keys", []) if "kid" in k}


class TokenVerifier:
    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        revocations: Revocations | None = None,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._revocations = revocations

    def check_revoked(self, principal: Principal) -> None:
        """:class:`InvalidToken` if the token's account revoked it after it was issued."""
        if self._revocations is not None and self._revocations.revoked(
            principal.user_id, principal.issued_at
        ):
            raise InvalidToken("the token was revoked")

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken(f"malformed token: {error}") from error
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        if _FORBIDDEN_HEADERS & header.keys():
            raise InvalidToken("token headers may not name keys")
        kid = header.get("kid")
        if not isinstance(kid, str) or not _KID.match(kid):
            raise InvalidToken("missing or malformed kid")
        key = await self._keys.key(kid)
        if key is None:
            raise InvalidToken("unknown kid")
        claims = self._decode(token, key)
        if claims["role"] not in ROLES:
            raise InvalidToken("unknown role")
        principal = Principal(
            str(claims["sub"]),
            claims["role"],
            str(claims["jti"]),
            int(claims["exp"]),
            float(claims["iat"]),
        )
        self.check_revoked(principal)
        return principal

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": _REQUIRED},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        return claims


def users_jwks_verifier(revocations: Revocations | None = None) -> TokenVerifier:
    """Tokens checked against the keys the users service publishes (``service_url("users")``)
    and against ``revocations``."""
    from gamestore.platform.config import service_url

    keys = JwksClient(f"{service_url('users')}/.well-known/jwks.json")
    return TokenVerifier(keys, revocations=revocations)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if that is what it is."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


MISSING_TOKEN = define(401, "token_required", N_("A valid access token is required."))
BAD_TOKEN = define(401, "token_invalid", N_("The access token is invalid or expired."))
ADMIN_REQUIRED = define(403, "admin_required", N_("This needs the admin role."))
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="gamestore"'}


def unauthorized(problem: Problem = MISSING_TOKEN) -> ProblemError:
    return ProblemError.of(problem, headers=CHALLENGE)


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller, from a token checked with ``app.state.verifier``."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise unauthorized()
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return await verifier.verify(token)
    except InvalidToken as error:
        raise unauthorized(BAD_TOKEN) from error


async def admin_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.is_admin:
        raise ProblemError.of(ADMIN_REQUIRED)
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]
AdminUser = Annotated[Principal, Depends(admin_principal)]
