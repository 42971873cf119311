"""Leader reception days (领导接待日) as schedules.

Two practices from the mines, both data: "the 10th and 20th of each month, mine leaders in
rotation" (``days_of_month``) and "the Monday of the first week of each month, announced in
advance" (``weekday`` + ``week``). A reception whose nominal day is a rest day (a weekend,
a statutory holiday; a 调休 working weekend counts as a working day) follows the rule's
``on_rest_day``: moved to the next or previous working day, kept, or skipped.

Rotation is by nominal occurrence, counted from ``starts``: the leader's turn does not shift
when the calendar moves a day, and a skipped reception uses its leader's turn. All dates are
local (Asia/Shanghai) calendar dates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterator
from dataclasses import dataclass

import pendulum

from domain.calendar import WorkingCalendar
from domain.errors import ConfigError, RuleViolation
from domain.fields import Fields, parse_date, parse_enum, parse_time, parse_weekday
from domain.org import OrgChart
from domain.petition import Petition
from domain.routing import RoutingDecision, barred_person

MAX_BACK_DAYS = 60


class RestDayRule(enum.Enum):
    NEXT_WORKING_DAY = "next_working_day"
    PREVIOUS_WORKING_DAY = "previous_working_day"
    KEEP = "keep"   # held on the rest day anyway
    SKIP = "skip"   # not held that time


@dataclass(frozen=True)
class ReceptionRule:
    """One recurring reception. Exactly one of ``days_of_month`` or ``weekday`` (0 = Monday)
    with ``week`` (1..5, or -1 for the last such weekday of the month)."""

    name: str
    leaders: tuple[str, ...]
    starts: dt.date
    days_of_month: tuple[int, ...] = ()
    weekday: int | None = None
    week: int | None = None
    on_rest_day: RestDayRule = RestDayRule.NEXT_WORKING_DAY
    place: str = ""

    def nominal_in(self, year: int, month: int) -> list[dt.date]:
        """The nominal days in one month, before any rest-day rule."""
        first = pendulum.date(year, month, 1)
        last = first.end_of("month")
        if self.days_of_month:
            return [first.replace(day=d) for d in self.days_of_month if d <= last.day]
        assert self.weekday is not None and self.week is not None
        days = [first.add(days=i) for i in range(last.day) if
                first.add(days=i).weekday() == self.weekday]
        if self.week == -1:
            return [days[-1]]
        return [days[self.week - 1]] if self.week <= len(days) else []


@dataclass(frozen=True)
class ReceptionDay:
    """One reception: when it was due (``nominal``), when it is held (``day``; None when
    skipped), which leader is on duty, and why the day moved (empty if it did not)."""

    rule: str
    nominal: dt.date
    day: dt.date | None
    leader: str
    moved: str
    place: str

    @property
    def key(self) -> str:
        """Names the reception in the audit trail and in message keys."""
        return f"{self.rule}:{self.nominal.isoformat()}"


def _months(first: dt.date, last: dt.date) -> Iterator[tuple[int, int]]:
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def _place(rule: ReceptionRule, nominal: dt.date, calendar: WorkingCalendar
           ) -> tuple[dt.date | None, str]:
    if calendar.is_working_day(nominal):
        return nominal, ""
    why = calendar.describe(nominal)
    if rule.on_rest_day is RestDayRule.KEEP:
        return nominal, ""
    if rule.on_rest_day is RestDayRule.SKIP:
        return None, f"{nominal} 为{why}，本次不接待"
    moved = (calendar.next_working_day(nominal)
             if rule.on_rest_day is RestDayRule.NEXT_WORKING_DAY
             else calendar.previous_working_day(nominal))
    return moved, f"{nominal} 为{why}，顺延至 {moved}" if moved > nominal \
        else f"{nominal} 为{why}，提前至 {moved}"


def occurrences(rule: ReceptionRule, calendar: WorkingCalendar, first: dt.date,
                last: dt.date) -> list[ReceptionDay]:
    """Every reception of ``rule`` whose nominal day lies in [first, last], in order."""
    out: list[ReceptionDay] = []
    index = 0
    for y, m in _months(rule.starts, last):
        for nominal in rule.nominal_in(y, m):
            if nominal < rule.starts:
                continue
            leader = rule.leaders[index % len(rule.leaders)]
            index += 1
            if nominal < first:
                continue
            day, moved = _place(rule, nominal, calendar)
            out.append(ReceptionDay(rule.name, nominal, day, leader, moved, rule.place))
    return out


@dataclass(frozen=True)
class ReceptionSchedule:
    """The office's receptions and when people are told: staff ``notice_days`` working days
    before, the leader on duty ``remind_days`` working days before (0: that morning)."""

    rules: tuple[ReceptionRule, ...] = ()
    notice_days: int = 3
    remind_days: int = 1
    notify_at: dt.time = dt.time(8, 0)
    staff: tuple[str, ...] = ()

    def days(self, calendar: WorkingCalendar, first: dt.date,
             last: dt.date) -> list[ReceptionDay]:
        """Every reception of every rule with its nominal day in [first, last], by the day
        it is held (skipped ones by their nominal day)."""
        found = [d for r in self.rules for d in occurrences(r, calendar, first, last)]
        return sorted(found, key=lambda d: (d.day or d.nominal, d.rule))

    def held_on(self, day: dt.date, calendar: WorkingCalendar) -> ReceptionDay | None:
        """The reception held on ``day``, if any (a moved one is found on its new day)."""
        around = self.days(calendar, day - dt.timedelta(days=MAX_BACK_DAYS),
                           day + dt.timedelta(days=MAX_BACK_DAYS))
        return next((d for d in around if d.day == day), None)

    def require_held_on(self, day: dt.date, calendar: WorkingCalendar) -> ReceptionDay:
        """The reception held on ``day``; a petition taken "at a reception" on a day with
        none is refused, naming the receptions around it."""
        held = self.held_on(day, calendar)
        if held is not None:
            return held
        near = [d for d in self.days(calendar, day - dt.timedelta(days=40),
                                     day + dt.timedelta(days=40)) if d.day is not None]
        before = [d for d in near if d.day and d.day < day]
        after = [d for d in near if d.day and d.day > day]
        hint = "; ".join(filter(None, (
            f"previous {before[-1].day} ({before[-1].leader})" if before else "",
            f"next {after[0].day} ({after[0].leader})" if after else "")))
        raise RuleViolation("reception", f"no leader reception day (领导接待日) on {day}"
                            + (f": {hint}" if hint else "; none is configured"))

    def announcements(self, calendar: WorkingCalendar, today: dt.date
                      ) -> list[tuple[str, ReceptionDay]]:
        """What is due to be told on ``today``: ("notice", day) to the staff and
        ("remind", day) to the leader on duty. A notice or reminder whose day was missed is
        still due up to the reception itself (the flow may not have run that morning)."""
        due: list[tuple[str, ReceptionDay]] = []
        horizon = today + dt.timedelta(days=MAX_BACK_DAYS)
        for d in self.days(calendar, today - dt.timedelta(days=MAX_BACK_DAYS), horizon):
            if d.day is None or d.day < today:
                continue
            for what, n in (("notice", self.notice_days), ("remind", self.remind_days)):
                if calendar.working_days_before(d.day, n) <= today:
                    due.append((what, d))
        return due


def _rule(path: str, data: object, org: OrgChart) -> ReceptionRule:
    f = Fields(data, path, ("name", "leaders", "starts", "days_of_month", "weekday", "week",
                            "on_rest_day", "place"))
    leaders = f.text_list("leaders")
    if not leaders:
        raise ConfigError("a reception needs at least one leader", field=f.at("leaders"))
    for i, who in enumerate(leaders):
        if who not in org.people:
            raise ConfigError(f"unknown person '{who}'", field=f"{f.at('leaders')}[{i}]")
    days: tuple[int, ...] = ()
    if f.has("days_of_month"):
        raw = f.raw("days_of_month")
        if not isinstance(raw, list) or not raw or not all(
                isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 31 for d in raw):
            raise ConfigError(f"expected a list of days 1..31, got {raw!r}",
                              field=f.at("days_of_month"))
        days = tuple(sorted(set(raw)))
    weekday = week = None
    if f.has("weekday"):
        weekday = parse_weekday(f.raw("weekday"), f.at("weekday"))
        week = f.typed("week", int, 1)
        if week not in (1, 2, 3, 4, 5, -1):
            raise ConfigError(f"expected 1..5 or -1 (the last), got {week}", field=f.at("week"))
    if bool(days) == (weekday is not None):
        raise ConfigError("give either 'days_of_month' (e.g. [10, 20]) or 'weekday' with "
                          "'week' (e.g. monday, 1)", field=path)
    return ReceptionRule(
        name=f.text("name"), leaders=leaders,
        starts=parse_date(f.raw("starts"), f.at("starts")) if f.has("starts")
        else dt.date(2000, 1, 1),
        days_of_month=days, weekday=weekday, week=week,
        on_rest_day=parse_enum(RestDayRule, f.raw("on_rest_day"), f.at("on_rest_day"))
        if f.has("on_rest_day") else RestDayRule.NEXT_WORKING_DAY,
        place=f.text("place", "信访接待室"))


def reception_from_mapping(data: object, org: OrgChart, path: str = "reception"
                           ) -> ReceptionSchedule:
    """The ``reception`` section of office.yaml."""
    f = Fields(data, path, ("rules", "notice_days", "remind_days", "notify_at", "staff"))
    rules = tuple(_rule(p, item, org) for p, item in f.items("rules"))
    names = [r.name for r in rules]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"reception name '{dupes[0]}' is used twice", field=f.at("rules"))
    staff = f.text_list("staff")
    for i, who in enumerate(staff):
        if who not in org.people:
            raise ConfigError(f"unknown person '{who}'", field=f"{f.at('staff')}[{i}]")
    notice, remind = f.typed("notice_days", int, 3), f.typed("remind_days", int, 1)
    for name, n in (("notice_days", notice), ("remind_days", remind)):
        if not 0 <= n <= 20:
            raise ConfigError(f"expected 0..20 working days, got {n}", field=f.at(name))
    return ReceptionSchedule(rules, notice, remind,
                             parse_time(f.raw("notify_at"), f.at("notify_at"))
                             if f.has("notify_at") else dt.time(8, 0), staff)


def at_reception(decision: RoutingDecision, day: ReceptionDay, petition: Petition,
                 org: OrgChart) -> RoutingDecision:
    """A petition taken at a reception: the leader on duty is its first responder and its
    owning leader; the unit is the one the routing rules chose. A leader on duty who may
    not handle it (the accused, a declared interest) is passed over, and recorded."""
    bar = barred_person(org, petition, day.leader)
    rule = f"领导接待日 {day.day} ({day.rule})"
    reasons = tuple(dict.fromkeys((*decision.leader_reasons, "领导接待日")))
    if bar is not None:
        leader = decision.leader or next(
            (p for p in (org.mine_head, org.party_secretary)
             if barred_person(org, petition, p) is None), None)
        return dataclasses.replace(decision, rule=f"{rule} → {bar.reason}",
                                   leader=leader, leader_reasons=reasons,
                                   bars=(*decision.bars, bar))
    return dataclasses.replace(decision, responder=day.leader, leader=day.leader, rule=rule,
                               leader_reasons=reasons)
