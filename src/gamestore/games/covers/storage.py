"""The cover storage port and its local-disk adapter; ``open_cover_storage`` picks one by URL.

Keys are short paths of safe characters (``<game>/<digest>/<width>.webp``); the disk adapter
refuses anything else, so a key can never name a file outside its root. Objects are written
whole or not at all (a temporary file renamed over the target).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}(?:/[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}){0,4}$")


class CoverStorage(Protocol):
    """Where cover files live: bytes by key, nothing more."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing whatever was there."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None when there are none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def checked_key(key: str) -> str:
    """``key`` if it is a safe storage key (no ``..``, no absolute path), else ValueError."""
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"not a storage key: {key[:120]!r}")
    return key


class DiskCoverStorage:
    """Covers as files under ``root`` (the embedded default: ``<data_dir>/covers``)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        return self._root / checked_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def close(self) -> None:
        return None

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise


def open_cover_storage(url: str | None, data_dir: Path) -> CoverStorage:
    """``s3://bucket?endpoint=…&region=…`` for object storage, a ``file://`` path or nothing
    for files on this disk (``<data_dir>/covers``)."""
    if url is None or url == "":
        return DiskCoverStorage(data_dir / "covers")
    if url.startswith("file://"):
        return DiskCoverStorage(Path(url.removeprefix("file://")))
    if url.startswith("s3://"):
        from gamestore.games.covers.s3 import S3CoverStorage

        return S3CoverStorage.from_url(url)
    raise ValueError(f"GAMESTORE_COVERS_URL must be s3://… or file://…, not {url[:40]!r}")
