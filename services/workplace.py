"""What each person's workplace shows: their queue, the triage queue, a case as they may see
it with the acts they may take, the leader's board. Every row passes the domain's
``sight`` (the accused set sees nothing of an accusation; outside its handling chain no
accuser and no material) and every offered act ``permissions.check``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.accused import accused_set
from domain.acts import Act, acts_in
from domain.case import Case
from domain.deadlines import (
    due_text,
    estimate_note,
    standing,
    state_label,
    state_text,
    urgency,
)
from domain.errors import CaseNotFound, PetitionError
from domain.events import EventType as E
from domain.instants import format_duration, format_local
from domain.labels import DEADLINE_KINDS, MESSAGE_KINDS, RUNG_LEVELS, duration, label
from domain.offices import check_in, sight_in
from domain.periods import Period
from domain.periods import Unit as PeriodUnit
from domain.permissions import Relation, Sight, relations
from services.bootstrap import App
from services.naming import OfficeNames
from services.practices import signal_items
from services.records import OUTLINE_SUBJECT
from services.timeline import breach_holders, event_rows, held_by


@dataclass(frozen=True)
class Row:
    """One case in a list: what any who may see it may see."""

    ref: str
    id: str
    subject: str
    stage: str
    stage_label: str
    unit: str
    responder: str
    leader: str
    deadline: str
    due: str
    due_at: dt.datetime | None
    urgency: str
    overdue: str
    overdue_seconds: int
    warning: str
    roles: tuple[str, ...] = ()


def _name(app: App, pid: str | None) -> str:
    person = app.person(pid)
    return person.name if person else (pid or "")


def _named(app: App, pid: str | None) -> str:
    """A person as the workplace names a holder: by name (ids are for JSON)."""
    return _name(app, pid) if pid else ""


def row(app: App, case: Case, person: str, now: dt.datetime, seen: Sight) -> Row:
    s = standing(case.deadlines(app.rules_for(case), now))
    nxt = s.next
    org = app.office_of(case).org
    unit = org.units.get(case.unit or "")
    subject = case.petition.subject if seen >= Sight.MATERIAL else OUTLINE_SUBJECT
    held = relations(org, case, person) if app.tree.home(person) == case.office else set()
    return Row(case.ref, case.id, subject, case.stage.value, case.stage.label,
               unit.name if unit else "待分办", _name(app, case.responder),
               _name(app, case.leader), nxt.kind.label if nxt else "",
               due_text(nxt) if nxt else "", nxt.due_at if nxt else None,
               urgency(nxt, now) if nxt else "", duration(format_duration(s.overdue_by))
               if s.overdue else "", int(s.overdue_by.total_seconds()),
               estimate_note(nxt) if nxt else "",
               tuple(r.label for r in Relation if r in held))


def _rows(app: App, cases: list[Case], person: str) -> list[Row]:
    """The rows of the cases ``person`` may see (the others left out, unsaid), by next
    due, the overdue first."""
    now = app.clock.now()
    rows = [row(app, c, person, now, seen) for c in cases
            if (seen := sight_in(app.tree, c, person)) is not Sight.NONE]
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(rows, key=lambda r: (-r.overdue_seconds, r.due_at or far))


QUEUE_PAGE = 100  # rows a queue shows at once, the soonest due first


@dataclass(frozen=True)
class Queue:
    rows: list[Row]
    total: int  # open cases in the queue, shown or not


def my_queue(app: App, person: str, limit: int = QUEUE_PAGE) -> Queue:
    """The open cases ``person`` holds a part in (responder, owning leader, the head or the
    leader in charge of the handling unit), by next due, the overdue first: the first
    ``limit`` of them, ordered in the database by each case's stored next due instant."""
    units = [u.id for u in app.office.org.units.values() if person in (u.head, u.leader)]
    with app.uow() as uow:
        found = uow.find_cases(people=[person], units=units, by_due=True, limit=limit)
        total = uow.count_cases(people=[person], units=units)
    return Queue(_rows(app, found, person), total)


