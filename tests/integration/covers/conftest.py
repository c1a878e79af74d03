"""Cover storage adapters for the contract suite: files on disk, and S3 on moto's server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from gamestore.games.covers.storage import CoverStorage, open_cover_storage
from tests.ports import free_port

BUCKET = "covers"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free port, with credentials set for boto3's default chain."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_SESSION_TOKEN", "testing"), ("AWS_DEFAULT_REGION", "us-east-1"),
        ):  # fmt: skip
            env.setenv(name, value)
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


@pytest.fixture
def s3_url(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty bucket on the moto server, as a ``GAMESTORE_COVERS_URL``."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    if any(b["Name"] == BUCKET for b in client.list_buckets().get("Buckets", [])):
        listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        for item in listed:
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    else:
        client.create_bucket(Bucket=BUCKET)
    return f"s3://{BUCKET}/store?endpoint={s3_endpoint}&region=us-east-1"


@pytest.fixture(params=["disk", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CoverStorage]:
    """Each adapter of the port, opened by URL as the service opens it."""
    url = None if request.param == "disk" else request.getfixturevalue("s3_url")
    opened = open_cover_storage(url, tmp_path)
    yield opened
    await opened.close()
