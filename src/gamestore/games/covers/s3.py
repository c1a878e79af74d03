"""The S3-compatible adapter of the cover storage port (AWS S3, MinIO, Ceph …).

Configured by URL, ``s3://<bucket>[/<prefix>]?endpoint=http://minio:9000&region=us-east-1``;
credentials come from the standard AWS variables (``AWS_ACCESS_KEY_ID`` …) through boto3's
usual chain, never from the URL. boto3 blocks, so each call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from gamestore.games.covers.storage import checked_key

_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3CoverStorage:
    """Covers as objects of one bucket, under an optional key prefix."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_url(cls, url: str) -> S3CoverStorage:
        """The adapter for an ``s3://`` URL (see the module docstring)."""
        parts = urlsplit(url)
        if not parts.netloc:
            raise ValueError("an s3:// covers URL names its bucket: s3://<bucket>")
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        client = boto3.client(
            "s3",
            endpoint_url=query.get("endpoint"),
            region_name=query.get("region"),
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )
        return cls(client, parts.netloc, parts.path)

    def _key(self, key: str) -> str:
        return self._prefix + checked_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self._bucket, Key=self._key(key), Body=data, ContentType=content_type,
        )  # fmt: skip

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._read, self._key(key))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._client.delete_object, Bucket=self._bucket, Key=self._key(key))

    async def close(self) -> None:
        await asyncio.to_thread(self._client.close)

    def _read(self, key: str) -> bytes | None:
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        body: bytes = response["Body"].read()
        return body