def triage_queue(app: App, person: str) -> list[Row]:
    """The petitions no rule could route (待分办), for the petition office's staff."""
    if person not in app.office.org.office_staff:
        return []
    with app.uow() as uow:
        found = [c for c in uow.find_cases(stage="registered")
                 if c.triage is not None and c.office == app.office.id]
    return _rows(app, found, person)


@dataclass(frozen=True)
class Board:
    """A leader's page: the cases they own, those waiting for them to accept, and the
    escalations sent to them."""

    owned: list[Row]
    to_accept: list[Row]
    escalations: list[dict[str, str]] = field(default_factory=list)


def leader_board(app: App, person: str) -> Board:
    with app.uow() as uow:
        owned = uow.find_cases(people=[person], by_due=True, limit=QUEUE_PAGE)
        sent = uow.messages_to(person, ["escalation", "breach"], limit=30)
        refs = {c.id: c for c in owned}
        for m in sent:
            if m.case_id and m.case_id not in refs:
                try:
                    refs[m.case_id] = uow.cases.get(m.case_id, lock=False)
                except CaseNotFound:
                    continue
    mine = _rows(app, [c for c in owned if c.leader == person], person)
    escalations = []
    for m in sent:
        case = refs.get(m.case_id)
        if case is None or sight_in(app.tree, case, person) is Sight.NONE:
            continue
        escalations.append({"ref": case.ref, "kind": m.kind,
                            "kind_label": label(MESSAGE_KINDS, m.kind),
                            "at": format_local(m.queued_at),
                            "rung": str(m.payload.get("rung") or ""),
                            "rung_label": _rung_label(m.payload),
                            "overdue": duration(str(m.payload.get("overdue") or ""))})
    return Board(mine, [r for r in mine if r.stage == "leader_pending"], escalations)


def _rung_label(payload: Mapping[str, Any]) -> str:
    """A fired rung as a leader reads it: its deadline and level (限时办结升级督办)."""
    kind = str(payload.get("kind") or payload.get("clock") or "").split("@", 1)[0]
    level = str(payload.get("level") or "")
    return label(DEADLINE_KINDS, kind, "") + label(RUNG_LEVELS, level, "")


@dataclass(frozen=True)
class CaseView:
    """A case as one person may see it, and what they may do to it now."""

    ref: str
    id: str
    sight: Sight
    stage: str
    stage_label: str
    header: dict[str, str]
    petition: dict[str, Any]
    deadlines: list[dict[str, Any]]
    events: list[dict[str, str]]
    acts: list[Act]
    triage: str | None
    reasons: list[str]
    # What waits on someone: an extension asked (申请延期), a report asked (要求报告).
    waiting: list[str] = field(default_factory=list)


