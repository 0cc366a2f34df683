"""Both storage backends behind the one interface: a local directory and S3 (moto's server)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from livebeats.files.storage import LocalStorage, S3Storage, StoredFileMissing, new_key
from support import free_port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path: Path, s3_credentials) -> LocalStorage | S3Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "songs")
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"songs-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    return S3Storage(bucket, "songs/", endpoint_url=endpoint)


async def read_all(storage, key: str, start: int, end: int) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key, start, end)])


async def test_save_size_read_delete(storage, tmp_path: Path):
    source = tmp_path / "upload.bin"
    data = bytes(range(256)) * 1000
    source.write_bytes(data)
    key = new_key()
    await storage.save(key, source)
    assert await storage.size(key) == len(data)
    assert await read_all(storage, key, 0, len(data) - 1) == data
    assert await read_all(storage, key, 1000, 70_000) == data[1000:70_001]
    await storage.delete(key)
    with pytest.raises(StoredFileMissing):
        await storage.size(key)
    with pytest.raises(StoredFileMissing):
        await read_all(storage, key, 0, 10)
    await storage.delete(key)


async def test_keys_must_be_app_chosen_uuids(storage):
    for key in ("../../etc/passwd", "song.mp3", f"{uuid.uuid4()}.exe"):
        with pytest.raises(ValueError):
            await storage.size(key)


async def test_s3_objects_live_under_the_prefix(s3_endpoint, s3_credentials, tmp_path: Path):
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket="prefixed", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    storage = S3Storage("prefixed", "media/songs/", endpoint_url=s3_endpoint)
    source = tmp_path / "a.mp3"
    source.write_bytes(b"ID3data")
    key = new_key()
    await storage.save(key, source)
    head = client.head_object(Bucket="prefixed", Key=f"media/songs/{key}")
    assert head["ContentType"] == "audio/mpeg"
