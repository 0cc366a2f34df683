"""Both storage backends behind the one interface: a local directory and S3 (moto's server)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from mp3gen import mp3_bytes
from support import AppServer, free_port, receive

from livebeats.files.storage import LocalStorage, S3Storage, StoredFileMissing, new_key

S3_CLIENT_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "eu-west-2"}


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-2"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def s3_server(app_env, s3_endpoint, tmp_path_factory) -> Iterator[AppServer]:
    """The app storing songs in a (moto) S3 bucket instead of a directory."""
    boto3.client("s3", endpoint_url=s3_endpoint, **S3_CLIENT_CREDENTIALS).create_bucket(
        Bucket="app-songs", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    with AppServer(
        {**app_env, **S3_CREDENTIALS, "SONGS_BUCKET": "app-songs", "SONGS_PREFIX": "beats/", "S3_ENDPOINT_URL": s3_endpoint},
        tmp_path_factory.mktemp("logs") / "s3.log",
    ) as app:
        yield app


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


async def test_app_uploads_streams_and_deletes_through_s3(browsers, s3_server, s3_endpoint):
    owner = await browsers("owner", target=s3_server)
    data = mp3_bytes(4, artist="Cloud")
    [song_id] = await owner.add_songs([("In The Bucket.mp3", data)])
    client = boto3.client("s3", endpoint_url=s3_endpoint, **S3_CLIENT_CREDENTIALS)
    [stored] = client.list_objects_v2(Bucket="app-songs", Prefix="beats/")["Contents"]
    assert stored["Size"] == len(data)

    async with owner.live(owner.user_id) as socket:
        url = (await receive(socket, "state"))["player"]["url"]
        part = await owner.http.get(url, headers={"Range": "bytes=10-109"})
        assert part.status_code == 206 and part.content == data[10:110]
        assert part.headers["content-range"] == f"bytes 10-109/{len(data)}"
        await socket.send(json.dumps({"type": "delete", "song_id": song_id}))
        await receive(socket, "songs_deleted")
    assert client.list_objects_v2(Bucket="app-songs", Prefix="beats/").get("KeyCount") == 0


async def test_keys_stored_before_a_cutoff(storage, tmp_path: Path):
    source = tmp_path / "song.mp3"
    source.write_bytes(b"ID3")
    keys = sorted([new_key(), new_key()])
    for key in keys:
        await storage.save(key, source)
    if isinstance(storage, LocalStorage):
        (storage.directory / "notes.txt").write_text("not a song")
    now = datetime.now(UTC)
    assert sorted(await storage.keys_stored_before(now + timedelta(minutes=1))) == keys
    assert await storage.keys_stored_before(now - timedelta(hours=1)) == []
