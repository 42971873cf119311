"""``petitions notice print REF KIND``: a written notice as PDF for the letters desk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import reports_errors, say
from cli.home import app as make_app
from domain.notices import KINDS
from services.notices import print_notice
from services.schema import migrated


def register(app: typer.Typer) -> None:
    notice = typer.Typer(help="The written notices petitioners are sent (PDF).",
                         no_args_is_help=True)
    notice.command("print")(print_cmd)
    app.add_typer(notice, name="notice")


@reports_errors
def print_cmd(
        ref: Annotated[str, typer.Argument(help="The case (registration number or id).")],
        kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(KINDS)}.")],
        actor: Annotated[str, typer.Option("--actor", "-a", help=(
            "Who prints: one of the case's handlers, or its letters desk."))],
        out: Annotated[Path | None, typer.Option(help="Copy the PDF here too.")] = None,
) -> None:
    """Render a notice the case has reached (受理告知书 acceptance, 不予受理 decline, 延期
    extension, 处理意见书 decision, 复查意见书 review) on the office's letterhead, numbered
    and dated, as PDF in the file store (PETITIONS_HOME/files/notices/, or the object store
    of PETITIONS_FILES_URL), and record it on the case's timeline."""
    notice = print_notice(migrated(make_app()), ref, kind, actor)
    if out is not None:
        out.write_bytes(notice.pdf)
    say(f"{notice.kind.title} {notice.number}: {out or notice.where}")
