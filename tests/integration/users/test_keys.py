"""Signing keys: generated once, kept under the data dir, published in the JWKS, rotatable."""

from __future__ import annotations

import stat

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gamestore.platform.auth import StaticKeys, TokenVerifier
from gamestore.users import keys
from gamestore.users.bootstrap import UsersService, build
from tests.integration.users.conftest import SettingsFactory
from tests.integration.users.support import PASSWORD, new_email


async def _jwks(service: UsersService) -> dict[str, list[dict[str, str]]]:
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://users") as client:
        response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def test_the_first_start_generates_a_private_key_only_its_owner_reads(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    async with build(settings) as service:
        jwks = await _jwks(service)
    files = list((settings.data_dir / "keys").glob("*.pem"))

    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((settings.data_dir / "keys").stat().st_mode) == 0o700
    [key] = jwks["keys"]
    assert key == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": key["x"],
        "kid": service.keys.signing.kid,
        "use": "sig",
        "alg": "EdDSA",
    }
    assert "d" not in key  # never the private part


async def test_the_key_and_its_kid_survive_a_restart(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    email = new_email()
    async with build(settings) as first:
        await first.accounts.register("Ada", email, PASSWORD)
        token = (await first.sessions.login(email, PASSWORD)).access.token
    async with build(settings) as second:
        jwks = await _jwks(second)

    assert second.keys.signing.kid == first.keys.signing.kid
    assert (await TokenVerifier(StaticKeys(jwks)).verify(token)).role == "player"


async def test_rotation_signs_with_the_new_key_and_still_accepts_the_old(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    email = new_email()
    async with build(settings) as before:
        await before.accounts.register("Ada", email, PASSWORD)
        old_token = (await before.sessions.login(email, PASSWORD)).access.token
    new_key = keys.rotate(settings.data_dir)

    async with build(settings) as after:
        new_token = (await after.sessions.login(email, PASSWORD)).access.token
        jwks = await _jwks(after)

    assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid
    assert {k["kid"] for k in jwks["keys"]} == {before.keys.signing.kid, new_key.kid}
    verifier = TokenVerifier(StaticKeys(jwks))
    assert (await verifier.verify(old_token)).role == (await verifier.verify(new_token)).role


async def test_a_retired_key_is_no_longer_published(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    async with build(settings) as first:
        old_kid = first.keys.signing.kid
    keys.rotate(settings.data_dir)
    directory = settings.data_dir / "keys"
    (directory / "retired").mkdir()
    oldest = sorted(directory.glob("*.pem"))[0]
    oldest.rename(directory / "retired" / oldest.name)

    async with build(settings) as second:
        jwks = await _jwks(second)

    assert old_kid not in {k["kid"] for k in jwks["keys"]}
    assert len(jwks["keys"]) == 1


async def test_a_key_given_by_environment_is_used_instead_of_files(
    make_settings: SettingsFactory,
) -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    settings = make_settings(jwt_private_key=pem)

    async with build(settings) as service:
        jwks = await _jwks(service)

    assert [k["kid"] for k in jwks["keys"]] == [keys.thumbprint(private)]
    assert not (settings.data_dir / "keys").exists()


def test_the_kid_is_the_rfc_7638_thumbprint() -> None:
    # RFC 8037 appendix A.3: the thumbprint of its Ed25519 example key.
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    key = Ed25519PrivateKey.from_private_bytes(seed)

    assert keys.thumbprint(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


async def test_during_a_rotation_the_environment_holds_both_keys_and_the_newest_signs(
    make_settings: SettingsFactory,
) -> None:
    """Rotation without files (every replica reads the same secret): old key, then new key."""
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    pems = "\n".join(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        for key in (old, new)
    )
    settings = make_settings(jwt_private_key=pems)

    async with build(settings) as service:
        jwks = await _jwks(service)
        signing = service.keys.signing.kid

    assert [k["kid"] for k in jwks["keys"]] == [keys.thumbprint(old), keys.thumbprint(new)]
    assert signing == keys.thumbprint(new)
