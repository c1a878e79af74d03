"""HTTP routes of the users service: parse, call one use case, map domain errors to problems.

Every route that needs a caller verifies the access token itself (defence in depth: a request
that bypasses the gateway gets no further) and then checks the account still exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from gamestore.platform.auth import (
    ADMIN_REQUIRED,
    BAD_TOKEN,
    AdminUser,
    CurrentUser,
    unauthorized,
)
from gamestore.platform.http import ProblemError
from gamestore.platform.http.openapi import problems
from gamestore.platform.http.params import PageNumber, PageSize
from gamestore.platform.http.state import state_of
from gamestore.users.accounts import Accounts
from gamestore.users.domain import Caller, User
from gamestore.users.keys import KeyRing
from gamestore.users.schemas import (
    Login,
    RefreshRequest,
    TokenPair,
    UserCreate,
    UserPage,
    UserPublic,
    UserUpdate,
)
from gamestore.users.sessions import Sessions, Tokens

router = APIRouter()


@dataclass(frozen=True)
class UsersState:
    """What the users routes use, installed on the app by ``bootstrap``."""

    accounts: Accounts
    sessions: Sessions
    keys: KeyRing


StateDep = Annotated[UsersState, Depends(state_of(UsersState))]


async def _accounts(state: StateDep) -> Accounts:
    return state.accounts


async def _sessions(state: StateDep) -> Sessions:
    return state.sessions


AccountsDep = Annotated[Accounts, Depends(_accounts)]
SessionsDep = Annotated[Sessions, Depends(_sessions)]


async def _account(principal: CurrentUser, accounts: AccountsDep) -> User:
    """The token's subject's account, read once per request; a deleted account's token is
    refused."""
    account = await accounts.current(principal.user_id)
    if account is None:
        raise unauthorized(BAD_TOKEN)
    return account


AccountDep = Annotated[User, Depends(_account)]


async def _caller(account: AccountDep) -> Caller:
    """The caller with the role the database holds now."""
    return Caller(account.id, account.role)


async def _admin(_: AdminUser, caller: Annotated[Caller, Depends(_caller)]) -> Caller:
    """Admin by the token and still admin in the database."""
    if not caller.is_admin:
        raise ProblemError.of(ADMIN_REQUIRED)
    return caller


CallerDep = Annotated[Caller, Depends(_caller)]
AdminDep = Annotated[Caller, Depends(_admin)]


def _user(user: Any) -> UserPublic:
    return UserPublic.model_validate(user.public())


def _pair(tokens: Tokens) -> TokenPair:
    return TokenPair(
        access_token=tokens.access.token,
        expires_in=tokens.access.expires_in,
        refresh_token=tokens.refresh_token,
    )


@router.post(
    "/users", status_code=201, response_model=UserPublic, tags=["users"], responses=problems(409)
)
async def register(body: UserCreate, accounts: AccountsDep, response: Response) -> UserPublic:
    """Create a player account. The email is unique regardless of case (409 if taken). The
    password needs at least 8 characters with a letter, a digit and a special character."""
    user = await accounts.register(body.name, str(body.email), body.password)
    response.headers["Location"] = f"/users/{user.id}"
    return _user(user)


@router.get("/users/me", response_model=UserPublic, tags=["users"])
async def me(account: AccountDep) -> UserPublic:
    """The account of the access token's owner."""
    return _user(account)


@router.get("/users", response_model=UserPage, tags=["users"])
async def list_users(
    _: AdminDep,
    accounts: AccountsDep,
    page: PageNumber = 1,
    size: PageSize = 20,
) -> UserPage:
    """Every live account, oldest first, a page at a time (admin only)."""
    items, total = await accounts.page(page, size)
    return UserPage(items=[_user(u) for u in items], total=total, page=page, size=size)


@router.get("/users/{user_id}", response_model=UserPublic, tags=["users"])
async def get_user(user_id: str, caller: CallerDep, accounts: AccountsDep) -> UserPublic:
    """One account: your own, or any as an admin. Anyone else's is a 404."""
    return _user(await accounts.get(caller, user_id))


@router.put(
    "/users/{user_id}",
    response_model=UserPublic,
    tags=["users"],
    responses=problems(403, 409),
)
async def update_user(
    user_id: str, body: UserUpdate, caller: CallerDep, accounts: AccountsDep
) -> UserPublic:
    """Change name, email, password (ends every session of the account) or — admins only —
    role. Only the fields sent change. 409 if the new email is taken."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if "email" in changes:
        changes["email"] = str(changes["email"])
    return _user(await accounts.update(caller, user_id, **changes))


@router.delete("/users/{user_id}", status_code=204, tags=["users"])
async def delete_user(user_id: str, caller: CallerDep, accounts: AccountsDep) -> Response:
    """Delete an account (your own, or any as an admin): it can no longer log in, and its
    refresh tokens and access tokens stop working."""
    await accounts.delete(caller, user_id)
    return Response(status_code=204)


@router.post("/login/auth", response_model=TokenPair, tags=["login"], responses=problems(401, 429))
async def login(body: Login, sessions: SessionsDep, request: Request) -> TokenPair:
    """Exchange email and password for an access token (EdDSA JWT, at most 15 minutes) and a
    refresh token. A wrong password and an unknown email get the same 401. After 5 failures
    for one email from one client, or 20 from one client across emails, within 15 minutes,
    each attempt waits 1 s, 2 s, 4 s… (up to a minute) after the last one: 429 with
    `Retry-After` meanwhile. The owner logging in from elsewhere is not slowed down."""
    client = request.client.host if request.client else "-"
    return _pair(await sessions.login(str(body.email), body.password, client))


@router.post("/login/refresh", response_model=TokenPair, tags=["login"], responses=problems(401))
async def refresh(body: RefreshRequest, sessions: SessionsDep) -> TokenPair:
    """A new token pair for a refresh token, which is dead afterwards. Presenting a refresh
    token that was already used revokes every token of its login (reuse detection)."""
    return _pair(await sessions.refresh(body.refresh_token))


@router.post("/login/logout", status_code=204, tags=["login"])
async def logout(body: RefreshRequest, sessions: SessionsDep) -> Response:
    """End the login the refresh token belongs to. Always 204."""
    await sessions.logout(body.refresh_token)
    return Response(status_code=204)


@router.get("/.well-known/jwks.json", tags=["login"])
async def jwks(state: StateDep) -> JSONResponse:
    """The public keys that verify access tokens (Ed25519, `alg: EdDSA`), by `kid`."""
    return JSONResponse(state.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})
