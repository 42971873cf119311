"""The ledger (台账) an office kept before this engine: its rows read through a column
mapping, every row checked (each problem naming its row and field), and each replayed as a
historical case through the case's own commands at the ledger's dates.

A mapping names, for each petition field (``FIELDS``), the ledger's column that holds it;
values are read through the one table of labels ("来信" → letter, "解释说明" → explain),
the ids themselves, and the mapping's own ``values`` (a ledger's own words: "已办结").
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain import labels as L
from domain.case import Case, CaseRules
from domain.errors import ConfidentialityViolation, PetitionError
from domain.instants import as_utc, at_local, local
from domain.org import OrgChart
from domain.outcomes import Outcome, Resolution
from domain.petition import Petition, petition_from_mapping
from domain.policy import DeadlinePolicy
from domain.routing import RoutingDecision, RoutingRules, assign_by_hand, barred_unit
from domain.stages import Stage

# Each field a ledger may give, with its Chinese name (for the errors) and whether a row
# must give it.
FIELDS: Mapping[str, tuple[str, bool]] = {
    "registration_no": ("登记编号", False), "name": ("信访人", True),
    "phone": ("联系电话", False), "id_number": ("身份证号", False),
    "address": ("住址", False), "received_at": ("收到时间", True),
    "channel": ("信访渠道", True), "category": ("信访类别", True),
    "subject": ("信访事项", True), "content": ("信访内容", False),
    "unit": ("承办单位", False), "responder": ("首问责任人", False),
    "stage_reached": ("办理进度", False), "decided_at": ("答复日期", False),
    "outcome": ("处理结果", False), "resolution": ("三个到位", False),
    "summary": ("办理情况", False),
}


class Reached(enum.Enum):
    """How far a ledger row's case went: what the import replays (in this order)."""

    REGISTERED = "registered"
    ASSIGNED = "assigned"
    HANDLING = "handling"
    DECIDED = "decided"
    CLOSED = "closed"


REACHED_IDS = frozenset(r.value for r in Reached)
# A ledger's words for how far a case went, beside the stages' own labels.
REACHED_WORDS: Mapping[str, Reached] = {
    "已登记": Reached.REGISTERED, "登记": Reached.REGISTERED,
    "已交办": Reached.ASSIGNED, "已交办首问": Reached.ASSIGNED, "交办": Reached.ASSIGNED,
    "已受理": Reached.HANDLING, "办理中": Reached.HANDLING, "在办": Reached.HANDLING,
    "已答复": Reached.DECIDED, "已书面答复": Reached.DECIDED, "答复": Reached.DECIDED,
    "已办结": Reached.CLOSED, "办结": Reached.CLOSED, "已销号": Reached.CLOSED,
}
NO_SUMMARY = "（台账未记办理情况）"
RECEIVED_HOUR = 9  # a ledger giving a day only: received at 9:00 local, office hours
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M",
                "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")


@dataclass(frozen=True)
class ColumnMap:
    """A column mapping: field → ledger column; per field, a ledger word → value."""

    columns: Mapping[str, str]
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def read_mapping(data: object) -> ColumnMap:
    """The mapping of a mapping file's contents (``columns:`` and optional ``values:``);
    one clear line for a field it does not know or a required one it lacks."""
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise PetitionError("mapping: expected 'columns:' (petition field: ledger column)")
    columns = {str(k): str(v) for k, v in data["columns"].items()}
    unknown = sorted(set(columns) - set(FIELDS))
    if unknown:
        raise PetitionError(f"mapping: unknown field(s) {', '.join(unknown)}; fields: "
                            f"{', '.join(FIELDS)}")
    missing = [f for f, (_, req) in FIELDS.items() if req and f not in columns]
    if missing:
        raise PetitionError(f"mapping: no column for {', '.join(missing)}")
    values = data.get("values") or {}
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise PetitionError("mapping: 'values:' maps a field to {ledger word: value}")
    return ColumnMap(columns, {str(f): {str(k): str(v) for k, v in words.items()}
                              for f, words in values.items()})


@dataclass(frozen=True)
class Entry:
    """One ledger row, read and checked."""

    row: int
    registration_no: str | None
    petition: dict[str, Any]  # as ``domain.petition.petition_from_mapping`` reads it
    reached: Reached
    unit: str | None
    responder: str | None
    decided_at: dt.datetime | None
    outcome: Outcome | None
    resolution: Resolution | None
    summary: str
    # The routing of a row assigned or further, by the office's own rules
    # (``domain.routing.assign_by_hand``): its unit, responder and owning leader.
    decision: RoutingDecision | None = None


