"""The JWT attack suite: every forged, altered or misplaced token ends in 401.

Each attack is sent through the gateway AND straight to the users service (a request that
bypasses the gateway gets no further). Attacks that need an otherwise perfect token (expired,
``nbf``, ``iss``, ``aud``, key-naming headers) are signed with the service's real private key,
read from its key directory: the scenario of a stolen or replayed token. The forged tokens
claim the admin's identity and role and target an admin route, so a verifier that skipped any
check would answer 200, not 401 or 403.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.e2e.api import Account, assert_unauthorized, bearer, raw_request
from tests.e2e.stack import Stack

ADMIN_ROUTE = "/users"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: dict[str, Any]) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def public_jwk(key: Ed25519PrivateKey, kid: str) -> dict[str, str]:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64(raw), "kid": kid}


@dataclass
class Forge:
    """What an attacker (or a thief of the signing key) has to work with."""

    real_key: Ed25519PrivateKey
    kid: str
    attacker_key: Ed25519PrivateKey
    claims: dict[str, Any]  # a perfectly valid admin claim set
    player_token: str
    admin_token: str

    def fresh_claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {**self.claims, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def signed(self, claims: dict[str, Any] | None = None, **headers: Any) -> str:
        """Signed with the REAL key (EdDSA), ``kid`` ours unless ``headers`` say otherwise."""
        return jwt.encode(
            claims or self.fresh_claims(),
            self.real_key,
            algorithm="EdDSA",
            headers={"kid": self.kid, **headers},
        )

    def by_attacker(self, kid: str | None = None, **headers: Any) -> str:
        return jwt.encode(
            self.fresh_claims(),
            self.attacker_key,
            algorithm="EdDSA",
            headers={"kid": kid or self.kid, **headers},
        )

    def public_forms(self) -> dict[str, bytes]:
        """The public key as a confused HMAC verifier might use it as a secret."""
        public = self.real_key.public_key()
        return {
            "raw": public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
            "pem": public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "jwk": json.dumps(public_jwk(self.real_key, self.kid)).encode(),
            "x": public_jwk(self.real_key, self.kid)["x"].encode(),
        }

    def raw_signed(self, header: dict[str, Any]) -> str:
        """Any header at all, signed with the real key (PyJWT refuses to write some)."""
        signing_input = f"{b64json(header)}.{b64json(self.fresh_claims())}"
        return f"{signing_input}.{b64(self.real_key.sign(signing_input.encode()))}"

    def hs256(self, secret: bytes) -> str:
        signing_input = f"{b64json({'alg': 'HS256', 'typ': 'JWT', 'kid': self.kid})}."
        signing_input += b64json(self.fresh_claims())
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64(signature)}"

    def unsigned(self, alg: str, trailing: str) -> str:
        header = b64json({"alg": alg, "typ": "JWT", "kid": self.kid})
        return f"{header}.{b64json(self.fresh_claims())}{trailing}"

    def tampered(self, **changes: Any) -> str:
        """The player's real token with its payload edited, the original signature kept."""
        header, payload, signature = self.player_token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return f"{header}.{b64json({**claims, **changes})}.{signature}"


