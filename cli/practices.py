"""The CLI of the mines' practices: leader reception days, the daily zero report,
information officers' signals and digest, key periods. ``signal promote`` registers and
routes here, as ``intake`` does, then starts the run (through ``cli.common.runs``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cli.common import Json, emit, out, parse_day, reports_errors, say, table
from cli.home import app as make_app
from cli.intake import petition_data, submit
from domain.instants import local_date
from domain.signals import Week
from services import practices, review
from services.naming import OfficeNames
from services.schema import migrated
from services.timeline import event_rows

reception_app = typer.Typer(help="Leader reception days (领导接待日).", no_args_is_help=True)
zero_app = typer.Typer(help="The daily zero report (每日零报告).", no_args_is_help=True)
signal_app = typer.Typer(help="Information officers' signals (信访信息员) and the weekly "
                         "《信访信息参考》.", no_args_is_help=True)
practices_app = typer.Typer(help="The office's scheduled practices.", no_args_is_help=True)

Day = Annotated[str | None, typer.Option(help="A local date YYYY-MM-DD (default: today).")]


def register(app: typer.Typer) -> None:
    app.add_typer(reception_app, name="reception")
    app.add_typer(zero_app, name="zero-report")
    app.add_typer(signal_app, name="signal")
    app.add_typer(practices_app, name="practices")
    app.command("key-periods")(key_periods_cmd)


# --- reception days ------------------------------------------------------------------------

@reception_app.command("list")
@reports_errors
def reception_list(start: Annotated[str | None, typer.Option("--from")] = None,
                   end: Annotated[str | None, typer.Option("--to")] = None,
                   as_json: Json = False) -> None:
    """The receptions from --from (default today) to --to (default 60 days on): the day
    held, the leader on duty, and why a day moved (a rest day, 调休 working days kept)."""
    a = make_app()
    first = parse_day(start) if start else local_date(a.clock.now())
    last = parse_day(end) if end else first + dt.timedelta(days=60)
    items = practices.reception_items(a, first, last)
    if as_json:
        emit(items)
        return
    if not items:
        say(f"no leader reception day from {first} to {last}")
        return
    out.print(table(items, ["day", "leader", "reception", "nominal", "place", "moved"]))


# --- the daily zero report -----------------------------------------------------------------

@zero_app.command("file")
@reports_errors
def zero_file(unit: Annotated[str, typer.Argument(help="The reporting unit's id.")],
              by: Annotated[str, typer.Option("--by", help="Who reports (a person id).")],
              items: Annotated[int, typer.Option(help="Matters to report; 0 = nothing.")] = 0,
              summary: Annotated[str, typer.Option(help="The matters, if any.")] = "",
              day: Day = None) -> None:
    """File a unit's daily report ("nothing to report" is --items 0)."""
    r = practices.file_zero_report(migrated(make_app()), unit=unit, reporter=by, items=items,
                                   summary=summary, day=parse_day(day) if day else None)
    what = "nothing to report" if r.nothing else f"{r.items} matter(s)"
    say(f"{r.unit} {r.day}: {what}" + (" (late)" if r.late else ""))


@zero_app.command("status")
@reports_errors
def zero_status(day: Day = None, as_json: Json = False) -> None:
    """Which units reported for the day, and which have not."""
    a = make_app()
    when = parse_day(day) if day else local_date(a.clock.now())
    rows = practices.zero_report_status(a, when)
    if as_json:
        emit(rows)
        return
    out.print(table(rows, ["unit", "name", "reported", "reporter", "at", "items", "late",
                           "summary"]))
    missing = [r["unit"] for r in rows if not r["reported"]]
    say(f"{when}: {len(rows) - len(missing)} of {len(rows)} units reported"
        + (f"; missing: {', '.join(missing)}" if missing else ""))


@zero_app.command("check")
@reports_errors
def zero_check() -> None:
    """Alert now for missing reports (the scheduled ``office-practices`` flow does this)."""
    alerts = practices.check_zero_reports(migrated(make_app()))
    for x in alerts:
        say(f"{x.unit} {x.day}: {x.level} alerted ({', '.join(x.recipients)})")
    say(f"{len(alerts)} alert(s) queued")


# --- signals -------------------------------------------------------------------------------

