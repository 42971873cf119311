"""The ``petitions`` command. Read commands import no Prefect: they answer at once."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pendulum
import typer
from rich.console import Console
from rich.table import Table

from domain.case import Case, CaseRules
from domain.deadlines import DeadlineView
from domain.errors import PetitionError
from domain.petition import petition_from_mapping
from domain.policy import DeadlinePolicy
from domain.routing import route
from flows.config import (
    Settings,
    load_calendar,
    load_file,
    load_json,
    load_office,
    load_policies,
    read_yaml,
)
from flows.timeline import due_text, state_text

app = typer.Typer(help="petition-engine: petitions (信访) through their stages, no deadline "
                  "passing unnoticed.", no_args_is_help=True, add_completion=False)
calendar_app = typer.Typer(help="China's working-day calendar (调休 included).",
                           no_args_is_help=True)
policy_app = typer.Typer(help="Deadline policies (cn-2022, cn-2005, the unit's own).",
                         no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
db_app = typer.Typer(help="The database (PETITIONS_DATABASE_URL; SQLite under "
                     "PETITIONS_HOME by default).", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(policy_app, name="policy")

# Piped output keeps full rows (a terminal uses its own width).
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])

ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="Office configuration folder (default: $PETITIONS_CONFIG_DIR or "
    "$PETITIONS_HOME/config).", show_default=False)]


def reports_errors(fn: F) -> F:
    """Turn domain errors into one clear line on stderr and exit code 2."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PetitionError as e:
            err.print(f"[bold red]error:[/] {e}", highlight=False, markup=True)
            raise typer.Exit(2) from None
    return wrapper  # type: ignore[return-value]


def _warn(lines: list[str] | tuple[str, ...]) -> None:
    for line in dict.fromkeys(lines):
        err.print(f"[yellow]warning:[/] {line}", highlight=False)


def _office_dir(config: Path | None) -> Path:
    return config or Settings().office_dir


def _calendar_path(path: Path | None) -> Path | None:
    if path is not None:
        return path
    default = Settings().office_dir / "calendar.yaml"
    return default if default.exists() else None


def _parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"expected a date YYYY-MM-DD, got {text!r}") from None


# --- calendar ----------------------------------------------------------------------------

CalendarOpt = Annotated[Path | None, typer.Option(
    "--calendar", help="Calendar file with office hours and official schedules (default: "
    "calendar.yaml in the office configuration, when present).", show_default=False)]


@calendar_app.command("due")
@reports_errors
def calendar_due(
    start: Annotated[str, typer.Argument(help="First day, YYYY-MM-DD (not itself counted).")],
    days: Annotated[int | None, typer.Option("--days", min=1,
                                             help="Calendar days (日).")] = None,
    working_days: Annotated[int | None, typer.Option("--working-days", min=1,
                                                     help="Working days (工作日).")] = None,
    calendar: CalendarOpt = None,
) -> None:
    """Print the last day of a period as YYYY-MM-DD on the first line; warnings on stderr.

    Calendar days follow the Civil Code (arts. 201, 203): the first day is not counted and a
    last day that is a rest day moves to the next working day.
    """
    if (days is None) == (working_days is None):
        raise typer.BadParameter("give exactly one of --days or --working-days")
    first = _parse_day(start)
    cal = load_calendar(_calendar_path(calendar))
    if days is not None:
        due = cal.add_days(first, days)
        plain = pendulum.date(first.year, first.month, first.day).add(days=days)
        explain = f"{days} calendar days after {first}: {plain} {cal.describe(plain)}"
        if plain != due:
            explain += f" → moved to the next working day {due} {cal.describe(due)}"
    else:
        assert working_days is not None
        due = cal.add_working_days(first, working_days)
        explain = f"{working_days} working days after {first}: {due} {cal.describe(due)}"
    print(due.isoformat())
    print(explain)
    _warn(cal.warnings_for(first, due))


@calendar_app.command("day")
@reports_errors
def calendar_day(day: str, calendar: CalendarOpt = None) -> None:
    """Say whether a date is a working day, and why."""
    d = _parse_day(day)
    cal = load_calendar(_calendar_path(calendar))
    print(f"{d} {d.strftime('%a')} {cal.describe(d)}")
    _warn(cal.warnings_for(d, d))


@calendar_app.command("year")
@reports_errors
def calendar_year(year: int, calendar: CalendarOpt = None) -> None:
    """List a year's rest days and make-up working days, and where the data comes from."""
    cal = load_calendar(_calendar_path(calendar))
    schedule = cal.year(year)
    status = "official" if cal.is_official(year) else "ESTIMATED"
    table = Table(title=f"{year} ({status}; {schedule.source})")
    table.add_column("date")
    table.add_column("weekday")
    table.add_column("kind")
    table.add_column("name")
    rows = [(d, "休息日", n) for d, n in schedule.holidays.items()] + \
           [(d, "调休上班", n) for d, n in schedule.workdays.items()]
    for d, kind, name in sorted(rows):
        table.add_row(d.isoformat(), d.strftime("%a"), kind, name)
    out.print(table)
    _warn(cal.warnings_for(dt.date(year, 1, 1), dt.date(year, 1, 1)))


# --- policy ----------------------------------------------------------------------------

