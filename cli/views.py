"""How a case looks in the terminal: its header, its deadlines and its events (``show``,
``intake``, ``timeline``, the demo)."""

from __future__ import annotations

import datetime as dt

from rich.console import Console

from cli.common import table
from domain.case import Case, CaseRules
from services.timeline import deadline_rows, event_rows
from storage.chain import AuditRow

DEADLINE_COLUMNS = ("deadline", "limit", "due", "state", "extended", "warning")
EVENT_COLUMNS = ("when", "stage", "event", "actor", "detail")


def print_header(console: Console, case: Case) -> None:
    """Three lines: the case, its subject, who holds it."""
    console.print(f"{case.ref} ({case.id}) {case.stage.value} {case.stage.label}",
                  highlight=False)
    console.print(f"  {case.petition.subject}", highlight=False)
    if case.triage is not None:
        console.print(f"  待分办 (triage): no rule could route it: {case.triage}; assign it "
                      f"with `petitions assign {case.ref} --unit UNIT --actor ID`",
                      highlight=False, markup=False)
        return
    console.print(f"  unit {case.unit}  responder {case.responder}  leader {case.leader or '-'}"
                  + (f"  repeat of {case.repeat_of}" if case.repeat_of else ""),
                  highlight=False)


def print_case(console: Console, case: Case, rules: CaseRules, now: dt.datetime,
               audit_rows: list[AuditRow]) -> None:
    """The header, the deadlines table and the events table."""
    print_header(console, case)
    console.print(table(deadline_rows(case, rules, now), DEADLINE_COLUMNS, title="deadlines"))
    console.print(table(event_rows(audit_rows), EVENT_COLUMNS, title="events"))