def newest_signing_key(stack: Stack) -> Ed25519PrivateKey:
    """The users service's newest private key, from its key directory under the data dir."""
    files = sorted((stack.data_dir / "keys").glob("*.pem"))
    assert files, f"no key files under {stack.data_dir / 'keys'}"
    key = serialization.load_pem_private_key(files[-1].read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


@pytest.fixture(scope="module")
def forge(stack: Stack, admin: Account) -> Forge:
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as http:
        email = f"victim-{uuid.uuid4().hex[:10]}@example.com"
        body = {"name": "Victim", "email": email, "password": "Pl4yer!pass"}
        assert http.post("/users", json=body).status_code == 201
        login = http.post("/login/auth", json={"email": email, "password": "Pl4yer!pass"})
        assert login.status_code == 200, login.text
    player_token = login.json()["access_token"]
    claims = jwt.decode(admin.access_token, options={"verify_signature": False})
    return Forge(
        real_key=newest_signing_key(stack),
        kid=jwt.get_unverified_header(admin.access_token)["kid"],
        attacker_key=Ed25519PrivateKey.generate(),
        claims=claims,
        player_token=player_token,
        admin_token=admin.access_token,
    )


@pytest.fixture(params=["gateway", "direct"])
def target(
    request: pytest.FixtureRequest, client: httpx.AsyncClient, direct: httpx.AsyncClient
) -> httpx.AsyncClient:
    """The gateway, then the users service straight (defence in depth)."""
    return client if request.param == "gateway" else direct


# --- the controls: what the attacks are measured against -------------------------------------


async def test_the_real_admin_token_is_accepted(target: httpx.AsyncClient, forge: Forge) -> None:
    response = await target.get(ADMIN_ROUTE, headers=bearer(forge.admin_token))
    assert response.status_code == 200, response.text


async def test_a_token_signed_with_the_stolen_key_is_accepted(
    target: httpx.AsyncClient, forge: Forge
) -> None:
    # Proves the forging below is right: only the one broken property makes the attacks fail.
    response = await target.get(ADMIN_ROUTE, headers=bearer(forge.signed()))
    assert response.status_code == 200, response.text
    by_hand = forge.raw_signed({"alg": "EdDSA", "typ": "JWT", "kid": forge.kid})
    response = await target.get(ADMIN_ROUTE, headers=bearer(by_hand))
    assert response.status_code == 200, response.text


async def test_the_player_token_is_not_admin(target: httpx.AsyncClient, forge: Forge) -> None:
    response = await target.get(ADMIN_ROUTE, headers=bearer(forge.player_token))
    assert response.status_code == 403, response.text


# --- the attacks --------------------------------------------------------------------------------

ATTACKS: dict[str, Callable[[Forge], str]] = {
    "alg-none": lambda f: f.unsigned("none", "."),
    "alg-none-no-trailing-dot": lambda f: f.unsigned("none", ""),
    "alg-None-capitalised": lambda f: f.unsigned("None", "."),
    "alg-NONE-with-signature": lambda f: f.unsigned("NONE", "." + b64(b"x" * 64)),
    "hs256-with-public-key-raw": lambda f: f.hs256(f.public_forms()["raw"]),
    "hs256-with-public-key-pem": lambda f: f.hs256(f.public_forms()["pem"]),
    "hs256-with-public-key-jwk": lambda f: f.hs256(f.public_forms()["jwk"]),
    "hs256-with-public-key-x": lambda f: f.hs256(f.public_forms()["x"]),
    "tampered-role-admin": lambda f: f.tampered(role="admin"),
    "tampered-role-and-sub": lambda f: f.tampered(role="admin", sub=f.claims["sub"]),
    "signature-stripped": lambda f: f.signed().rsplit(".", 1)[0] + ".",
    "expired": lambda f: f.signed(
        f.fresh_claims(iat=int(time.time()) - 1000, exp=int(time.time()) - 120)
    ),
    "nbf-in-the-future": lambda f: f.signed(f.fresh_claims(nbf=int(time.time()) + 600)),
    "wrong-iss": lambda f: f.signed(f.fresh_claims(iss="https://evil.example.com")),
    "wrong-aud": lambda f: f.signed(f.fresh_claims(aud="someone-else")),
    "aud-list-without-ours": lambda f: f.signed(f.fresh_claims(aud=["a", "b"])),
    "no-exp": lambda f: f.signed(f.fresh_claims(exp=None)),
    "no-iss": lambda f: f.signed(f.fresh_claims(iss=None)),
    "no-aud": lambda f: f.signed(f.fresh_claims(aud=None)),
    "no-sub": lambda f: f.signed(f.fresh_claims(sub=None)),
    "no-jti": lambda f: f.signed(f.fresh_claims(jti=None)),
    "no-role": lambda f: f.signed(f.fresh_claims(role=None)),
    "unknown-role": lambda f: f.signed(f.fresh_claims(role="superuser")),
    "other-key-with-our-kid": lambda f: f.by_attacker(),
    "other-key-with-its-own-kid": lambda f: f.by_attacker(kid="attacker-key-1"),
    "kid-path-traversal": lambda f: f.signed(kid="../../etc/passwd"),
    "kid-dev-null": lambda f: f.signed(kid="/dev/null"),
    "kid-sql-injection": lambda f: f.signed(kid="' OR 1=1 --"),
    "kid-sql-union": lambda f: f.signed(kid="x' UNION SELECT 'secret"),
    "kid-missing": lambda f: jwt.encode(f.fresh_claims(), f.real_key, algorithm="EdDSA"),
    "kid-not-a-string": lambda f: f.raw_signed({"alg": "EdDSA", "typ": "JWT", "kid": 12345}),
    "kid-a-list": lambda f: f.raw_signed({"alg": "EdDSA", "typ": "JWT", "kid": [f.kid]}),
    "jku-header-attacker": lambda f: f.by_attacker(
        kid="attacker-key-1", jku="http://127.0.0.1:1/jwks.json"
    ),
    "jku-header-real-key": lambda f: f.signed(jku="http://127.0.0.1:1/jwks.json"),
    "x5u-header": lambda f: f.by_attacker(x5u="http://127.0.0.1:1/cert.pem"),
    "x5u-header-real-key": lambda f: f.signed(x5u="http://127.0.0.1:1/cert.pem"),
    "jwk-header-embedding-attacker-key": lambda f: f.by_attacker(
        kid="attacker-key-1", jwk=public_jwk(f.attacker_key, "attacker-key-1")
    ),
    "jwk-header-with-our-kid": lambda f: f.by_attacker(jwk=public_jwk(f.attacker_key, f.kid)),
    "jwk-header-real-key": lambda f: f.signed(jwk=public_jwk(f.real_key, f.kid)),
    "x5c-header-real-key": lambda f: f.signed(x5c=["MIIB"]),
    "garbage": lambda f: "garbage",
    "garbage-three-parts": lambda f: "a.b.c",
    "garbage-dots": lambda f: "....",
    "garbage-header-only": lambda f: b64json({"alg": "EdDSA", "kid": f.kid}),
    "garbage-bad-json": lambda f: f"{b64(b'{not json')}.{b64(b'[]')}.{b64(b'sig')}",
    "garbage-payload-not-object": lambda f: f.signed().split(".")[0] + f".{b64(b'[1,2]')}.x",
    "garbage-long": lambda f: "A" * 6000,
    "garbage-two-tokens": lambda f: f"{f.admin_token} {f.admin_token}",
}


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_attack_is_refused(target: httpx.AsyncClient, forge: Forge, attack: str) -> None:
    token = ATTACKS[attack](forge)
    response = await target.get(ADMIN_ROUTE, headers={"Authorization": f"Bearer {token}"})
    assert_unauthorized(response)
    me = await target.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert_unauthorized(me)


@pytest.mark.parametrize(
    "authorization",
    [b"Bearer", b"", b"\xff\xfe\xfd", b"Bearer .", b"Bearer ..", b"Bearer null"],
    ids=["bearer-only", "empty", "non-ascii", "one-dot", "two-dots", "null"],
)
async def test_empty_or_binary_authorization_is_refused(
    target: httpx.AsyncClient, authorization: bytes
) -> None:
    response = await target.get("/users/me", headers=[(b"Authorization", authorization)])
    assert_unauthorized(response)


@pytest.mark.parametrize(
    "authorization",
    [b"Bearer ", b"Bearer     ", b"Bearer \t", b"Bearer \xc3\xa9t\xc3\xa9.\xff.\x01"],
    ids=["bearer-space", "bearer-blanks", "bearer-tab", "bearer-binary"],
)
async def test_blank_or_binary_bearer_sent_raw_is_refused(
    target: httpx.AsyncClient, authorization: bytes
) -> None:
    # Bytes httpx will not send: written on the socket. The HTTP layer may refuse them (400).
    head = b"GET /users/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + authorization
    response = await raw_request(str(target.base_url), head)
    assert response.status in (400, 401), response
    if response.status == 401:
        assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT", "Bearer:", "Digest", ""])
async def test_a_valid_token_in_another_scheme_is_refused(
    target: httpx.AsyncClient, forge: Forge, scheme: str
) -> None:
    value = f"{scheme} {forge.admin_token}".strip()
    response = await target.get(ADMIN_ROUTE, headers={"Authorization": value})
    assert_unauthorized(response)


async def test_basic_credentials_are_refused(target: httpx.AsyncClient) -> None:
    credentials = base64.b64encode(b"admin@example.com:Adm1n!secret").decode()
    response = await target.get("/users/me", headers={"Authorization": f"Basic {credentials}"})
    assert_unauthorized(response)


async def test_a_token_in_the_query_string_is_not_a_credential(
    target: httpx.AsyncClient, forge: Forge
) -> None:
    response = await target.get(f"/users/me?access_token={forge.admin_token}")
    assert_unauthorized(response)
