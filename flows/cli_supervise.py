"""The supervisors' commands: a case's timeline, the overdue list, the measures, the HTML
report. Read-only, and no Prefect import: they answer at once."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import pendulum
import typer
from rich.table import Table

from domain.case import Case
from domain.deadlines import DeadlineState
from domain.errors import ConfigError
from domain.instants import format_duration
from domain.measures import Measure, Period, measures
from flows.bootstrap import App, bootstrap
from flows.cli import app, out, reports_errors
from flows.timeline import breach_holders, deadline_rows, event_rows, print_header

Format = Annotated[str, typer.Option("--format", "-f", help="table | json | csv")]


def _format(value: str) -> str:
    if value not in ("table", "json", "csv"):
        raise typer.BadParameter(f"unknown format {value!r}; expected table, json or csv",
                                 param_hint="--format")
    return value


def _emit(rows: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    else:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["empty"])
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buf.getvalue())


# --- timeline ------------------------------------------------------------------------------

def timeline_of(a: App, case: Case, audit: list[Any]) -> dict[str, Any]:
    """A case's whole timeline: events, and deadlines with who held the case at a breach."""
    holders = breach_holders(audit)
    deadlines = []
    for d in deadline_rows(case, a.rules_for(case), a.clock.now()):
        h = holders.get(d["deadline"])
        deadlines.append({**d, "breached_at": h["at"] if h else "",
                          "held_by": (f"unit {h['unit']}, responder {h['responder']}"
                                      + (f", leader {h['leader']}" if h["leader"] else ""))
                          if h else ""})
    return {"id": case.id, "registration_no": case.registration_no, "stage": case.stage.value,
            "subject": case.petition.subject, "unit": case.unit, "responder": case.responder,
            "leader": case.leader, "events": event_rows(audit), "deadlines": deadlines}


@app.command("timeline")
@reports_errors
def timeline_cmd(ref: Annotated[str, typer.Argument(help="Case id or registration number.")],
                 fmt: Format = "table") -> None:
    """Every event of a case in local time, and every deadline with its state, extensions
    and who held the case when it was breached. --format json|csv to export."""
    fmt = _format(fmt)
    a = bootstrap()
    with a.uow() as uow:
        case = uow.cases.get(ref, lock=False)
        audit = uow.history_of(case)
    t = timeline_of(a, case, audit)
    if fmt == "json":
        sys.stdout.write(json.dumps(t, ensure_ascii=False, indent=2) + "\n")
        return
    if fmt == "csv":
        _emit([{"case": case.ref, "kind": "event", **e} for e in t["events"]]
              + [{"case": case.ref, "kind": "deadline", "when": d["due"],
                  "stage": case.stage.value, "event": d["deadline"], "actor": d["held_by"],
                  "detail": f"{d['limit']}; {d['state']}; {d['extended']}".strip("; ")}
                 for d in t["deadlines"]], "csv")
        return
    print_header(out, case)
    table = Table(title="deadlines")
    for col in ("deadline", "limit", "due", "state", "extended", "breached at", "held by"):
        table.add_column(col)
    for d in t["deadlines"]:
        table.add_row(d["deadline"], d["limit"], d["due"], d["state"], d["extended"],
                      d["breached_at"], d["held_by"])
    out.print(table)
    events = Table(title="events")
    for col in ("when", "stage", "event", "actor", "detail"):
        events.add_column(col)
    for e in t["events"]:
        events.add_row(*e.values())
    out.print(events)


# --- overdue -------------------------------------------------------------------------------

def overdue_rows(a: App) -> list[dict[str, Any]]:
    """Every open deadline past due, worst first."""
    now = a.clock.now()
    with a.uow() as uow:
        cases = uow.open_cases()
    rows = []
    for case in cases:
        for v in case.deadlines(a.rules_for(case), now):
            if v.closed_at is None and v.overdue and v.state in (DeadlineState.BREACHED,
                                                                 DeadlineState.PAUSED):
                unit = a.office.org.units.get(case.unit or "")
                rows.append({"case": case.ref, "id": case.id, "unit": case.unit or "",
                             "unit_name": unit.name if unit else "",
                             "leader": case.leader or "", "responder": case.responder or "",
                             "stage": case.stage.value, "deadline": v.kind.value,
                             "due": v.due_date.isoformat(),
                             "overdue": format_duration(v.overdue),
                             "overdue_seconds": int(v.overdue.total_seconds())})
    rows.sort(key=lambda r: -int(r["overdue_seconds"]))
    return rows


