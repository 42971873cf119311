"""``petitions show`` and ``petitions list``: read commands, answered from the database at
once (no Prefect, no Alembic)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import Json, emit, out, reports_errors, say, table
from cli.home import app as make_app
from cli.views import print_case
from domain.permissions import Sight
from services.naming import OfficeNames
from services.reading import LIST_PAGE, case_and_history, open_case_records, open_case_rows
from services.records import case_record

Ref = Annotated[str, typer.Argument(help="Case id or registration number.")]
# Labels and names; ``--json`` has the ids beside them.
LIST_COLUMNS = ("ref", "stage_label", "unit_name", "responder_name", "leader_name",
                "deadline_label", "due", "overdue_label", "warning")
LIST_HEADERS = ("编号", "环节", "承办单位", "首问责任人", "包案领导", "下一期限", "到期", "超期",
                "提示")


def register(app: typer.Typer) -> None:
    app.command("show")(show_cmd)
    app.command("list")(list_cmd)


@reports_errors
def show_cmd(ref: Ref, as_json: Json = False) -> None:
    """One case: where it is, its deadlines and its events."""
    a = make_app()
    case, audit = case_and_history(a, ref)
    if as_json:
        emit(case_record(a, case, Sight.FULL, a.clock.now(), audit))
        return
    print_case(out, case, a.rules_for(case), a.clock.now(), audit, OfficeNames(a))


@reports_errors
def list_cmd(overdue: Annotated[bool, typer.Option(help="Only cases past a deadline.")] = False,
             as_json: Json = False,
             limit: Annotated[int, typer.Option(min=1, max=10000, help="Cases shown at once "
                                                "(the soonest due first).")] = LIST_PAGE,
             offset: Annotated[int, typer.Option(min=0, help="Cases skipped (the next "
                                                 "page: --offset 100).")] = 0) -> None:
    """Open cases with their next deadline, the soonest due first, a page at a time
    (worst overdue first with --overdue)."""
    a = make_app()
    if as_json:
        emit(open_case_records(a, overdue_only=overdue, limit=limit, offset=offset))
        return
    rows, total = open_case_rows(a, overdue_only=overdue, limit=limit, offset=offset)
    out.print(table(rows, LIST_COLUMNS, headers=LIST_HEADERS))
    more = offset + limit < total
    say(f"{len(rows)} case(s)" + (f" of {total} open; the next page: --offset "
                                  f"{offset + limit}" if more and not overdue else "")
        + ("; more past due: --offset " + str(offset + limit) if more and overdue else ""))