@signal_app.command("record")
@reports_errors
def signal_record(officer: Annotated[str, typer.Option(help="The information officer.")],
                  unit: Annotated[str, typer.Option(help="The unit it concerns.")],
                  summary: Annotated[str, typer.Option()],
                  detail: Annotated[str, typer.Option()] = "",
                  risk: Annotated[str, typer.Option(help="low | medium | high")] = "low") -> None:
    """Record a signal (信访信息): not a petition yet."""
    s = practices.new_signal(migrated(make_app()), officer=officer, unit=unit,
                             summary=summary, detail=detail, risk=risk)
    say(f"signal {s.id} recorded ({s.risk.value}): {s.summary}")


@signal_app.command("list")
@reports_errors
def signal_list(week: Annotated[str | None, typer.Option(
        help="Any day of the week to list (default: every signal).")] = None,
                as_json: Json = False) -> None:
    """Signals, oldest first, with the case each was promoted to."""
    items = practices.signal_items(make_app(), Week.of(parse_day(week)) if week else None)
    if as_json:
        emit(items)
        return
    out.print(table(items, ["id", "at", "officer", "unit", "risk", "summary", "case"]))


@signal_app.command("show")
@reports_errors
def signal_show(signal_id: Annotated[str, typer.Argument()], as_json: Json = False) -> None:
    """A signal's history: recorded, in which digests, promoted to which case."""
    a = make_app()
    rows = event_rows(practices.signal_history(a, signal_id), names=OfficeNames(a))
    if as_json:
        emit(rows)
        return
    out.print(table(rows, ["when", "event_label", "actor_name", "detail"],
                    headers=["时间", "事件", "办理人", "说明"]))


@signal_app.command("promote")
@reports_errors
def signal_promote(
    actor: Annotated[str, typer.Option(
        "--actor", "-a", help="Who registers: one of the petition office's staff.")],
    signal_id: Annotated[str, typer.Argument()],
    file: Annotated[Path | None, typer.Argument(help="Petition JSON (or give the fields).")
                    ] = None,
    name: Annotated[str | None, typer.Option(help="Petitioner's name.")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    category: Annotated[str, typer.Option()] = "complaint",
    channel: Annotated[str, typer.Option()] = "visit",
) -> None:
    """Register a signal as a petition (as `intake` does: here, then its run). The subject,
    content and concerned unit default to the signal's; the case keeps its history."""
    a = migrated(make_app())
    signal = practices.check_signal(a, signal_id)
    data = petition_data(file, {"name": name, "phone": phone})
    data.setdefault("category", category)
    data.setdefault("channel", channel)
    data.setdefault("subject", signal.summary)
    data.setdefault("content", signal.detail)
    data.setdefault("concerns_unit", signal.unit)
    submit(a, data, None, actor, signal=signal.id)


@signal_app.command("digest")
@reports_errors
def signal_digest(week: Annotated[str | None, typer.Option(
        help="Any day of the week to compile (default: the week just ended).")] = None
                  ) -> None:
    """Compile 《信访信息参考》 for the leaders now (the scheduled flow does it weekly)."""
    a = migrated(make_app())
    w = Week.of(parse_day(week)) if week else Week.of(local_date(a.clock.now())
                                                      - dt.timedelta(days=7))
    done = practices.compile_digest(a, w)
    if done is None:
        say(f"digest {w.issue} was compiled already")
        return
    say(f"digest {done[0]}: {done[1]} signal(s), sent to "
        f"{', '.join(a.office.practices.information.readers)}")


# --- all of them -----------------------------------------------------------------------------

@practices_app.command("run")
@reports_errors
def practices_run() -> None:
    """Do now what the scheduled ``office-practices`` flow does: reception notices and
    reminders, zero-report alerts, the weekly digest, the quarterly review's measures
    reminded and escalated (each once)."""
    a = migrated(make_app())
    summary = {**practices.tick(a), "review_measures": len(review.check_measures(a))}
    say(", ".join(f"{k} {v}" for k, v in summary.items()))


@reports_errors
def key_periods_cmd(as_json: Json = False) -> None:
    """Key periods (重点时期): extra reminders, and escalation one rung higher."""
    items = [{"name": p.name, "from": p.start.isoformat(), "to": p.end.isoformat(),
              "extra_reminders": ", ".join(f"{float(f):.0%}" for f in p.extra_reminders),
              "raise_escalation": p.raise_escalation}
             for p in make_app().office.practices.key_periods.periods]
    if as_json:
        emit(items)
        return
    out.print(table(items, ["name", "from", "to", "extra_reminders", "raise_escalation"]))
