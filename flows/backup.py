"""The served engine's ``daily-backup`` (scheduled in ``flows.runner``): a thin task over
``services.backup.daily``. Without a passphrase the backup still runs and leaves the keys
out; the run's log and result say so."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from flows.tasks import app
from services import backup, health

BEAT = "daily-backup"  # its heartbeat, read by `petitions health`


@task(cache_policy=NONE, retries=1, retry_delay_seconds=60)
def take_backup() -> dict[str, Any]:
    a = app()
    made = backup.daily(a.settings, a.clock.now())
    log = get_run_logger()
    for line in made.notes:
        log.warning("backup: %s", line)
    summary = {"path": str(made.path), "keys_included": made.keys_included,
               "counts": made.manifest["counts"], "pruned": [p.name for p in made.pruned],
               "notes": made.notes}
    health.beat(a, BEAT, f"{made.path.name}; keys "
                f"{'sealed' if made.keys_included else 'LEFT OUT (no passphrase)'}")
    log.info("backup written to %s (%s); %d older removed", made.path,
             made.manifest["counts"], len(made.pruned))
    return summary


@flow(name="daily-backup", persist_result=True)
async def daily_backup() -> dict[str, Any]:
    """Every night: the database, the files, the configuration and (with
    PETITIONS_BACKUP_PASSPHRASE) the sealed keys into PETITIONS_BACKUP_DIR (default
    HOME/backups), the newest PETITIONS_BACKUP_KEEP (default 7) kept."""
    return take_backup()
