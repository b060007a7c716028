"""The storage seam: one interface over a local directory and an S3 bucket/prefix.

Keys are always relative, `/`-separated paths under the data root
(`bronze/events/load_date=2026-05-01/run_id=.../part-00001.json`). Writes of raw data use
`create_exclusive`, which refuses to replace an existing object: bronze is never rewritten.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlparse


class ObjectExistsError(FileExistsError):
    """Raised when raw data would be overwritten."""


class Storage(Protocol):
    """What the pipeline needs from an object store."""

    root: str

    def uri(self, key: str) -> str: ...

    @contextmanager
    def create_exclusive(self, key: str) -> Iterator[BinaryIO]:
        """Write a new object; fail with `ObjectExistsError` if it already exists."""
        ...

    def put(self, key: str, data: bytes) -> None:
        """Create or replace a small object (state files, manifests) atomically."""
        ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under `prefix` (recursively), sorted."""
        ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    """A directory on the local disk."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.base = Path(root).expanduser().resolve()
        self.root = str(self.base)

    def _path(self, key: str) -> Path:
        path = (self.base / key).resolve()
        if self.base not in path.parents and path != self.base:
            raise ValueError(f"key escapes the data root: {key!r}")
        return path

    def uri(self, key: str) -> str:
        return str(self._path(key))

    @contextmanager
    def create_exclusive(self, key: str) -> Iterator[BinaryIO]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = open(path, "xb")  # noqa: SIM115 - closed below
        except FileExistsError as exc:
            raise ObjectExistsError(f"refusing to overwrite {path}") from exc
        with handle:
            yield handle

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write-then-rename so that a killed process never leaves half a state file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def list(self, prefix: str) -> Iterator[str]:
        start = self._path(prefix) if prefix else self.base
        if start.is_file():
            yield prefix
            return
        if not start.exists():
            return
        for path in sorted(p for p in start.rglob("*") if p.is_file()):
            if path.name.startswith(".") and path.name.endswith(".tmp"):
                continue
            yield path.relative_to(self.base).as_posix()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    """An S3 bucket and prefix (`s3://bucket/prefix`)."""

    def __init__(self, root: str, client: object | None = None) -> None:
        parsed = urlparse(root)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"not an s3:// URI: {root!r}")
        self.root = root.rstrip("/")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.client = client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    @contextmanager
    def create_exclusive(self, key: str) -> Iterator[BinaryIO]:
        if self.exists(key):
            raise ObjectExistsError(f"refusing to overwrite {self.uri(key)}")
        # Spool to disk past 8 MiB so a large body never has to sit in memory whole.
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as buffer:
            yield buffer  # type: ignore[misc]
            buffer.seek(0)
            # IfNoneMatch makes the create conditional on S3 itself (no race between runs).
            self.client.put_object(  # type: ignore[attr-defined]
                Bucket=self.bucket, Key=self._key(key), Body=buffer.read(), IfNoneMatch="*"
            )

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)  # type: ignore[attr-defined]

    def get(self, key: str) -> bytes:
        response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))  # type: ignore[attr-defined]
        return response["Body"].read()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))  # type: ignore[attr-defined]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def list(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")  # type: ignore[attr-defined]
        full = self._key(prefix)
        strip = f"{self.prefix}/" if self.prefix else ""
        keys: list[str] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            keys.extend(obj["Key"][len(strip) :] for obj in page.get("Contents", []))
        yield from sorted(keys)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))  # type: ignore[attr-defined]


def open_storage(root: str) -> Storage:
    """The storage for a data root: `s3://bucket/prefix` or a local directory."""
    if root.startswith("s3://"):
        return S3Storage(root)
    if "://" in root:
        raise ValueError(f"unsupported data root {root!r}: use a directory or s3://bucket/prefix")
    return LocalStorage(root)


__all__ = ["LocalStorage", "ObjectExistsError", "S3Storage", "Storage", "open_storage"]
