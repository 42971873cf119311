"""The file store's two adapters (``ports.FileStore``; django-storages' FileSystemStorage
and S3Storage, reduced to put, get and exists), run by one test suite:

- ``LocalFiles``: a folder under the home (``HOME/files``): the folders made 0700, the
  files 0600, each written to a temporary file and renamed into place (whole or not at all);
- ``S3Files``: an S3-compatible object store (MinIO, Ceph, a cloud's), so that several web
  replicas and workers read the same files. boto3 is imported when the first file is
  read or written, never by a command that touches no file.

``PETITIONS_FILES_URL`` chooses: unset, the folder; ``s3://BUCKET/PREFIX`` an object store,
with ``?endpoint=http://HOST:PORT`` for one that is not AWS's and ``&region=NAME``
(default ``us-east-1``). Its keys come the standard AWS way (``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, or a profile), never in the URL. The bucket must exist.
"""

from __future__ import annotations

import os
import tempfile
import urllib.parse
from pathlib import Path, PurePosixPath
from typing import Any

from domain.errors import ConfigError
from storage.file_port import FileMissing, FileStore

URL_VARIABLE = "PETITIONS_FILES_URL"


def _checked(key: str) -> str:
    if not key or any(p in ("..", ".", "") for p in key.split("/")) or "\\" in key:
        raise ValueError(f"not a file store key: {key!r}")
    return key


class LocalFiles:
    """Files in a folder (``root``), made 0700 when first written to."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*PurePosixPath(_checked(key)).parts)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = self.root
        for part in path.relative_to(self.root).parts[:-1]:
            folder = folder / part
            folder.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".part-")  # 0600 by mkstemp
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise FileMissing(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def where(self, key: str) -> str:
        return str(self._path(key))


class S3Files:
    """Files as objects of ``bucket`` under ``prefix`` in an S3-compatible store."""

    def __init__(self, bucket: str, prefix: str = "", endpoint: str | None = None,
                 region: str = "us-east-1") -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.endpoint, self.region = endpoint, region
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # the object store's client, with its first file
            from botocore.config import Config

            self._client = boto3.client(
                "s3", endpoint_url=self.endpoint, region_name=self.region,
                config=Config(retries={"max_attempts": 5, "mode": "standard"},
                              s3={"addressing_style": "path"}))
        return self._client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{_checked(key)}" if self.prefix else _checked(key)

    def _translated(self, e: Exception, key: str) -> Exception:
        code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NotFound"):
            return FileMissing(key)
        if code == "NoSuchBucket":
            return ConfigError(f"the object store has no bucket '{self.bucket}' (create "
                               "it first)", source=URL_VARIABLE)
        return e

    def put(self, key: str, data: bytes) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except ClientError as e:
            raise self._translated(e, key) from None

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as e:
            raise self._translated(e, key) from None
        body: bytes = answer["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as e:
            if isinstance(self._translated(e, key), FileMissing):
                return False
            raise self._translated(e, key) from None
        return True

    def where(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"


def file_store(url: str | None, home: Path) -> FileStore:
    """The store ``url`` names (``PETITIONS_FILES_URL``; see the module), or the folder
    ``HOME/files`` when it is None."""
    if not url:
        return LocalFiles(home / "files")
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "file":
        return LocalFiles(Path(urllib.parse.unquote(parsed.path)))
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ConfigError(f"expected s3://BUCKET/PREFIX?endpoint=URL or file:///PATH, got "
                          f"{url!r}", source=URL_VARIABLE)
    query = urllib.parse.parse_qs(parsed.query)
    unknown = set(query) - {"endpoint", "region"}
    if unknown:
        raise ConfigError(f"unknown parameter {sorted(unknown)[0]!r}; expected endpoint, "
                          "region (keys come from AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY)", source=URL_VARIABLE)
    endpoint = query.get("endpoint")
    return S3Files(parsed.netloc, parsed.path, endpoint[0] if endpoint else None,
                   (query.get("region") or ["us-east-1"])[0])
