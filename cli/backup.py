"""``petitions backup OUT`` and ``petitions restore IN`` (``services.backup``,
``services.restore``). The installation's operator runs them, as ``db upgrade``: whoever may
read the home holds everything a backup holds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.common import note, out, reports_errors, settings
from domain.errors import ConfigError
from services.backup import backup as make_backup
from services.backup_seal import PASSPHRASE_ENV
from services.clock import configured
from services.restore import restore as do_restore

PassphraseStdin = Annotated[bool, typer.Option(
    "--passphrase-stdin", help="Read the passphrase that seals the installation's keys from "
    f"the first line of stdin (else ${PASSPHRASE_ENV}).")]


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)


def _passphrase(from_stdin: bool, ask: bool) -> str | None:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ConfigError("no passphrase on stdin", source="--passphrase-stdin")
        return line
    given = settings().backup_passphrase
    if given is not None:
        return given.get_secret_value()
    if ask and sys.stdin.isatty():
        asked: str = typer.prompt("the backup's passphrase", hide_input=True)
        return asked
    return None


@reports_errors
def backup(target: Annotated[Path, typer.Argument(
        metavar="OUT", help="The backup file to write, or a folder to write "
        "petitions-backup-<local time>.tar in.")],
        passphrase_stdin: PassphraseStdin = False) -> None:
    """Back up the database, the attached files, the office's configuration and the
    installation's keys (sealed with a passphrase; without one they are left out) into
    one file, written beside OUT and renamed into place when whole."""
    s = settings()
    made = make_backup(s, target, configured(s.home, s.simulated_clock).now(),
                       _passphrase(passphrase_stdin, ask=False))
    for line in made.notes:
        note(line)
    m = made.manifest
    counts = m["counts"]
    out.print(f"backup written to {made.path}: {m['database']} database at revision "
              f"{m['revision']}, {counts['cases']} cases, {counts['audit_events']} audit "
              f"events, {counts['files']} files, {counts['config']} configuration files, "
              f"{counts['keys']} keys sealed", highlight=False)


@reports_errors
def restore(source: Annotated[Path, typer.Argument(
        metavar="IN", help="A backup file written by `petitions backup`.")],
        passphrase_stdin: PassphraseStdin = False) -> None:
    """Restore a backup into an EMPTY home (PETITIONS_HOME, its database: the SQLite file
    or an empty PETITIONS_DATABASE_URL). Every member's SHA-256 is checked against the
    manifest first; a damaged backup, a home with a database, or a wrong passphrase changes
    nothing."""
    s = settings()
    done = do_restore(s, source, lambda: _passphrase(passphrase_stdin, ask=True))
    for line in done.notes:
        note(line)
    counts = done.manifest["counts"]
    out.print(f"restored {done.manifest['created']}'s backup: {counts['cases']} cases, "
              f"{counts['audit_events']} audit events, {done.files} files, {done.config} "
              f"configuration files, {done.keys} keys; check it with `petitions audit "
              "verify --files`", highlight=False)
