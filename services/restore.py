"""A backup (``services.backup``) brought back into an empty home. Everything is checked
before anything is written: the manifest and the SHA-256 of every member, the home (no
database with tables, no configuration or key file that differs from the backup's), the
PostgreSQL tool, and the passphrase that opens the keys. Then the database (SQLite: a file
renamed into place; PostgreSQL: ``pg_restore`` in one transaction into the configured,
empty database), the files (through the file store), the configuration and the keys.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from domain.errors import ConfigError
from services.backup import FORMAT, KEYS_MEMBER, MANIFEST, SECRET_FILES
from services.backup_seal import PASSPHRASE_ENV, unseal
from services.settings import Settings
from storage import dump
from storage.db import make_engine
from storage.files import file_store

_SOURCE = "restore"


@dataclass
class Restored:
    manifest: dict[str, Any]
    files: int = 0
    config: int = 0
    keys: int = 0
    notes: list[str] = field(default_factory=list)


def _refuse(message: str) -> ConfigError:
    return ConfigError(message, source=_SOURCE)


def _safe(name: str, prefix: str) -> str:
    rel = name[len(prefix):]
    parts = PurePosixPath(rel).parts
    if not rel or rel.startswith("/") or any(p in ("..", ".", "") for p in parts):
        raise _refuse(f"the backup holds an unsafe name: {name!r}")
    return rel


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    """The manifest, after every member's bytes were hashed against it."""
    try:
        manifest: dict[str, Any] = json.loads(_bytes(tar, MANIFEST))
    except (KeyError, ValueError):
        raise _refuse("not a petitions backup: no readable manifest.json") from None
    if manifest.get("format") != FORMAT:
        raise _refuse(f"unknown backup format {manifest.get('format')!r} (expected {FORMAT})")
    expected: dict[str, dict[str, Any]] = manifest["members"]
    seen = set()
    for info in tar:
        if info.name == MANIFEST:
            continue
        want = expected.get(info.name)
        if want is None or not info.isfile():
            raise _refuse(f"the backup is damaged: {info.name} is not in its manifest")
        f = tar.extractfile(info)
        assert f is not None
        sha = hashlib.sha256()
        while chunk := f.read(1 << 20):
            sha.update(chunk)
        if sha.hexdigest() != want["sha256"]:
            raise _refuse(f"the backup is damaged: {info.name} does not match its SHA-256")
        seen.add(info.name)
    missing = sorted(set(expected) - seen)
    if missing:
        raise _refuse(f"the backup is damaged: {missing[0]} is missing")
    return manifest


def _bytes(tar: tarfile.TarFile, name: str) -> bytes:
    f = tar.extractfile(name)
    if f is None:
        raise KeyError(name)
    return f.read()


def _differs(path: Path, data: bytes) -> bool:
    return path.exists() and (not path.is_file() or path.read_bytes() != data)


def _check_home(settings: Settings, manifest: dict[str, Any], config: dict[str, bytes]
                ) -> None:
    kind = dump.kind_of(settings.db_url)
    if kind != manifest["database"]:
        raise _refuse(f"the backup holds a {manifest['database']} database and this home is "
                      f"configured for {kind} (PETITIONS_DATABASE_URL)")
    if kind == "postgresql":
        dump.tool("pg_restore")
    engine = make_engine(settings.db_url)
    try:
        empty = (kind == "sqlite" and not dump.sqlite_path(settings.db_url).exists()) \
            or dump.is_empty(engine)
    finally:
        engine.dispose()
    if not empty:
        raise _refuse("this home already has a database (restore only into an empty one: a "
                      "new PETITIONS_HOME, or an empty PETITIONS_DATABASE_URL)")
    for rel, data in config.items():
        if _differs(settings.office_dir / rel, data):
            raise _refuse(f"{settings.office_dir / rel} exists and differs from the backup's")


def _write_new(path: Path, data: bytes | IO[bytes], mode: int = 0o600) -> None:
    """``data`` (bytes, or a file read in chunks) at ``path``, its folders made 0700,
    whole or not at all."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, bytes):
                f.write(data)
            else:
                shutil.copyfileobj(data, f, 1 << 20)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    f = tar.extractfile(name)
    assert f is not None  # a file: read_manifest checked every member
    return f


def restore(settings: Settings, archive: Path,
            ask_passphrase: Callable[[], str | None]) -> Restored:
    """Restore ``archive`` into the (empty) home and database of ``settings``; the
    passphrase is asked once the backup and the home are checked, and only when the
    backup holds keys. A damaged backup, a home not empty, a wrong or missing passphrase:
    one ``ConfigError``, nothing written."""
    if not archive.is_file():
        raise _refuse(f"no backup at {archive}")
    try:
        tar = tarfile.open(archive, mode="r:")
    except tarfile.TarError:
        raise _refuse(f"{archive} is not a backup (not a tar file)") from None
    with tar:
        manifest = read_manifest(tar)
        names = list(manifest["members"])
        config = {_safe(n, "config/"): _bytes(tar, n) for n in names if n.startswith("config/")}
        _check_home(settings, manifest, config)
        secrets: dict[str, str] = {}
        if manifest["keys"]["sealed"]:
            passphrase = ask_passphrase()
            if not passphrase:
                raise _refuse("the backup's keys are sealed: give its passphrase "
                              f"(--passphrase-stdin or {PASSPHRASE_ENV})")
            secrets = unseal(_bytes(tar, KEYS_MEMBER), manifest["keys"]["kdf"], passphrase)
            for name, value in secrets.items():
                if name not in SECRET_FILES:  # never a database, a config or a path
                    raise _refuse(f"the backup holds an unknown key name: {name[:40]!r}")
                kept = settings.home / name
                if kept.exists() and kept.read_text(encoding="utf-8").strip() != value:
                    raise _refuse(f"{settings.home / name} exists and differs from the "
                                  "backup's key")
        done = Restored(manifest)
        if not manifest["keys"]["sealed"]:
            done.notes.append("this backup holds no keys (made without a passphrase): new "
                              "ones are made, and the old audit checkpoints and query codes "
                              "no longer verify under them")
        _restore_database(settings, tar, manifest)
        store = file_store(settings.files_url, settings.home)
        for n in names:
            if n.startswith("files/"):
                store.put(_safe(n, "files/"), _bytes(tar, n))
                done.files += 1
        for rel, data in config.items():
            if not (settings.office_dir / rel).exists():  # else the same (checked above)
                _write_new(settings.office_dir / rel, data, 0o644)
            done.config += 1
        for name, value in secrets.items():
            _write_new(settings.home / name, value.encode("utf-8"))
            done.keys += 1
    return done


def _restore_database(settings: Settings, tar: tarfile.TarFile,
                      manifest: dict[str, Any]) -> None:
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if manifest["database"] == "sqlite":
        target = dump.sqlite_path(settings.db_url)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        for leftover in (target.with_name(target.name + "-wal"),
                         target.with_name(target.name + "-shm")):
            leftover.unlink(missing_ok=True)  # of an empty database, never of ours
        _write_new(target, _member(tar, "database/petitions.db"))
        return
    with tempfile.TemporaryDirectory(prefix="petitions-restore-") as d:
        copy = Path(d) / "petitions.pgdump"
        _write_new(copy, _member(tar, "database/petitions.pgdump"))
        dump.restore_postgres(settings.db_url, copy)
