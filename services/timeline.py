"""A case's timeline as rows: its audit events in local time, then its deadlines.

The same rows feed ``petitions show`` and ``timeline``, the ``petition-<id>`` Prefect
artifact, the report and the demo.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.case import Case, CaseRules
from domain.deadlines import due_text, estimate_note, state_label
from domain.instants import format_local
from domain.labels import EVENTS, STAGES, label
from domain.narrative import MATERIAL, Names, actor, describe
from storage.chain import AuditRow

_DETAIL_KEYS = ("unit", "responder", "leader", "recipient", "rung", "outcome", "resolution",
                "rating", "by", "new_due", "reason", "overdue", "approver", "to_unit", "clock",
                "key_period", "summary", "day", "items", "late", "issue", "registration_no",
                "risk", "kind", "from_office", "to_office", "decided_by_office", "ref", "case",
                "review_case", "re_review_case", "on_behalf_of", "via", "requested_by",
                "approvers", "notify", "to", "note")


# What quotes the petition or a person's reasoning (``narrative.MATERIAL``): for who sees
# the case in full only.
MATERIAL_KEYS = tuple(sorted(MATERIAL))
# What an event of an accusation shows those who see its outline only: nothing else of
# its data (the registration's subject, the petitioner) is theirs.
OUTLINE_KEYS = tuple(k for k in _DETAIL_KEYS if k not in MATERIAL_KEYS)


class _Ids:
    """Names that are the ids themselves: for callers with no office at hand (benches)."""

    def person(self, pid: str) -> str:
        return pid

    unit = office = case = person


def event_rows(audit_rows: list[AuditRow], *, restricted: bool = False,
               names: Names | None = None) -> list[dict[str, str]]:
    """One row per audit event (``audit_events`` rows, in order): its time, stage, event
    and who did it, each as its id and as its label (``stage_label``, ``event_label``,
    ``actor_name``), and its ``detail``: a Chinese sentence, people and units by ``names``
    (``domain.narrative``). ``restricted`` leaves out summaries and reasons (an
    accusation's material, where more people can read it)."""
    names = names or _Ids()
    return [{"when": format_local(r.at), "stage": r.stage,
             "stage_label": label(STAGES, r.stage), "event": r.type,
             "event_label": label(EVENTS, r.type), "actor": r.actor,
             "actor_name": actor(names, r.actor),
             "detail": describe(r.type, dict(r.data), names, restricted=restricted)}
            for r in audit_rows]


def deadline_rows(case: Case, rules: CaseRules, now: dt.datetime,
                  names: Names | None = None) -> list[dict[str, str]]:
    """One row per deadline, with its state at ``now`` (id and label)."""
    namer = names or _Ids()
    rows = []
    for v in case.deadlines(rules, now):
        ext = "；".join(f"延长{e.extension}（{e.reason}，{namer.person(e.approver or '')}批准）"
                        for e in v.extensions if e.extension)
        rows.append({"deadline": v.kind.value, "deadline_label": v.kind.label,
                     "limit": str(v.period), "due": due_text(v), "state": v.state.value,
                     "state_label": state_label(v), "extended": ext,
                     "warning": estimate_note(v) if v.closed_at is None else ""})
    return rows


def artifact_table(case: Case, rules: CaseRules, audit_rows: list[AuditRow],
                   now: dt.datetime, names: Names | None = None) -> list[dict[str, str]]:
    """The rows of the ``petition-<id>`` table artifact: the same timeline as
    ``petitions timeline`` (events, then deadlines with who held the case at a breach), of
    references only. Prefect keeps what it is given where anyone who reaches its API reads
    it, so no case's summaries and reasons go there (they may quote the petition): its
    stages, acts, the office's people by name, dates and deadlines are what a supervisor
    reads there, in Chinese; the rest is in the workplace."""
    namer = names or _Ids()
    events = [{"kind": "事件", "when": r["when"], "what": r["event_label"],
               "stage": r["stage_label"], "who": r["actor_name"], "detail": r["detail"]}
              for r in event_rows(audit_rows, restricted=True, names=namer)]
    holders = breach_holders(audit_rows)
    deadlines = []
    for d in deadline_rows(case, rules, now, namer):
        held = holders.get(d["deadline"])
        who = (f"{namer.person(held['responder'])} / "
               f"{namer.person(held['leader']) if held['leader'] else '—'}"
               f"（{held['at']}超期）" if held else "")
        deadlines.append({"kind": "期限", "when": d["due"], "what": d["deadline_label"],
                          "stage": case.stage.label, "who": who, "detail":
                          "；".join(x for x in (d["limit"], d["state_label"],
                                                # an extension's reason is material
                                                "已延期" if d["extended"] else "",
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


def held_by(names: Names, held: dict[str, str]) -> str:
    """Who held a case at a breach, by name: ``人力资源部，首问责任人林娜，包案领导赵刚``."""
    return "，".join(x for x in (
        names.unit(held["unit"]) if held["unit"] else "",
        f"首问责任人{names.person(held['responder'])}" if held["responder"] else "",
        f"包案领导{names.person(held['leader'])}" if held["leader"] else "") if x)


def timeline_of(case: Case, rules: CaseRules, audit: list[AuditRow],
                now: dt.datetime, names: Names | None = None) -> dict[str, Any]:
    """A case's whole timeline: events, and deadlines with who held the case at a breach;
    ids, with their labels beside them."""
    namer = names or _Ids()
    holders = breach_holders(audit)
    deadlines = []
    for d in deadline_rows(case, rules, now, namer):
        h = holders.get(d["deadline"])
        deadlines.append({**d, "breached_at": h["at"] if h else "",
                          "held_by": held_by(namer, h) if h else ""})
    return {"id": case.id, "registration_no": case.registration_no, "stage": case.stage.value,
            "stage_label": case.stage.label, "subject": case.petition.subject,
            "unit": case.unit, "unit_name": namer.unit(case.unit) if case.unit else "",
            "responder": case.responder,
            "responder_name": namer.person(case.responder) if case.responder else "",
            "leader": case.leader,
            "leader_name": namer.person(case.leader) if case.leader else "",
            "events": event_rows(audit, names=namer), "deadlines": deadlines}