class _Row:
    """A row's cells by field, gathering its problems (row and field named in each)."""

    def __init__(self, n: int, cells: Mapping[str, Any], mapping: ColumnMap) -> None:
        self.n, self.cells, self.mapping = n, cells, mapping
        self.problems: list[str] = []

    def bad(self, f: str, why: str) -> None:
        self.problems.append(f"第{self.n}行 {FIELDS[f][0]}（{self.mapping.columns.get(f, f)}）："
                             f"{why}")

    def text(self, f: str) -> str:
        v = self.cells.get(f)
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():  # a phone or number typed as a number
            v = int(v)
        return str(v).strip()

    def word(self, f: str, table: Mapping[str, str]) -> str | None:
        """A value given by its id, its label or the mapping's word for it."""
        t = self.text(f)
        if not t:
            return None
        own = self.mapping.values.get(f, {})
        if t in own:
            return own[t]
        if t in table:
            return t
        by_label = {v: k for k, v in table.items()}
        if t in by_label:
            return by_label[t]
        self.bad(f, f"“{t}”不是{'、'.join(table.values())}之一")
        return None

    def when(self, f: str, now: dt.datetime) -> dt.datetime | None:
        v = self.cells.get(f)
        if v is None or v == "":
            return None
        at = _when(v)
        if at is None:
            self.bad(f, f"“{v}”不是日期（如 2026-03-05 或 2026-03-05 14:30）")
        elif at > as_utc(now):
            self.bad(f, f"{local(at).format('YYYY-MM-DD HH:mm')} 在将来")
            return None
        return at


def _when(v: Any) -> dt.datetime | None:
    if isinstance(v, dt.datetime):
        at = v if v.tzinfo else at_local(v.year, v.month, v.day, v.hour, v.minute)
        if not v.tzinfo and (v.hour, v.minute) == (0, 0):  # a date cell: a day only
            at = at_local(v.year, v.month, v.day, RECEIVED_HOUR)
        return as_utc(at)
    if isinstance(v, dt.date):
        return as_utc(at_local(v.year, v.month, v.day, RECEIVED_HOUR))
    text = str(v).strip()
    for fmt in DATE_FORMATS:
        try:
            p = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return _when(p)
    return None


def _person(org: OrgChart, text: str) -> str | None:
    if text in org.people:
        return text
    return next((p.id for p in org.people.values() if p.name == text), None)


def _unit(org: OrgChart, text: str) -> str | None:
    if text in org.units:
        return text
    return next((u.id for u in org.units.values() if u.name == text), None)


def _routed(r: _Row, petition: Petition, unit: str, responder: str, org: OrgChart,
            routing: RoutingRules) -> RoutingDecision | None:
    """The row's unit and responder routed as the office routes by hand: a responder of the
    unit who takes petitions, neither accused nor otherwise barred, and the owning leader
    the rules require; else the row's problem."""
    person = org.people[responder]
    if person.unit != unit:
        r.bad("responder", f"{person.name}不是{org.units[unit].name}的人员")
        return None
    if not person.responder:
        r.bad("responder", f"{person.name}不承办信访件（组织架构中不是首问责任人）")
        return None
    try:
        return assign_by_hand(petition, unit, responder, routing, org, {})
    except (ConfidentialityViolation, PetitionError) as e:
        r.bad("unit" if barred_unit(org, petition, unit) else "responder", f"不能交办（{e}）")
        return None


def read_row(n: int, cells: Mapping[str, Any], mapping: ColumnMap, org: OrgChart,
             now: dt.datetime, routing: RoutingRules) -> tuple[Entry | None, list[str]]:
    """Row ``n`` (cells by field) checked: its entry, or its problems (one line each). A
    row assigned or further is routed by ``routing`` as a hand assignment would be."""
    r = _Row(n, cells, mapping)
    for f, (_, required) in FIELDS.items():
        if required and not r.text(f):
            r.bad(f, "必填，未填写")
    channel = r.word("channel", L.CHANNELS)
    category = r.word("category", L.CATEGORIES)
    received = r.when("received_at", now)
    reached_text = r.text("stage_reached")
    own = mapping.values.get("stage_reached", {})
    words = {**{v: Reached(k) for k, v in L.STAGES.items() if k in REACHED_IDS},
             **REACHED_WORDS, **{w: Reached(v) for w, v in own.items()
                                 if v in REACHED_IDS}}
    reached = Reached.REGISTERED
    if reached_text:
        if reached_text in words or reached_text in REACHED_IDS:
            reached = words.get(reached_text) or Reached(reached_text)
        else:
            r.bad("stage_reached", f"“{reached_text}”不是{'、'.join(REACHED_WORDS)}之一")
    unit = responder = None
    if r.text("unit"):
        unit = _unit(org, r.text("unit"))
        if unit is None:
            r.bad("unit", f"没有单位“{r.text('unit')}”")
    if r.text("responder"):
        responder = _person(org, r.text("responder"))
        if responder is None:
            r.bad("responder", f"没有人员“{r.text('responder')}”")
    after_assigned = list(Reached).index(reached) >= list(Reached).index(Reached.ASSIGNED)
    if after_assigned and not r.text("unit"):
        r.bad("unit", f"办理进度为“{reached_text}”，须填承办单位")
    if after_assigned and not r.text("responder"):
        r.bad("responder", f"办理进度为“{reached_text}”，须填首问责任人")
    decided = r.when("decided_at", now)
    outcome = r.word("outcome", L.OUTCOMES)
    resolution = r.word("resolution", L.RESOLUTIONS)
    if reached in (Reached.DECIDED, Reached.CLOSED):
        for f, v in (("decided_at", r.text("decided_at")), ("outcome", r.text("outcome")),
                     ("resolution", r.text("resolution"))):
            if not v:
                r.bad(f, f"办理进度为“{reached_text}”，须填写")
        if decided and received and decided < received:
            r.bad("decided_at", "早于收到时间")
    petition: dict[str, Any] = {
        "petitioner": {k: r.text(k) for k in ("name", "phone", "id_number", "address")
                       if r.text(k)},
        "channel": channel, "category": category, "subject": r.text("subject"),
        "content": r.text("content"),
        "received_at": received.isoformat() if received else None}
    decision = None
    if not r.problems:
        try:
            read = petition_from_mapping(petition)
        except PetitionError as e:
            r.problems.append(f"第{n}行：{e}")
        else:
            if after_assigned and unit is not None and responder is not None:
                decision = _routed(r, read, unit, responder, org, routing)
    if r.problems:
        return None, r.problems
    return Entry(n, r.text("registration_no") or None, petition, reached, unit, responder,
                 decided, Outcome(outcome) if outcome else None,
                 Resolution(resolution) if resolution else None,
                 r.text("summary") or NO_SUMMARY, decision), []


