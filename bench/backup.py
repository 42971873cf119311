"""Time ``petitions backup`` and ``petitions restore`` (services/backup.py, services/restore.py)
on the scale benchmark's SQLite database: a group of 40 mines and N petitions over two years
(``bench/scale_data.py``), written in bulk, then backed up (with the keys sealed), restored
into an empty home and checked (``audit verify --full`` on the restored copy).

    PYTHONPATH=. python bench/backup.py --petitions 100000 [--home DIR] [--keep]

With ``--home`` holding ``scale-N.db`` from an earlier run (this or ``bench/scale.py
--reuse``'s pristine copy), the petitions are not built again.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pendulum

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scale_data import generate, write, write_group  # noqa: E402
from services.backup import backup  # noqa: E402
from services.bootstrap import App  # noqa: E402
from services.clock import FixedClock  # noqa: E402
from services.config import load_installation  # noqa: E402
from services.restore import restore  # noqa: E402
from services.settings import Settings  # noqa: E402
from storage.audit import audit_key  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.repository import SqlUnitOfWork  # noqa: E402

NOW = pendulum.datetime(2026, 11, 25, 2, 0)
WORD = "bench passphrase"


def build(home: Path, n: int) -> Path:
    """``HOME/scale-N.db`` with ``n`` petitions (kept from an earlier run if there)."""
    db = home / f"scale-{n}.db"
    pristine = home / f"scale-{n}.pristine.db"
    if not db.exists() and pristine.exists():
        shutil.copyfile(pristine, db)
    if not (home / "config").exists():
        write_group(home / "config", 40)
    if db.exists():
        print(f"reusing {db}", flush=True)
        return db
    installation = load_installation(home / "config")
    t0 = time.perf_counter()
    probe = App(Settings(home=home), installation.office(None), FixedClock(NOW),
                lambda: None, None, installation)  # type: ignore[arg-type,return-value]
    built = list(generate(probe, n, NOW))
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    write(engine, built)
    engine.dispose()
    print(f"{len(built):,} cases built and written in {time.perf_counter() - t0:.0f} s",
          flush=True)
    return db


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--petitions", type=int, default=100_000)
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the home and the backup")
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="petitions-backup-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    db = build(home, args.petitions)
    url = f"sqlite:///{db}"
    upgrade(make_engine(url))
    audit_key(home, {})
    settings = Settings(home=home, config_dir=home / "config", database_url=url)
    print(f"database {db.stat().st_size / 1e6:.0f} MB", flush=True)

    t0 = time.perf_counter()
    made = backup(settings, home / "bench-backup.tar", NOW, WORD)
    took = time.perf_counter() - t0
    c = made.manifest["counts"]
    print(f"backup: {took:.1f} s, {made.path.stat().st_size / 1e6:.0f} MB, {c['cases']:,} "
          f"cases, {c['audit_events']:,} audit events, {c['config']} config files",
          flush=True)

    target = home / "restored"
    shutil.rmtree(target, ignore_errors=True)
    restored = Settings(home=target)
    t0 = time.perf_counter()
    restore(restored, made.path, lambda: WORD)
    took = time.perf_counter() - t0
    print(f"restore (hashes checked, keys unsealed, database and config written): "
          f"{took:.1f} s", flush=True)

    engine = make_engine(restored.db_url)
    t0 = time.perf_counter()
    with SqlUnitOfWork(engine) as uow:
        found = uow.audit_verify(audit_key(target, {}), NOW, full=True)
    print(f"restored copy: audit verify --full {found.checked:,} chains, "
          f"{len(found.breaks)} broken, in {time.perf_counter() - t0:.1f} s", flush=True)
    engine.dispose()
    if not args.keep:
        made.path.unlink()
        shutil.rmtree(target, ignore_errors=True)
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