@app.command("overdue")
@reports_errors
def overdue_cmd(by: Annotated[str, typer.Option(help="unit | leader")] = "unit",
                fmt: Format = "table") -> None:
    """Open deadlines past due, grouped by unit or by owning leader, worst first."""
    fmt = _format(fmt)
    if by not in ("unit", "leader"):
        raise typer.BadParameter(f"unknown grouping {by!r}; expected unit or leader",
                                 param_hint="--by")
    a = bootstrap()
    rows = overdue_rows(a)
    if fmt != "table":
        _emit(rows, fmt)
        return
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(str(r[by]) or "(no leader)", []).append(r)
    for name, items in sorted(groups.items(), key=lambda g: -int(g[1][0]["overdue_seconds"])):
        table = Table(title=f"{by} {name}: {len(items)} overdue")
        for col in ("case", "stage", "deadline", "due", "overdue", "responder", "leader"):
            table.add_column(col)
        for r in items:
            table.add_row(*(str(r[k]) for k in ("case", "stage", "deadline", "due", "overdue",
                                                "responder", "leader")))
        out.print(table)
    out.print(f"{len(rows)} overdue deadline(s)", highlight=False)


# --- the measures --------------------------------------------------------------------------

def _day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not a date YYYY-MM-DD: {value!r}", param_hint=option) from None


def kpis(a: App, start: dt.date, end: dt.date, unit: str | None) -> list[Measure]:
    if unit is not None and unit not in a.office.org.units:
        raise ConfigError(f"unknown unit '{unit}'; units: {', '.join(a.office.org.units)}")
    period = Period(start, end, unit)
    with a.uow() as uow:
        cases = uow.all_cases()
    # Judged at the end of the period (or now, if the period is not over).
    end_of = pendulum.datetime(end.year, end.month, end.day, tz="Asia/Shanghai").add(days=1)
    judged = min(end_of.in_timezone("UTC"), a.clock.now())
    return measures(cases, period, a.rules_for, judged)


def measure_rows(ms: list[Measure]) -> list[dict[str, Any]]:
    return [{"measure": m.key, "label": m.label, "formula": m.formula,
             "numerator": m.numerator, "denominator": m.denominator,
             "rate": round(m.rate, 4) if m.rate is not None else None} for m in ms]


@app.command("kpi")
@reports_errors
def kpi_cmd(start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
            end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
            unit: Annotated[str | None, typer.Option(help="One unit's petitions.")] = None,
            fmt: Format = "table") -> None:
    """The petition measures for petitions received in the period, each with its numerator
    and denominator. A measure with nothing to count shows — (no made-up 0 %)."""
    fmt = _format(fmt)
    a = bootstrap()
    ms = kpis(a, _day(start, "--from"), _day(end, "--to"), unit)
    if fmt != "table":
        _emit(measure_rows(ms), fmt)
        return
    table = Table(title=f"received {start} – {end}" + (f", unit {unit}" if unit else ""))
    for col in ("measure", "rate", "numerator", "denominator", "formula"):
        table.add_column(col)
    for m in ms:
        table.add_row(f"{m.label} {m.key}", m.text, str(m.numerator), str(m.denominator),
                      m.formula)
    out.print(table)
    if ms[0].denominator == 0:
        out.print("no petitions were received in this period", highlight=False)


# --- the HTML report -----------------------------------------------------------------------

@app.command("report")
@reports_errors
def report_cmd(html: Annotated[Path, typer.Option("--html", help="Where to write the page.")],
               start: Annotated[str | None, typer.Option("--from")] = None,
               end: Annotated[str | None, typer.Option("--to")] = None,
               unit: Annotated[str | None, typer.Option()] = None) -> None:
    """One self-contained HTML page: the audit check, the measures, the overdue list and
    every case's timeline as bars per stage against its deadlines."""
    from flows.report import render_report

    a = bootstrap()
    today = pendulum.instance(a.clock.now()).in_timezone("Asia/Shanghai").date()
    first = _day(start, "--from") if start else today.replace(day=1)
    last = _day(end, "--to") if end else today
    page = render_report(a, first, last, unit)
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(page, encoding="utf-8")
    out.print(f"wrote {html} ({len(page.encode()) // 1024} KiB)", highlight=False)
