"""The file store as the use cases see it (a port; its adapters are ``storage/files.py``)."""

from __future__ import annotations

from typing import Protocol


class FileMissing(Exception):
    """The file store holds nothing under a key (the caller says what that means)."""


class FileStore(Protocol):
    """Where files' bytes are kept (django-storages' ``Storage``, reduced to what the
    engine does): a folder under the home, or an S3-compatible object store shared by the
    web replicas (``storage/files.py``). Keys are relative paths (``a/b/c.pdf``)."""

    def put(self, key: str, data: bytes) -> None:
        """Keep ``data`` under ``key``, replacing what was there (whole or not at all)."""

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; ``FileMissing`` when there are none."""

    def exists(self, key: str) -> bool: ...

    def where(self, key: str) -> str:
        """Where ``key`` is, for a person to read (a path, or ``s3://bucket/key``)."""
