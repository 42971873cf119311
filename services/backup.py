"""Backups: one ``.tar`` file holding the database (``storage.dump``), the attachments of a
local file store, the office's configuration files, the installation's keys sealed with a
passphrase (``services.backup_seal``) and a manifest (format, version, database kind,
Alembic revision, counts, the SHA-256 of every member). ``services.restore`` reads it back.

The archive is written to a temporary file beside its destination and renamed into place
once whole (and fsynced): a backup cut short leaves the previous one as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from domain.instants import LOCAL_TZ
from services.backup_seal import seal
from services.settings import Settings
from storage import dump
from storage.files import LocalFiles, file_store

FORMAT = "petitions-backup/1"
MANIFEST = "manifest.json"
KEYS_MEMBER = "keys.sealed"
PREFIX = "petitions-backup-"
# The secret files a home may hold, each made on first use by ``installation_key``: the
# audit checkpoints' key (storage/audit.py), the query codes' MAC key (services/progress.py),
# the workplace's cookie key (web/auth.py), the Prefect server's password
# (flows/prefect_env.py) and a cluster's shared query key (deploy/cluster.py).
SECRET_FILES = ("audit-key", "query-key", "web-secret", "prefect-auth", "query-key.cluster")
# A key given in the environment is the one in use: it is backed up under its file's name,
# so that a home restored without the variable reads the same key.
SECRET_ENV = {"audit-key": "PETITIONS_AUDIT_KEY", "query-key": "PETITIONS_QUERY_KEY"}


@dataclass
class Made:
    """A backup written: where, what it holds, and what was left out (and why)."""

    path: Path
    manifest: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    pruned: list[Path] = field(default_factory=list)

    @property
    def keys_included(self) -> bool:
        return bool(self.manifest["keys"]["sealed"])


class _Hashing(io.RawIOBase):
    """A file read through, its SHA-256 taken on the way (one read per member)."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.sha = f, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.sha.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, path: Path | None, data: bytes | None,
         members: dict[str, dict[str, Any]]) -> None:
    info = tarfile.TarInfo(name)
    info.mode, info.mtime = 0o600, 0
    if data is not None:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        members[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        return
    assert path is not None
    with path.open("rb") as f:
        info.size = os.fstat(f.fileno()).st_size
        hashing = _Hashing(f)
        tar.addfile(info, hashing)
    members[name] = {"sha256": hashing.sha.hexdigest(), "size": info.size}


def _tree(root: Path) -> list[tuple[str, Path]]:
    """Every file under ``root`` by its relative POSIX path, the store's half-written
    temporary files (``.part-*``) left out."""
    if not root.is_dir():
        return []
    return sorted((PurePosixPath(*p.relative_to(root).parts).as_posix(), p)
                  for p in root.rglob("*") if p.is_file() and not p.name.startswith(".part-"))


def secrets_of(settings: Settings, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The installation's keys in use: each secret file of the home, or its variable."""
    env = os.environ if environ is None else environ
    found = {}
    for name in SECRET_FILES:
        given = env.get(SECRET_ENV.get(name, ""), "") if name in SECRET_ENV else ""
        path = settings.home / name
        if given:
            found[name] = given
        elif path.is_file():
            found[name] = path.read_text(encoding="utf-8").strip()
    return found


def file_name(now: dt.datetime) -> str:
    """``petitions-backup-YYYYMMDD-HHMMSS.tar``, in local time."""
    return f"{PREFIX}{now.astimezone(LOCAL_TZ):%Y%m%d-%H%M%S}.tar"


def backup(settings: Settings, out: Path, now: dt.datetime,
           passphrase: str | None) -> Made:
    """Write a backup to ``out`` (a file, or a folder to name one in). Without a
    passphrase the keys are left out, and ``notes`` says so: never in clear."""
    out = out / file_name(now) if out.is_dir() else out
    out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    kind = dump.kind_of(settings.db_url)
    if kind == "postgresql":
        dump.tool("pg_dump")  # missing: one line, before anything is written
    notes: list[str] = []
    store = file_store(settings.files_url, settings.home)
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        members: dict[str, dict[str, Any]] = {}
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w",
                                                       format=tarfile.PAX_FORMAT) as tar:
            with tempfile.TemporaryDirectory(dir=out.parent, prefix=".petitions-db-") as d:
                copy = Path(d) / ("petitions.db" if kind == "sqlite" else "petitions.pgdump")
                snap = (dump.copy_sqlite(settings.db_url, copy) if kind == "sqlite"
                        else dump.dump_postgres(settings.db_url, copy))
                _add(tar, f"database/{copy.name}", copy, None, members)
            files_count = 0
            if isinstance(store, LocalFiles):
                for rel, path in _tree(store.root):
                    _add(tar, f"files/{rel}", path, None, members)
                    files_count += 1
                where = "local"
            else:
                where = settings.files_url or ""  # its keys are never in the URL
                notes.append(f"attachments are in {where}: kept by the object store's own "
                             "versioning or replication, not in this file")
            config = _tree(settings.office_dir)
            for rel, path in config:
                _add(tar, f"config/{rel}", path, None, members)
            secrets = secrets_of(settings)
            keys: dict[str, Any] = {"sealed": False, "names": sorted(secrets)}
            if passphrase:
                token, kdf = seal(secrets, passphrase)
                _add(tar, KEYS_MEMBER, None, token, members)
                keys.update(sealed=True, kdf=kdf)
            else:
                notes.append(f"the keys ({', '.join(sorted(secrets)) or 'none yet'}) were "
                             "left out: no passphrase (PETITIONS_BACKUP_PASSPHRASE or "
                             "--passphrase-stdin) to seal them with")
            manifest = {
                "format": FORMAT,
                "version": importlib.metadata.version("petition-engine"),
                "created": now.astimezone(LOCAL_TZ).isoformat(),
                "database": kind, "revision": snap.revision,
                "counts": {**snap.counts, "files": files_count, "config": len(config),
                           "keys": len(secrets) if passphrase else 0},
                "files_store": where, "keys": keys, "members": members,
            }
            _add(tar, MANIFEST, None, json.dumps(manifest, ensure_ascii=False, indent=1)
                 .encode("utf-8"), {})
            tar.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, out)
        _sync_dir(out.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Made(out, manifest, notes)


def _sync_dir(folder: Path) -> None:
    """The rename itself made durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_dir(settings: Settings) -> Path:
    """Where the served engine's daily backups go: ``PETITIONS_BACKUP_DIR``, else
    ``HOME/backups``."""
    return settings.backup_dir or settings.home / "backups"


def prune(folder: Path, keep: int) -> list[Path]:
    """All but the newest ``keep`` backups of ``folder`` removed (by the local time their
    names carry); the removed ones."""
    found = sorted(p for p in folder.glob(f"{PREFIX}*.tar") if p.is_file())
    gone = found[:-keep] if keep > 0 else found
    for p in gone:
        p.unlink(missing_ok=True)
    return gone


def _leftovers(folder: Path, older_than: float = 12 * 3600) -> None:
    """What a backup killed halfway left in ``folder`` (its temporary archive and database
    copy), once old enough that no backup still running can own it."""
    limit = time.time() - older_than
    for p in [*folder.glob(f".{PREFIX}*.part"), *folder.glob(".petitions-db-*")]:
        if p.stat().st_mtime < limit:
            shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)


def daily(settings: Settings, now: dt.datetime) -> Made:
    """The served engine's daily backup into ``backup_dir``, keeping the newest
    ``PETITIONS_BACKUP_KEEP``."""
    passphrase = settings.backup_passphrase
    backup_dir(settings).mkdir(mode=0o700, parents=True, exist_ok=True)
    made = backup(settings, backup_dir(settings), now,
                  passphrase.get_secret_value() if passphrase else None)
    made.pruned = prune(backup_dir(settings), max(1, settings.backup_keep))
    _leftovers(backup_dir(settings))
    return made
