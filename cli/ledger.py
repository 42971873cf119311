"""``petitions import-ledger``: an office's old ledger (台账, .xlsx or .csv) imported as
historical cases through a column mapping (``services/ledger.py``): every row checked
first, every problem listed, all or nothing. No Prefect: an open imported case's run is
started by the reconciler, as after any intake the engine did not see."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import reports_errors, say, via
from cli.home import app as make_app
from services.ledger import import_ledger, load_mapping
from services.schema import migrated


def register(app: typer.Typer) -> None:
    app.command("import-ledger")(import_ledger_cmd)


@reports_errors
def import_ledger_cmd(
        file: Annotated[Path, typer.Argument(help="The ledger: .xlsx (its first sheet) or "
                                             ".csv, a header row first.")],
        mapping: Annotated[Path, typer.Option("--mapping", help="The column mapping (YAML: "
                                              "columns: {field: ledger column}).")],
        actor: Annotated[str, typer.Option(
            "--actor", "-a", help="Who imports: one of the petition office's staff.")],
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", help="Check every row; import nothing.")] = False) -> None:
    """Import a ledger (台账导入) as historical cases: registered when received, assigned,
    decided and closed as the ledger says, each with an Imported (台账导入) event. Any bad
    row: every problem listed (row and field), nothing imported. The same file twice: its
    registration numbers are taken, nothing imported."""
    done = import_ledger(migrated(make_app()), file, load_mapping(mapping), actor=actor, via=via(),
                         dry_run=dry_run)
    verb = "checked, nothing imported (--dry-run)" if done.dry_run else "imported"
    say(f"{len(done.cases)} row(s) of {done.file} {verb}")
    for case in done.cases:
        say(f"  {case.registration_no}  {case.stage.label}  {case.petition.subject}")
