"""``petitions db upgrade`` and ``petitions audit verify``."""

from __future__ import annotations

import typer
from sqlalchemy.engine import make_url

from cli.common import err, out, reports_errors, settings
from storage.db import make_engine
from storage.migrate import upgrade
from storage.repository import SqlUnitOfWork

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
def audit_verify() -> None:
    """Check every case's hash chain; name the first broken row of each broken case.
    Exit code 1 when any chain is broken."""
    with SqlUnitOfWork(make_engine(settings().db_url)) as uow:  # no office needed
        checked, breaks = uow.audit_check()
    for b in breaks:
        err.print(f"BROKEN case {b.case_id}: row {b.seq} (id {b.row_id}) {b.problem}",
                  highlight=False)
    out.print(f"{checked} case chains checked, {len(breaks)} broken", highlight=False)
    if breaks:
        raise typer.Exit(1)
