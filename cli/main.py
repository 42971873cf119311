"""The ``petitions`` command's root. Each command group is a module of ``cli`` with a
``register(app)``; only the group a command needs is loaded and built, so ``calendar due``
pays for the calendar alone, and ``show`` never for Prefect or Alembic. ``--help`` (or an
unknown command) loads them all."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from domain.acts import Act

# The first word of a command → the module that registers it.
GROUPS: dict[str, str] = {
    "calendar": "cli.calendar", "policy": "cli.policy",
    "check-config": "cli.office", "route": "cli.office",
    "db": "cli.admin", "audit": "cli.admin", "backup": "cli.backup", "restore": "cli.backup",
    "serve": "cli.engine", "sweep": "cli.engine", "reconcile": "cli.engine",
    "clock": "cli.clock", "intake": "cli.intake",
    **{act.command: "cli.actions" for act in Act},
    "show": "cli.cases", "list": "cli.cases",
    "search": "cli.search", "history": "cli.search",
    "timeline": "cli.supervise", "overdue": "cli.supervise", "kpi": "cli.supervise",
    "report": "cli.supervise", "monthly-return": "cli.supervise",
    "import-ledger": "cli.ledger",
    "reception": "cli.practices", "zero-report": "cli.practices", "signal": "cli.practices",
    "practices": "cli.practices", "key-periods": "cli.practices",
    "outbox": "cli.outbox", "demo": "cli.demo", "health": "cli.health", "watchdog": "cli.health",
    "user": "cli.access", "token": "cli.access", "notice": "cli.notice",
    "review-pack": "cli.review", "review": "cli.review", "targets": "cli.review",
    "attach": "cli.files", "files": "cli.files", "withdraw-file": "cli.files",
    "keyperson": "cli.keypersons",
}


def build(command: str | None = None) -> typer.Typer:
    """The root app with the group of ``command`` registered (every group for None or an
    unknown command, so that help lists them all)."""
    app = typer.Typer(help="petition-engine: petitions (信访) through their stages, no "
                      "deadline passing unnoticed.", no_args_is_help=True,
                      add_completion=False)

    @app.callback()
    def root(office: Annotated[str | None, typer.Option(
            "--office", help="The office to act in, of an installation with several (a "
            "group's and each mine's; default: $PETITIONS_OFFICE, else the root).",
            show_default=False)] = None) -> None:
        """petition-engine: petitions (信访) through their stages, no deadline passing
        unnoticed."""
        if office is not None:
            os.environ["PETITIONS_OFFICE"] = office  # read with every other setting

    wanted = [GROUPS[command]] if command in GROUPS else sorted(set(GROUPS.values()))
    for name in wanted:
        importlib.import_module(name).register(app)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args if not a.startswith("-")), None)
    build(command)(args=args, prog_name="petitions")


if __name__ == "__main__":
    main()
