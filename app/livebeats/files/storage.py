"""Where song files live: one small interface, a local directory or an S3 bucket.

Keys are random UUIDs chosen by the app, never user input, so neither backend
has to defend against path tricks beyond refusing keys that are not UUIDs.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

import boto3
from botocore.exceptions import ClientError

from livebeats.settings import Settings

CHUNK_SIZE = 64 * 1024


class StoredFileMissing(LookupError):
    """The key names no stored file (deleted, or never written)."""


def new_key() -> str:
    return f"{uuid.uuid4()}.mp3"


def _checked(key: str) -> str:
    stem, _, suffix = key.partition(".")
    uuid.UUID(stem)
    if suffix != "mp3":
        raise ValueError(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    async def save(self, key: str, source: Path) -> None:
        """Store the file at `source` under `key`."""

    async def delete(self, key: str) -> None:
        """Remove the file; a missing file is not an error."""

    async def size(self, key: str) -> int:
        """Size in bytes; raises StoredFileMissing."""

    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start`..`end` inclusive, in chunks."""

    async def keys_stored_before(self, cutoff: datetime) -> list[str]:
        """Keys of files written before `cutoff` (for sweeping uploads never saved as songs)."""


def _is_key(name: str) -> bool:
    try:
        _checked(name)
    except ValueError:
        return False
    return True


class LocalStorage:
    """Songs in a local directory: the default, for development and single hosts."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.directory / _checked(key)

    async def save(self, key: str, source: Path) -> None:
        await asyncio.to_thread(shutil.copyfile, source, self._path(key))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def size(self, key: str) -> int:
        try:
            return (await asyncio.to_thread(self._path(key).stat)).st_size
        except FileNotFoundError as error:
            raise StoredFileMissing(key) from error

    async def keys_stored_before(self, cutoff: datetime) -> list[str]:
        def scan() -> list[str]:
            limit = cutoff.timestamp()
            return [path.name for path in self.directory.iterdir() if _is_key(path.name) and path.stat().st_mtime < limit]

        return await asyncio.to_thread(scan)

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        try:
            handle = await asyncio.to_thread(self._path(key).open, "rb")
        except FileNotFoundError as error:
            raise StoredFileMissing(key) from error
        try:
            await asyncio.to_thread(handle.seek, start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK_SIZE, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()


class S3Storage:
    """Songs in an S3 bucket; boto3 is synchronous, so every call runs in a thread."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None = None, region: str | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix
        # The bucket lives in the primary region; naming it spares the secondary
        # region's tasks a redirect on every first request.
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def _object_key(self, key: str) -> str:
        return f"{self.prefix}{_checked(key)}"

    async def save(self, key: str, source: Path) -> None:
        await asyncio.to_thread(
            self.client.upload_file,
            str(source),
            self.bucket,
            self._object_key(key),
            ExtraArgs={"ContentType": "audio/mpeg"},
        )

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self._object_key(key))

    async def size(self, key: str) -> int:
        try:
            head = await asyncio.to_thread(self.client.head_object, Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                raise StoredFileMissing(key) from error
            raise
        length: int = head["ContentLength"]
        return length

    async def keys_stored_before(self, cutoff: datetime) -> list[str]:
        def scan() -> list[str]:
            keys = []
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    name = item["Key"].removeprefix(self.prefix)
                    if _is_key(name) and item["LastModified"] < cutoff:
                        keys.append(name)
            return keys

        return await asyncio.to_thread(scan)

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        try:
            response = await asyncio.to_thread(
                self.client.get_object,
                Bucket=self.bucket,
                Key=self._object_key(key),
                Range=f"bytes={start}-{end}",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                raise StoredFileMissing(key) from error
            raise
        body = response["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, CHUNK_SIZE):
                yield chunk
        finally:
            body.close()


def create_storage(settings: Settings) -> Storage:
    if settings.songs_bucket:
        return S3Storage(settings.songs_bucket, settings.songs_prefix, settings.s3_endpoint_url, settings.songs_bucket_region)
    return LocalStorage(settings.storage_dir)
