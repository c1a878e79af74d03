"""Password hashing with argon2id (argon2-cffi), off the event loop and with bounded memory.

Production parameters are argon2-cffi's RFC 9106 "low memory" profile: time cost 3, memory
64 MiB, parallelism 4, 16-byte salt, 32-byte hash (docs/adr/005). Tests pass cheaper ones
through ``Settings``; hashes carry their parameters, so a login rehashes an old one.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from gamestore.platform.config import Settings


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4

    @classmethod
    def from_settings(cls, settings: Settings) -> Argon2Parameters:
        return cls(
            settings.argon2_time_cost, settings.argon2_memory_cost_kib, settings.argon2_parallelism
        )


class Passwords:
    """Hash and verify; at most ``concurrency`` hashes run at once, each in a worker thread."""

    def __init__(self, parameters: Argon2Parameters, *, concurrency: int | None = None) -> None:
        self.parameters = parameters
        self._hasher = PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_cost_kib,
            parallelism=parameters.parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        # Memory is the scarce resource (64 MiB per hash): a login flood queues, it does not OOM.
        self._slots = asyncio.Semaphore(concurrency or os.cpu_count() or 2)
        # Unknown emails are verified against this, so they cost what a wrong password costs.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; ``None`` (no such user) costs the same and is False."""
        async with self._slots:
            return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            matched = self._hasher.verify(password_hash or self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return matched and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


def passwords_for(settings: Settings) -> Passwords:
    """The hasher with the configured parameters (production defaults: RFC 9106 low memory)."""
    return Passwords(Argon2Parameters.from_settings(settings))
