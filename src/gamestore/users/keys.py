"""Ed25519 signing keys: generated on first start under ``<data_dir>/keys/``, or given by env.

Each key is a PEM file ``ed25519-<created>.pem`` (mode 0600, directory 0700); its ``kid`` is the
RFC 7638 thumbprint of the public key, so the same file always has the same kid. Tokens are
signed with the newest key; the JWKS publishes every key in the directory, so tokens signed
with an older key stay valid until they expire. Moving a file to ``keys/retired/`` retires it.
In production ``GAMESTORE_JWT_PRIVATE_KEY`` (PEM) can provide the key instead.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from gamestore.platform.clock import utcnow
from gamestore.platform.config import Settings
from gamestore.platform.logs import get_logger

log = get_logger("users.keys")
_PREFIX = "ed25519-"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    def public_jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64(_raw_public(self.private_key)),
            "kid": self.kid,
            "use": "sig",
            "alg": "EdDSA",
        }


@dataclass(frozen=True)
class KeyRing:
    """The keys in force: ``signing`` signs, ``published`` verify (signing included)."""

    signing: SigningKey
    published: tuple[SigningKey, ...]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in self.published]}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def thumbprint(key: Ed25519PrivateKey) -> str:
    """RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64(_raw_public(key))}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64(hashlib.sha256(canonical).digest())


def signing_key(private_key: Ed25519PrivateKey) -> SigningKey:
    return SigningKey(thumbprint(private_key), private_key)


def load_pem(pem: bytes) -> SigningKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the JWT private key must be an Ed25519 key")
    return signing_key(key)


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Two processes starting at once must not both generate a first key."""
    with (directory / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_new_key(directory: Path) -> Path:
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
    path = directory / f"{_PREFIX}{stamp}.pem"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(_pem(Ed25519PrivateKey.generate()))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return path


def _key_files(directory: Path) -> list[Path]:
    """Oldest first: the creation time is in the name, so the order survives copies."""
    return sorted(directory.glob(f"{_PREFIX}*.pem"))


def _open_directory(data_dir: Path) -> Path:
    directory = data_dir / "keys"
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    return directory


def rotate(data_dir: Path) -> SigningKey:
    """Add a new newest key (it signs after the next start; older keys stay published)."""
    directory = _open_directory(data_dir)
    with _locked(directory):
        path = _write_new_key(directory)
    key = load_pem(path.read_bytes())
    log.info("signing key added", kid=key.kid)
    return key


def pem_blocks(value: SecretStr) -> list[bytes]:
    """The PEM keys in ``GAMESTORE_JWT_PRIVATE_KEY``, oldest first: during a rotation it holds
    the old key and then the new one, so every replica signs with the new one and still
    publishes the old one until the tokens it signed have expired (deploy/README.md)."""
    text = value.get_secret_value()
    blocks = re.findall(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", text, re.DOTALL)
    return [block.encode() for block in blocks] or [text.encode()]


def load_key_ring(settings: Settings) -> KeyRing:
    """The configured key (env) or the keys under the data dir, generating the first one."""
    if settings.jwt_private_key is not None:  # one PEM, or several while rotating
        keys = tuple(load_pem(pem) for pem in pem_blocks(settings.jwt_private_key))
        return KeyRing(keys[-1], keys)
    directory = _open_directory(settings.data_dir)
    with _locked(directory):
        files = _key_files(directory)
        if not files:
            files = [_write_new_key(directory)]
            log.info("signing key generated", directory=str(directory))
    keys = tuple(load_pem(path.read_bytes()) for path in files)
    log.info("signing keys loaded", signing_kid=keys[-1].kid, published=len(keys))
    return KeyRing(keys[-1], keys)