def read_rows(rows: Sequence[tuple[int, Mapping[str, Any]]], mapping: ColumnMap,
              org: OrgChart, now: dt.datetime, routing: RoutingRules
              ) -> tuple[list[Entry], list[str]]:
    """Every row read and checked: the entries, and every problem found (all rows)."""
    entries: list[Entry] = []
    problems: list[str] = []
    for n, cells in rows:
        entry, bad = read_row(n, cells, mapping, org, now, routing)
        problems += bad
        if entry is not None:
            entries.append(entry)
    return entries, problems


def replay(entry: Entry, *, case_id: str, registration_no: str, policy: DeadlinePolicy,
           rules: CaseRules, actor: str, file: str, now: dt.datetime) -> Case:
    """The ledger row as a case, through the case's commands at the ledger's dates:
    registered when received; assigned (and its first responder's reply) then; accepted;
    the responder's report and the decision on the decision day; for a closed one, the
    rating and review windows lapse (unrated, no review asked) and it is struck off when
    the last of them ends, if that is before ``now`` (else it waits, decided, as any case
    does). Last, the ``Imported`` event, its long-past rungs marked fired, unsent."""
    p = petition_from_mapping(entry.petition)
    at = p.received_at
    case = Case.register(case_id=case_id, registration_no=registration_no, petition=p,
                         policy=policy, actor=actor, now=at)
    order = list(Reached)
    if order.index(entry.reached) >= order.index(Reached.ASSIGNED):
        if entry.decision is None or entry.responder is None:
            raise PetitionError(f"第{entry.row}行：办理进度为已交办或之后，却未分办")
        case.assign(entry.decision, actor=actor, now=at, rules=rules)
        case.acknowledge(actor=entry.responder, now=at)
    if order.index(entry.reached) >= order.index(Reached.HANDLING):
        case.accept(actor=actor, now=at)
    if entry.decided_at is not None and entry.reached in (Reached.DECIDED, Reached.CLOSED):
        assert entry.outcome is not None and entry.responder is not None
        case.report_completion(summary=entry.summary, actor=entry.responder,
                               now=entry.decided_at, rules=rules)
        case.decide(entry.outcome, summary=entry.summary, actor=actor,
                    now=entry.decided_at, resolution=entry.resolution)
        if entry.reached is Reached.CLOSED:
            _close(case, rules, actor, now)
    case.imported(file=file, row=entry.row, stage_reached=_stage_of(entry.reached),
                  actor=actor, now=now, rules=rules)
    return case


def _stage_of(reached: Reached) -> str:
    return {Reached.ASSIGNED: Stage.ACKNOWLEDGED.value,
            Reached.HANDLING: Stage.HANDLING.value}.get(reached, reached.value)


def _close(case: Case, rules: CaseRules, actor: str, now: dt.datetime) -> None:
    """The decided case's windows lapse, in order, and it is struck off at the last."""
    last: dt.datetime | None = None
    while True:
        lapses = [d for d in case.schedule(rules, now)
                  if d.rung is None and d.fire_at <= as_utc(now)]
        if not lapses:
            break
        d = lapses[0]
        case.fire_rung(d.clock, d.name, actor=actor, now=d.fire_at, rules=rules)
        last = d.fire_at
    # A window still open (a decision too recent for the review request to have lapsed)
    # leaves the case rated: the sweep lapses it in its time and staff strike it off.
    if last is not None and case.stage is Stage.RATED \
            and not any(c.is_open for c in case.clocks.values()):
        case.strike_off(actor=actor, now=last, rules=rules, note="台账记为已办结")