def _policy_table(policy: DeadlinePolicy) -> Table:
    table = Table(title=f"{policy.id}: {policy.title} (in force from {policy.effective_from})")
    for col in ("deadline", "limit", "basis", "escalation"):
        table.add_column(col)
    for kind, limit in policy.limits.items():
        ladder = ", ".join(
            f"{r.name}@{float(r.at):.0%}→{r.role.value}" if r.at is not None
            else f"{r.name}+{r.after_due}→{r.role.value}" for r in policy.ladder(kind))
        table.add_row(f"{kind.value}\n{kind.label}", str(limit.period), limit.basis,
                      ladder or "(a window: it lapses)")
    ext = policy.extension
    table.caption = (f"extension: at most {ext.max_count} × {ext.max_period} on "
                     f"{', '.join(k.value for k in ext.applies_to)}, approved by "
                     f"{ext.approver_role.value} or above — {ext.basis}")
    return table


@policy_app.command("show")
@reports_errors
def policy_show(policy_id: Annotated[str | None, typer.Argument()] = None,
                config: ConfigOpt = None) -> None:
    """Show a policy's limits, their legal basis and escalation ladders."""
    registry = load_policies(_office_dir(config) / "policies")
    out.print(_policy_table(registry.get(policy_id or registry.default_id)))


@policy_app.command("check")
@reports_errors
def policy_check(path: Path) -> None:
    """Validate a unit's policy file and show it; errors name the file, line and field."""
    data, _ = read_yaml(path)
    registry = load_file(path, load_policies(None).with_policy)
    out.print(_policy_table(registry.get(str(data["id"]))))
    out.print(f"{path}: ok")


# --- configuration and routing -----------------------------------------------------------

@app.command("check-config")
@reports_errors
def check_config(config: ConfigOpt = None) -> None:
    """Load and validate every file of the office configuration."""
    office = load_office(_office_dir(config))
    out.print(f"ok: {len(office.org.units)} units, {len(office.org.people)} people, "
              f"{len(office.routing.rules)} routing rules, policies "
              f"{', '.join(office.policies.ids())} (default {office.policies.default_id})")


def _deadline_rows(views: list[DeadlineView]) -> Table:
    table = Table()
    for col in ("deadline", "limit", "due (local)", "state", "basis"):
        table.add_column(col)
    for v in views:
        table.add_row(f"{v.kind.label} {v.kind.value}", str(v.period), due_text(v),
                      state_text(v), v.basis)
    return table


@app.command("route")
@reports_errors
def route_cmd(
    petition_file: Annotated[Path, typer.Argument(help="Petition JSON, or - for stdin.")],
    config: ConfigOpt = None,
    workload: Annotated[Path | None, typer.Option(
        help="JSON object: person id → open cases held.")] = None,
    repeat: Annotated[bool, typer.Option(help="Treat it as a repeat petition.")] = False,
) -> None:
    """Show where a petition goes: unit, first responder, owning leader, recusals, and the
    deadlines that start on registration. Nothing is stored."""
    office = load_office(_office_dir(config))
    now = pendulum.now("UTC")
    petition = petition_from_mapping(load_json(petition_file), received_at=now)
    loads = load_json(workload) if workload else {}
    decision = route(petition, office.routing, office.org, loads,
                     is_repeat=repeat or petition.repeat_of is not None)
    policy = office.policies.in_force(petition.received_at.date())
    rules = CaseRules(policy, office.calendar, office.org)
    case = Case.register(case_id="preview", registration_no="preview", petition=petition,
                         policy=policy, actor="cli", now=max(now, petition.received_at))
    case.assign(decision, actor="cli", now=max(now, petition.received_at), rules=rules)
    org = office.org
    out.print(f"unit:      {decision.unit} {org.unit(decision.unit).name} "
              f"(rule: {decision.rule})", highlight=False)
    out.print(f"responder: {decision.responder} {org.person(decision.responder).name}",
              highlight=False)
    if decision.leader:
        out.print(f"leader:    {decision.leader} {org.person(decision.leader).name} "
                  f"(领导包案: {'、'.join(decision.leader_reasons)})", highlight=False)
    else:
        out.print("leader:    not required", highlight=False)
    if petition.is_accusation:
        accused = [x for x in (petition.concerns_unit, *petition.accused_persons) if x]
        out.print(f"accused:   {', '.join(accused)} — never routed, assigned or notified",
                  highlight=False)
    for bar in decision.bars:
        out.print(f"excluded:  {bar.who} ({bar.reason})", highlight=False)
    views = case.deadlines(rules, now)
    out.print(f"policy:    {policy.id} {policy.title}", highlight=False)
    out.print(_deadline_rows(views))
    _warn([w for v in views for w in v.warnings])


# --- storage -----------------------------------------------------------------------------

@db_app.command("upgrade")
@reports_errors
def db_upgrade() -> None:
    """Create or upgrade the schema (Alembic migrations)."""
    from storage.db import make_engine
    from storage.migrate import upgrade

    url = Settings().db_url
    upgrade(make_engine(url))
    out.print(f"database at {_safe_url(url)} is up to date", highlight=False)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@audit_app.command("verify")
@reports_errors
def audit_verify() -> None:
    """Check every case's hash chain; name the first broken row of each broken case.
    Exit code 1 when any chain is broken."""
    from storage.audit import verify
    from storage.db import make_engine

    with make_engine(Settings().db_url).connect() as conn:
        checked, breaks = verify(conn)
    for b in breaks:
        err.print(f"BROKEN case {b.case_id}: row {b.seq} (id {b.row_id}) {b.problem}",
                  highlight=False)
    out.print(f"{checked} case chains checked, {len(breaks)} broken", highlight=False)
    if breaks:
        raise typer.Exit(1)


# Registers the case commands and the supervisors' commands on ``app``.
from flows import cli_cases, cli_practices, cli_supervise  # noqa: E402, F401


def main() -> None:
    """Console-script entry point."""
    app(prog_name="petitions")


if __name__ == "__main__":
    main()
