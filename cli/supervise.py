"""The supervisors' commands: a case's timeline, the overdue list, the measures, the HTML
report. Read-only, and no Prefect: they answer at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import (
    Format,
    OutFile,
    XlsxFormat,
    check_format,
    emit,
    out,
    parse_day,
    reports_errors,
    say,
    table,
    write_file,
)
from cli.home import app as make_app
from cli.views import EVENT_COLUMNS, EVENT_HEADERS, print_header
from domain.instants import local_date
from domain.permissions import Sight
from services import monthly_return, workbooks
from services.measures import kpis, measure_rows
from services.naming import OfficeNames
from services.reading import OVERDUE_PAGE, case_and_history, overdue_rows, overdue_summary
from services.records import case_record
from services.report import render_report
from services.timeline import timeline_of

OVERDUE_COLUMNS = ("case", "stage_label", "deadline_label", "due", "overdue_label",
                   "responder_name", "leader_name")
OVERDUE_HEADERS = ("编号", "环节", "期限", "到期", "超期", "首问责任人", "包案领导")


def register(app: typer.Typer) -> None:
    app.command("timeline")(timeline_cmd)
    app.command("overdue")(overdue_cmd)
    app.command("kpi")(kpi_cmd)
    app.command("report")(report_cmd)
    app.command("monthly-return")(monthly_return_cmd)


@reports_errors
def timeline_cmd(ref: Annotated[str, typer.Argument(help="Case id or registration number.")],
                 fmt: Format = "table") -> None:
    """Every event of a case in local time, and every deadline with its state, extensions
    and who held the case when it was breached. --format json|csv to export."""
    fmt = check_format(fmt)
    a = make_app()
    case, audit = case_and_history(a, ref)
    names = OfficeNames(a)
    t = timeline_of(case, a.rules_for(case), audit, a.clock.now(), names)
    if fmt == "json":
        emit(case_record(a, case, Sight.FULL, a.clock.now(), audit))
        return
    if fmt == "csv":
        emit([{"case": case.ref, "kind": "event", **e} for e in t["events"]]
             + [{"case": case.ref, "kind": "deadline", "when": d["due"],
                 "stage": case.stage.value, "event": d["deadline"], "actor": d["held_by"],
                 "detail": "; ".join(x for x in (d["limit"], d["state"], d["extended"],
                                                 d["warning"]) if x)}
                for d in t["deadlines"]], "csv")
        return
    print_header(out, case, names)
    out.print(table(t["deadlines"], ("deadline_label", "limit", "due", "state_label",
                                     "extended", "breached_at", "held_by", "warning"),
                    title="办理期限", headers=("期限", "时限", "到期", "状态", "延期",
                                            "超期时间", "超期时承办人", "提示")))
    out.print(table(t["events"], EVENT_COLUMNS, title="办理过程", headers=EVENT_HEADERS))


@reports_errors
def overdue_cmd(by: Annotated[str, typer.Option(help="unit | leader")] = "unit",
                fmt: XlsxFormat = "table",
                limit: Annotated[int, typer.Option(
                    min=1, help="The cases listed: those longest overdue.")] = OVERDUE_PAGE,
                out_file: OutFile = None) -> None:
    """Open deadlines past due, grouped by unit or by owning leader, worst first: of the
    cases longest overdue (--limit), with how many cases are overdue in all."""
    fmt = check_format(fmt, out_file, xlsx=True)
    if by not in ("unit", "leader"):
        raise typer.BadParameter(f"unknown grouping {by!r}; expected unit or leader",
                                 param_hint="--by")
    a = make_app()
    rows = overdue_rows(a, limit=limit)
    if fmt == "xlsx" and out_file is not None:
        write_file(out_file, workbooks.overdue_rows_workbook(rows))
        return
    if fmt != "table":
        emit(rows, fmt)
        return
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(str(r[by]) or "(no leader)", []).append(r)
    for name, items in sorted(groups.items(), key=lambda g: -int(g[1][0]["overdue_seconds"])):
        out.print(table(items, OVERDUE_COLUMNS, title=f"{by} {name}: {len(items)} overdue",
                        headers=OVERDUE_HEADERS))
    total, _ = overdue_summary(a)
    cases = len({r["id"] for r in rows})
    say(f"{len(rows)} overdue deadline(s)" + (
        f" of the {cases} cases longest overdue; {total} cases are overdue in all "
        f"(--limit {total} lists them all)" if total > cases else ""))


@reports_errors
def kpi_cmd(start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
            end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
            unit: Annotated[str | None, typer.Option(help="One unit's petitions.")] = None,
            fmt: XlsxFormat = "table", out_file: OutFile = None) -> None:
    """The petition measures for petitions received in the period, each with its numerator
    and denominator. A measure with nothing to count shows — (no made-up 0 %)."""
    fmt = check_format(fmt, out_file, xlsx=True)
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    ms = kpis(make_app(), first, last, unit)
    if fmt == "xlsx" and out_file is not None:
        write_file(out_file, workbooks.measures_workbook(ms, first, last))
        return
    if fmt != "table":
        emit(measure_rows(ms), fmt)
        return
    out.print(table(({"measure": f"{m.label} {m.key}", "rate": m.text,
                      "numerator": m.numerator, "denominator": m.denominator,
                      "formula": m.formula} for m in ms),
                    ("measure", "rate", "numerator", "denominator", "formula"),
                    title=f"received {start} – {end}" + (f", unit {unit}" if unit else "")))
    if ms[0].denominator == 0:
        say("no petitions were received in this period")


@reports_errors
def report_cmd(html: Annotated[Path | None, typer.Option(
                   "--html", help="Where to write the page.")] = None,
               xlsx: Annotated[Path | None, typer.Option(
                   "--xlsx", help="Where to write the period's cases as .xlsx.")] = None,
               start: Annotated[str | None, typer.Option("--from")] = None,
               end: Annotated[str | None, typer.Option("--to")] = None,
               unit: Annotated[str | None, typer.Option()] = None,
               page_no: Annotated[int, typer.Option(
                   "--page", help="Which page of case timelines to draw.")] = 1) -> None:
    """One self-contained HTML page: the audit check, the measures (and each office's line,
    in a group), the overdue list, and one page of the period's case timelines as bars per
    stage against their deadlines (100 a page, the latest received first). --xlsx: the
    period's cases as a workbook."""
    if html is None and xlsx is None:
        raise typer.BadParameter("give --html FILE, --xlsx FILE or both", param_hint="--html")
    a = make_app()
    today = local_date(a.clock.now())
    first = parse_day(start, "--from") if start else today.replace(day=1)
    last = parse_day(end, "--to") if end else today
    if xlsx is not None:
        write_file(xlsx, workbooks.report_cases_workbook(a, first, last, unit, None))
    if html is None:
        return
    page = render_report(a, first, last, unit, page=page_no)
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(page, encoding="utf-8")
    say(f"wrote {html} ({len(page.encode()) // 1024} KiB)")


@reports_errors
def monthly_return_cmd(
        month: Annotated[str, typer.Option("--month", help="The month (YYYY-MM).")],
        out_file: Annotated[Path, typer.Option("--out", help="Where to write the .xlsx.")],
        acts_as: Annotated[str, typer.Option("--as", help="The supervisor it is for: the "
                                             "counts are of the cases they may see.")]
        ) -> None:
    """信访月报: the monthly return to the level above, one sheet per table (README
    "Excel" gives the layout): by channel, category and unit (this month, the year to
    date, the same month last year), the month's measures, the most repeated matters."""
    a = make_app()
    write_file(out_file, monthly_return.monthly_return(a, acts_as,
                                                       monthly_return.parse_month(month)))
