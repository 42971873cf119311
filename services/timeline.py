"""A case's timeline as rows: its audit events in local time, then its deadlines.

The same rows feed ``petitions show`` and ``timeline``, the ``petition-<id>`` Prefect
artifact, the report and the demo.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.case import Case, CaseRules
from domain.deadlines import due_text, estimate_note, state_text
from domain.instants import format_local
from storage.chain import AuditRow

_DETAIL_KEYS = ("unit", "responder", "leader", "recipient", "rung", "outcome", "resolution",
                "rating", "by", "new_due", "reason", "overdue", "approver", "to_unit", "clock",
                "key_period", "summary", "day", "items", "late", "issue", "registration_no",
                "risk", "kind", "from_office", "to_office", "decided_by_office", "ref", "case",
                "review_case", "re_review_case", "on_behalf_of", "via")


MATERIAL_KEYS = ("summary", "reason")  # what the Prefect UI's timelines never carry
# What an event of an accusation shows those who see its outline only: nothing else of
# its data (the registration's subject, the petitioner) is theirs.
OUTLINE_KEYS = tuple(k for k in _DETAIL_KEYS if k not in MATERIAL_KEYS)


def _detail(data: dict[str, Any], restricted: bool = False) -> str:
    keys = [k for k in _DETAIL_KEYS if not (k == "unit" and "by" in data)  # a period's unit
            and not (restricted and k in MATERIAL_KEYS)]
    parts = [f"{k}={data[k]}" for k in keys if k in data and data[k] not in (None, "", [])]
    return " ".join(parts)


def event_rows(audit_rows: list[AuditRow], *, restricted: bool = False) -> list[dict[str, str]]:
    """One row per audit event (``audit_events`` rows, in order). ``restricted`` leaves out
    summaries and reasons (an accusation's material, where more people can read it)."""
    return [{"when": format_local(r.at), "stage": r.stage, "event": r.type, "actor": r.actor,
             "detail": _detail(dict(r.data), restricted)} for r in audit_rows]


def deadline_rows(case: Case, rules: CaseRules, now: dt.datetime) -> list[dict[str, str]]:
    """One row per deadline, with its state at ``now``."""
    rows = []
    for v in case.deadlines(rules, now):
        ext = "; ".join(f"+{e.extension} ({e.reason}, approved by {e.approver})"
                        for e in v.extensions if e.extension)
        rows.append({"deadline": v.kind.value, "limit": str(v.period), "due": due_text(v),
                     "state": state_text(v), "extended": ext,
                     "warning": estimate_note(v) if v.closed_at is None else ""})
    return rows


def artifact_table(case: Case, rules: CaseRules, audit_rows: list[AuditRow],
                   now: dt.datetime) -> list[dict[str, str]]:
    """The rows of the ``petition-<id>`` table artifact: the same timeline as
    ``petitions timeline`` (events, then deadlines with who held the case at a breach), of
    references only. Prefect keeps what it is given where anyone who reaches its API reads
    it, so no case's summaries and reasons go there (they may quote the petition): its
    stages, acts, people by id, dates and deadlines are what a supervisor reads there; the
    rest is in the workplace."""
    events = [{"kind": "event", "when": r["when"], "what": r["event"], "stage": r["stage"],
               "who": r["actor"], "detail": r["detail"]}
              for r in event_rows(audit_rows, restricted=True)]
    holders = breach_holders(audit_rows)
    deadlines = []
    for d in deadline_rows(case, rules, now):
        held = holders.get(d["deadline"])
        who = (f"{held['responder']} / {held['leader'] or '-'} (breached {held['at']})"
               if held else "")
        deadlines.append({"kind": "deadline", "when": d["due"], "what": d["deadline"],
                          "stage": case.stage.value, "who": who, "detail":
                          "; ".join(x for x in (d["limit"], d["state"], d["extended"],
                                                d["warning"]) if x)})
    return events + deadlines


def breach_holders(audit_rows: list[AuditRow]) -> dict[str, dict[str, str]]:
    """Who held the case when each deadline was breached: per clock, the unit, first
    responder and owning leader at the moment of the breach (from the audit trail)."""
    held: dict[str, str] = {"unit": "", "responder": "", "leader": ""}
    out: dict[str, dict[str, str]] = {}
    for r in audit_rows:
        d = dict(r.data)
        if r.type == "CaseAssigned":
            held = {"unit": d.get("unit") or "", "responder": d.get("responder") or "",
                    "leader": d.get("leader") or ""}
        elif r.type == "RoutingObjected":
            held = {**held, "unit": d.get("to_unit") or "", "responder": d.get("responder")
                    or ""}
        elif r.type == "LeaderNamed":
            held = {**held, "leader": d.get("leader") or ""}
        elif r.type == "PersonRecused" and d.get("replacement"):
            role = d.get("role")
            if role in ("responder", "leader"):
                held = {**held, role: d["replacement"]}
        elif r.type == "DeadlineBreached" and d.get("clock"):
            out.setdefault(str(d["clock"]), {**held, "at": format_local(r.at)})
    return out


def timeline_of(case: Case, rules: CaseRules, audit: list[AuditRow],
                now: dt.datetime) -> dict[str, Any]:
    """A case's whole timeline: events, and deadlines with who held the case at a breach."""
    holders = breach_holders(audit)
    deadlines = []
    for d in deadline_rows(case, rules, now):
        h = holders.get(d["deadline"])
        deadlines.append({**d, "breached_at": h["at"] if h else "",
                          "held_by": (f"unit {h['unit']}, responder {h['responder']}"
                                      + (f", leader {h['leader']}" if h["leader"] else ""))
                          if h else ""})
    return {"id": case.id, "registration_no": case.registration_no, "stage": case.stage.value,
            "subject": case.petition.subject, "unit": case.unit, "responder": case.responder,
            "leader": case.leader, "events": event_rows(audit), "deadlines": deadlines}
