"""``petitions db upgrade`` and ``petitions audit verify``."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from cli.common import err, note, out, reports_errors, settings
from services.attachments import verify_files
from services.clock import configured
from storage.audit import audit_key
from storage.db import make_engine
from storage.files import file_store
from storage.migrate import upgrade
from storage.repository import SqlUnitOfWork
from storage.schema import upgrade_if_behind

db_app = typer.Typer(help="The database (PETITIONS_DATABASE_URL; SQLite under "
                     "PETITIONS_HOME by default).", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(audit_app, name="audit")


@db_app.command("upgrade")
@reports_errors
def db_upgrade() -> None:
    """Create or upgrade the schema (Alembic migrations)."""
    url = settings().db_url
    upgrade(make_engine(url))
    out.print(f"database at {make_url(url).render_as_string(hide_password=True)} is up to "
              "date", highlight=False)


@audit_app.command("verify")
@reports_errors
def audit_verify(full: Annotated[bool, typer.Option(
        "--full/--since-checkpoint",
        help="--full (the default): read every audit row. --since-checkpoint: only the rows "
        "written since the last signed checkpoint (what daily-checks does), or every row "
        "when it does not verify.")] = True,
        files: Annotated[bool, typer.Option(
            "--files", help="Also re-hash every attached file's stored bytes against the "
            "SHA-256 its case's audit trail recorded.")] = False) -> None:
    """Check every case's hash chain; name the first broken row of each broken case, and
    record what was found as a checkpoint signed with the installation's audit key
    (PETITIONS_AUDIT_KEY, else $PETITIONS_HOME/audit-key), which daily-checks continues
    from. Exit code 1 when any chain is broken (or, with --files, any file does not
    match)."""
    s = settings()
    key = audit_key(s.home, os.environ)
    engine = make_engine(s.db_url)
    upgrade_if_behind(engine)
    with SqlUnitOfWork(engine) as uow:  # no office needed
        found = uow.audit_verify(key, configured(s.home, s.simulated_clock).now(), full=full)
        checked = verify_files(uow, file_store(s.files_url, s.home)) if files else None
        uow.commit()
    if found.note:
        note(found.note)
    for b in found.breaks:
        err.print(f"BROKEN case {b.case_id}: row {b.seq} (id {b.row_id}) {b.problem}",
                  highlight=False)
    out.print(f"{found.checked} case chains checked, {len(found.breaks)} broken",
              highlight=False)
    how = ("every audit row read" if found.full
           else f"the audit rows since checkpoint {found.since} read")
    out.print(f"{how} ({found.rows_read}); checkpoint {found.checkpoint} written",
              highlight=False)
    if checked is not None:
        for problem in checked.problems:
            err.print(f"BROKEN {problem}", highlight=False)
        out.print(f"{checked.checked} attached files re-hashed, {len(checked.problems)} "
                  "not matching", highlight=False)
    if found.breaks or (checked is not None and checked.problems):
        raise typer.Exit(1)
