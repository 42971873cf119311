"""How a case looks in the terminal: its header, its deadlines and its events (``show``,
``intake``, ``timeline``, the demo)."""

from __future__ import annotations

import datetime as dt

from rich.console import Console

from cli.common import table
from domain.case import Case, CaseRules
from domain.narrative import Names
from services.timeline import deadline_rows, event_rows
from storage.chain import AuditRow

# The tables show labels (domain/labels.py) and names; --json keeps the ids beside them.
DEADLINE_COLUMNS = ("deadline_label", "limit", "due", "state_label", "extended", "warning")
DEADLINE_HEADERS = ("期限", "时限", "到期", "状态", "延期", "提示")
EVENT_COLUMNS = ("when", "stage_label", "event_label", "actor_name", "detail")
EVENT_HEADERS = ("时间", "环节", "事件", "办理人", "说明")


def _who(names: Names | None, pid: str | None) -> str:
    """A person as the terminal shows a holder: name and the id commands take."""
    if not pid:
        return "—"
    return f"{names.person(pid)}（{pid}）" if names else pid


def print_header(console: Console, case: Case, names: Names | None = None) -> None:
    """Three lines: the case, its subject, who holds it."""
    console.print(f"{case.ref} ({case.id}) {case.stage.value} {case.stage.label}",
                  highlight=False)
    console.print(f"  {case.petition.subject}", highlight=False)
    if case.triage is not None:
        console.print(f"  待分办 (triage): no rule could route it: {case.triage}; assign it "
                      f"with `petitions assign {case.ref} --unit UNIT --actor ID`",
                      highlight=False, markup=False)
        return
    unit = f"{names.unit(case.unit)}（{case.unit}）" if names and case.unit else case.unit
    console.print(f"  承办单位 {unit}  首问责任人 {_who(names, case.responder)}  "
                  f"包案领导 {_who(names, case.leader)}"
                  + (f"  重复件 {case.repeat_of}" if case.repeat_of else ""),
                  highlight=False)


def print_case(console: Console, case: Case, rules: CaseRules, now: dt.datetime,
               audit_rows: list[AuditRow], names: Names | None = None) -> None:
    """The header, the deadlines table and the events table."""
    print_header(console, case, names)
    console.print(table(deadline_rows(case, rules, now, names), DEADLINE_COLUMNS,
                        title="办理期限", headers=DEADLINE_HEADERS))
    console.print(table(event_rows(audit_rows, names=names), EVENT_COLUMNS, title="办理过程",
                        headers=EVENT_HEADERS))
