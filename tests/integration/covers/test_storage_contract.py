"""The cover storage port's contract: one suite, run against the disk and the S3 adapters."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gamestore.games.covers.s3 import S3CoverStorage
from gamestore.games.covers.storage import CoverStorage, DiskCoverStorage, open_cover_storage

KEY = "3f1c/0123456789abcdef0123/320.webp"


@pytest.mark.parametrize(
    "key", ["../escape", "/etc/passwd", "a/../../b", "a b", "", "a/.hidden/.."]
)
async def test_keys_that_could_leave_the_store_are_refused(storage: CoverStorage, key: str) -> None:
    with pytest.raises(ValueError, match="not a storage key"):
        await storage.put(key, b"x", "image/webp")
    with pytest.raises(ValueError, match="not a storage key"):
        await storage.get(key)


async def test_a_missing_key_reads_as_none(storage: CoverStorage) -> None:
    assert await storage.get(KEY) is None


async def test_deleting_a_missing_key_is_not_an_error(storage: CoverStorage) -> None:
    await storage.delete(KEY)


async def test_what_is_put_is_read_back_byte_for_byte(storage: CoverStorage) -> None:
    body = bytes(range(256)) * 1000
    await storage.put(KEY, body, "image/webp")
    assert await storage.get(KEY) == body


async def test_a_put_replaces_and_a_delete_removes(storage: CoverStorage) -> None:
    await storage.put(KEY, b"first", "image/webp")
    await storage.put(KEY, b"second", "image/webp")
    assert await storage.get(KEY) == b"second"
    await storage.delete(KEY)
    assert await storage.get(KEY) is None


async def test_keys_are_independent(storage: CoverStorage) -> None:
    other = KEY.replace("320", "640")
    await asyncio.gather(storage.put(KEY, b"small", "image/webp"), storage.put(other, b"big", "x"))
    await storage.delete(other)
    assert await storage.get(KEY) == b"small"
    assert await storage.get(other) is None


def test_the_url_picks_the_adapter(tmp_path: Path, s3_url: str) -> None:
    assert isinstance(open_cover_storage(None, tmp_path), DiskCoverStorage)
    assert isinstance(open_cover_storage(f"file://{tmp_path}/c", tmp_path), DiskCoverStorage)
    assert isinstance(open_cover_storage(s3_url, tmp_path), S3CoverStorage)
    with pytest.raises(ValueError, match="GAMESTORE_COVERS_URL"):
        open_cover_storage("ftp://somewhere", tmp_path)
    with pytest.raises(ValueError, match="bucket"):
        open_cover_storage("s3://?endpoint=http://x", tmp_path)


async def test_the_disk_adapter_keeps_files_under_the_data_dir(tmp_path: Path) -> None:
    storage = open_cover_storage(None, tmp_path)
    await storage.put(KEY, b"bytes", "image/webp")
    assert (tmp_path / "covers" / KEY).read_bytes() == b"bytes"
    assert not [p for p in (tmp_path / "covers").rglob(".tmp-*")]  # written whole, then renamed
