"""A case's attachments (附件): the scanned letter, photos, evidence, the signed decision.

An office sets which types it takes (judged by the bytes, never by the name), how large a
file may be and how many a case may hold (``office.yaml``: ``files``). A file is named by
the SHA-256 of its bytes and never changed or deleted: a wrong upload is withdrawn (撤回),
hidden from the case's list and kept, with who withdrew it, when and why. Attaching and
withdrawing are events of the case's hash-chained audit trail (``FileAttached`` carries the
SHA-256), so the chain vouches for every file's content.

Who may attach (``permissions.PERMITTED``, ``FileAct.ATTACH``): the petition office's staff
(they scan the letters at intake, an accusation's too, whose list they then see only as a
count) and the case's handling chain. Who may withdraw: the person who attached it, or the
petition office's head. Who sees them: as the case (``Sight``): a material or full reader sees
names, types and the files; an outline reader that there are N of them; anyone else nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from domain import labels as L
from domain.errors import ConfigError, RuleViolation
from domain.fields import Fields

MB = 1024 * 1024


class FileKind(enum.Enum):
    """What a file is to the case (chosen by whoever attaches it)."""

    LETTER_SCAN = "letter_scan"
    PHOTO = "photo"
    EVIDENCE = "evidence"
    SIGNED_DECISION = "signed_decision"
    UNDERTAKING = "undertaking"  # 息访承诺书: a key person's (``domain.keypersons``)
    OTHER = "other"

    @property
    def label(self) -> str:
        return L.FILE_KINDS[self.value]


@dataclass(frozen=True)
class FileType:
    """A type the engine knows by its content: its id (``office.yaml``), media type and
    name, and whether a browser shows it inline (the case page's preview)."""

    id: str
    media_type: str
    label: str
    preview: str = ""  # "image", "pdf" or "" (download only)


FILE_TYPES: dict[str, FileType] = {t.id: t for t in (
    FileType("pdf", "application/pdf", "PDF 文档", "pdf"),
    FileType("jpeg", "image/jpeg", "JPEG 图片", "image"),
    FileType("png", "image/png", "PNG 图片", "image"),
    FileType("webp", "image/webp", "WebP 图片", "image"),
    FileType("tiff", "image/tiff", "TIFF 图片（扫描件）"),
    FileType("heic", "image/heic", "HEIC 照片（手机）"),
    FileType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "Word 文档"),
    FileType("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "Excel 表格"),
)}
BY_MEDIA_TYPE = {t.media_type: t for t in FILE_TYPES.values()}


@dataclass(frozen=True)
class FilePolicy:
    """What an office takes: the types (ids of ``FILE_TYPES``), the largest file in bytes
    and the most files a case may hold (withdrawn ones do not count)."""

    types: tuple[str, ...] = ("pdf", "jpeg", "png", "webp", "tiff", "heic")
    max_bytes: int = 20 * MB
    max_per_case: int = 50

    def type_of(self, media_type: str | None, ref: str) -> FileType:
        """The allowed type of a file whose content was judged ``media_type`` (None: no
        known type), or ``RuleViolation`` saying what the office takes."""
        found = BY_MEDIA_TYPE.get(media_type or "")
        if found is None or found.id not in self.types:
            what = f"its content is {media_type}" if media_type else \
                "its content is of no known type"
            raise RuleViolation(ref, f"file refused: {what}; this office takes "
                                f"{', '.join(self.types)} (judged by content, not by name)")
        return found

    def check_size(self, size: int, ref: str) -> None:
        if size == 0:
            raise RuleViolation(ref, "file refused: it is empty")
        if size > self.max_bytes:
            raise RuleViolation(ref, f"file refused: larger than {_mb(self.max_bytes)} "
                                "(this office's limit)")

    def check_count(self, held: int, ref: str) -> None:
        if held >= self.max_per_case:
            raise RuleViolation(ref, f"file refused: the case holds {held} files, this "
                                f"office's limit per case is {self.max_per_case}")


def _mb(n: int) -> str:
    return f"{n / MB:g} MB" if n >= MB else f"{n} bytes"


def policy_from_mapping(data: Any) -> FilePolicy:
    """``office.yaml``'s ``files``: ``types`` (ids of ``FILE_TYPES``), ``max_mb`` (a
    file's largest size, MB; default 20) and ``max_per_case`` (default 50)."""
    f = Fields(data, "files", ("types", "max_mb", "max_per_case"))
    default = FilePolicy()
    types = f.text_list("types") if f.has("types") else default.types
    for i, t in enumerate(types):
        if t not in FILE_TYPES:
            raise ConfigError(f"unknown file type '{t}'; known: {', '.join(FILE_TYPES)}",
                              field=f"files.types[{i}]")
    size = f.raw("max_mb") if f.has("max_mb") else default.max_bytes / MB
    if isinstance(size, bool) or not isinstance(size, int | float) or size <= 0:
        raise ConfigError("expected a positive number of MB", field="files.max_mb")
    count = f.typed("max_per_case", int, default.max_per_case)
    if count < 1:
        raise ConfigError("expected at least 1", field="files.max_per_case")
    return FilePolicy(tuple(types), int(size * MB), count)


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def display_name(given: str, fallback: str = "附件") -> str:
    """The name a file is shown and downloaded under: the last part of ``given`` (a path
    from the uploader's machine), normalised (NFC), without control characters, slashes
    or quotes, without format characters (Unicode's Cf: the bidirectional overrides and
    isolates, U+202A to U+202E and U+2066 to U+2069, that show a program's ``gpj.exe`` as
    ``exe.jpg``; the direction marks, the zero-width ones), at most 120 characters;
    ``fallback`` when nothing is left."""
    last = re.split(r"[\\/]", given or "")[-1]
    shown = "".join(c for c in unicodedata.normalize("NFC", last)
                    if unicodedata.category(c) != "Cf")
    text = _UNSAFE.sub("_", shown).strip(" .")
    return text[:120] or fallback


@dataclass(frozen=True)
class Attachment:
    """One file of a case as stored: its bytes are named by ``sha256``. ``at`` and
    ``withdrawn_at`` are UTC instants."""

    id: str
    case_id: str
    sha256: str
    size: int
    media_type: str
    name: str
    kind: FileKind
    by: str
    at: dt.datetime
    n: int = 0  # its place among the case's files: 1 for the first attached
    withdrawn_by: str | None = None
    withdrawn_at: dt.datetime | None = None
    withdraw_reason: str | None = None

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def type(self) -> FileType | None:
        return BY_MEDIA_TYPE.get(self.media_type)
