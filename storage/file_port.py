"""The file store as the use cases see it (a port; its adapters are ``storage/files.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from domain.attachments import Attachment
from storage.chain import AuditRow


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


class AttachmentStore(Protocol):
    """The rows of the files attached to cases (``storage/attachments.py``); the bytes
    are the ``FileStore``'s."""

    def add(self, a: Attachment) -> None:
        """A new file of a case; one case holds one content once (a second is refused)."""

    def of_case(self, case_id: str) -> list[Attachment]:
        """Every file of the case, withdrawn ones too, the first attached first."""

    def counts(self, case_ids: Sequence[str]) -> dict[str, int]:
        """How many files (not withdrawn) each of ``case_ids`` holds."""

    def withdraw(self, file_id: str, by: str, at: dt.datetime, reason: str) -> None: ...
    def every(self) -> list[Attachment]: ...

    def events(self) -> list[AuditRow]:
        """Every case's ``FileAttached`` and ``FileWithdrawn`` audit rows, in order."""