def case_view(app: App, ref: str, person: str) -> CaseView:
    """The case ``ref`` as ``person`` may see it; ``CaseNotFound`` when they may see
    nothing of it (the accused do not learn it exists)."""
    now = app.clock.now()
    with app.uow() as uow:
        case = uow.cases.get(ref, lock=False)
        audit = uow.history_of(case)
    org = app.office_of(case).org
    seen = sight_in(app.tree, case, person)
    if seen is Sight.NONE:
        raise CaseNotFound(ref)
    rules = app.rules_for(case)
    names = OfficeNames(app, viewer=person)
    holders = breach_holders(audit)
    deadlines = []
    for v in case.deadlines(rules, now):
        held = holders.get(v.key)
        deadlines.append({
            "key": v.key, "name": v.kind.label, "limit": str(v.period), "due": due_text(v),
            "state": state_text(v), "state_label": v.state.label,
            "state_text": state_label(v),
            "urgency": urgency(v, now) if v.closed_at is None and not v.kind.is_window
            else v.state.value,
            "warning": estimate_note(v) if v.closed_at is None else "",
            "extended": "; ".join(  # the reason is material: for who sees it in full
                f"+{e.extension}（{e.reason + '，' if seen is Sight.FULL else ''}"
                f"{_name(app, e.approver)}批准）" for e in v.extensions if e.extension),
            "held_by": (f"{held_by(names, held)}（{held['at']} 超期）") if held else ""})
    p = case.petition
    petition: dict[str, Any] = {"category": p.category.label, "channel": p.channel.label,
                                "received": format_local(p.received_at),
                                "headcount": p.headcount}
    if seen >= Sight.MATERIAL:
        petition.update(subject=p.subject, content=p.content, petitioner=p.petitioner.name)
    else:
        petition.update(subject=OUTLINE_SUBJECT, content="", petitioner="")
    if seen >= Sight.FULL:
        petition.update(phone=p.petitioner.phone or "", id_number=p.petitioner.id_number or "",
                        address=p.petitioner.address or "")
    unit = org.units.get(case.unit or "")
    assigned = [r.data for r in audit if r.type == E.CASE_ASSIGNED.value]
    repeat = (names.case(case.repeat_of) if case.repeat_of and seen >= Sight.MATERIAL
              and names.may_see(case.repeat_of) else "")
    header = {"unit": unit.name if unit else "待分办",
              "responder": _named(app, case.responder), "leader": _named(app, case.leader),
              "policy": case.policy_id,
              # the earlier case named only to who may see both cases' material
              "repeat_ref": repeat, "repeat_of": (case.repeat_of or "") if repeat else "",
              "rule": str(assigned[-1].get("rule") or "") if assigned else ""}
    rule = app.office_of(case).routing.explain(header["rule"], names.unit)
    reasons = ([f"分办规则：{rule}"] if header["rule"] else []) + [
        f"领导包案：{r}" for r in case.leader_reasons]
    acts = []
    for act in acts_in([case.stage]):
        try:
            check_in(app.tree, case, person, act)
        except PetitionError:
            continue
        acts.append(act)
    return CaseView(case.ref, case.id, seen, case.stage.value, case.stage.label, header,
                    petition, deadlines,
                    event_rows(audit, restricted=seen < Sight.FULL, names=names), acts,
                    case.triage,
                    reasons, waiting(case, names, full=seen is Sight.FULL))


def waiting(case: Case, names: OfficeNames, *, full: bool) -> list[str]:
    """The requests that wait on someone, as sentences; their reasons for who sees the
    case's material (``full``) only."""
    out = []
    ext = case.pending.get("extension")
    if ext:
        period = Period(int(ext["amount"]), PeriodUnit(ext["unit"]))
        out.append(f"{names.person(ext['by'])}于{format_local(dt.datetime.fromisoformat(ext['at']))}"
                   f"申请延期{period}" + (f"（理由：{ext['reason']}）" if full else "")
                   + f"，待{names.person(ext['notify'])}或其上级审批")
    rep = case.pending.get("report")
    if rep:
        out.append(f"{names.person(rep['by'])}于{format_local(dt.datetime.fromisoformat(rep['at']))}"
                   "要求报告办理情况" + (f"：{rep['note']}" if full and rep.get("note") else "")
                   + "，待承办人提交完成任务报告")
    return out


@dataclass(frozen=True)
class SignalBoard:
    """信息员: the signals a person may read, whether they may report one, and when the
    weekly digest goes out."""

    rows: list[dict[str, Any]]
    officer: bool
    digest_note: str


def signal_board(app: App, person: str) -> SignalBoard:
    """Readers of the digest and the petition office see every signal, an officer their
    own; nobody sees a signal that became an accusation against them (as in the digest)."""
    org = app.office.org
    rules = app.office.practices.information
    rows = signal_items(app, None)
    if person not in rules.readers and person not in org.office_staff:
        rows = [r for r in rows if r["officer"] == person]
    hidden = set()
    with app.uow() as uow:
        for ref in {r["case"] for r in rows if r["case"]}:
            try:
                case = uow.cases.get(ref, lock=False)
            except CaseNotFound:
                continue
            if person in accused_set(org, case.petition):
                hidden.add(ref)
    readers = "、".join(_name(app, p) for p in rules.readers) or "（未配置）"
    note = (f"周报《信访信息参考》每周{'一二三四五六日'[rules.weekday]} {rules.at:%H:%M} "
            f"编发上周信息，报送 {readers}。")
    return SignalBoard([r for r in rows if r["case"] not in hidden],
                       person in rules.officers, note)
