"""The office's practices as use cases: leader reception days, the daily zero report, the
information officers' signals and weekly digest. The ``office-practices`` flow and the
``daily-zero-report`` flow wrap these in tasks; the CLI calls them directly.

Each use case writes its rows, its audit events (a journal) and its messages in one
transaction, and checks the journal first, so running it twice announces, alerts or
compiles nothing twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from domain.accused import accused_set
from domain.errors import CaseNotFound, RuleViolation
from domain.events import EventType as E
from domain.instants import format_local, local, local_date
from domain.reception import ReceptionDay
from domain.signals import Signal, Week, check_promotable, record_signal
from domain.zero_report import Alert, ZeroReport, alerts_due, file_report
from notifications.compose import reception_facts, signal_digest, unit_name, zero_report_facts
from services.bootstrap import App
from services.journals import SYSTEM
from services.journals import event as _event
from services.journals import journal as _journal
from services.journals import message as _message
from storage.chain import AuditRow
from storage.ports import UnitOfWork

# --- leader reception days -------------------------------------------------------------------

@dataclass(frozen=True)
class Announced:
    what: str  # notice (the staff) or remind (the leader on duty)
    reception: ReceptionDay
    recipients: tuple[str, ...]


def announce_receptions(app: App) -> list[Announced]:
    """Tell the staff ``notice_days`` working days before each reception and remind the
    leader on duty ``remind_days`` before, from ``notify_at`` local time; each once."""
    schedule = app.office.practices.reception
    if not schedule.rules:
        return []
    now = app.clock.now()
    today = local_date(now)
    if local(now).time() < schedule.notify_at:  # this morning's are not due yet
        today = today.subtract(days=1)
    done: list[Announced] = []
    with app.uow() as uow:
        for what, d in schedule.announcements(app.office.calendar, today):
            subject = _journal(app, f"reception:{d.key}")
            type_ = E.RECEPTION_ANNOUNCED if what == "notice" else E.RECEPTION_REMINDED
            if uow.practices.has_event(subject, type_.value):
                continue
            to = tuple(p for p in schedule.staff if p != d.leader) if what == "notice" \
                else (d.leader,)
            facts = reception_facts(d, app.office.org, app.office.notify.language)
            uow.practices.append(subject, "reception", [_event(
                type_, subject, SYSTEM, now, reception=d.key, day=facts["day"],
                nominal=facts["nominal"], leader=d.leader, moved=d.moved,
                recipients=list(to))])
            kind = "reception_notice" if what == "notice" else "reception_reminder"
            uow.queue([_message(f"{subject}:{what}:{p}", subject, kind, p, now, facts)
                       for p in to])
            done.append(Announced(what, d, to))
        uow.commit()
    return done


# --- the daily zero report -------------------------------------------------------------------

def file_zero_report(app: App, *, unit: str, reporter: str, items: int = 0,
                     summary: str = "", day: dt.date | None = None) -> ZeroReport:
    """A unit's daily report (每日零报告) for ``day`` (default: today, local)."""
    now = app.clock.now()
    day = day or local_date(now)
    rules = app.office.practices.zero_report
    with app.uow() as uow:
        existing = uow.practices.zero_report(unit, day)
        report = file_report(rules, app.office.org, app.office.calendar, unit=unit, day=day,
                             reporter=reporter, items=items, summary=summary, now=now,
                             existing=existing)
        uow.practices.add_zero_report(report)  # two reporters at once: the key decides
        subject = _journal(app, f"zero-report:{day.isoformat()}")
        uow.practices.append(subject, "zero-report", [_event(
            E.ZERO_REPORT_FILED, subject, reporter, now, unit=unit, day=day.isoformat(),
            items=report.items, nothing=report.nothing, summary=report.summary,
            late=report.late)])
        uow.commit()
    return report


def check_zero_reports(app: App) -> list[Alert]:
    """Alert the head of each unit whose report is missing after ``due_at``, and the office
    after ``office_at``; each alert once, for the last week of days."""
    rules = app.office.practices.zero_report
    if not rules.units:
        return []
    now = app.clock.now()
    today = local_date(now)
    first = today.subtract(days=8)
    out: list[Alert] = []
    with app.uow() as uow:
        reported: dict[dt.date, list[str]] = {}
        for r in uow.practices.zero_reports(first, today):
            reported.setdefault(r.day, []).append(r.unit)
        alerted = [(row.data["unit"], dt.date.fromisoformat(row.data["day"]), row.data["level"])
                   for row in uow.practices.events_between(
                       _journal(app, f"zero-report:{first}"),
                       _journal(app, f"zero-report:{today}"),
                       [E.ZERO_REPORT_MISSING.value, E.ZERO_REPORT_OVERDUE.value])]
        for a in alerts_due(rules, app.office.org, app.office.calendar, now, reported,
                            alerted):
            subject = _journal(app, f"zero-report:{a.day.isoformat()}")
            type_ = E.ZERO_REPORT_MISSING if a.level == "head" else E.ZERO_REPORT_OVERDUE
            due = rules.due(a.day)
            uow.practices.append(subject, "zero-report", [_event(
                type_, subject, SYSTEM, now, unit=a.unit, day=a.day.isoformat(),
                level=a.level, recipients=list(a.recipients), due=due.isoformat())])
            facts = zero_report_facts(a.unit, a.day, due, app.office.org)
            kind = "zero_report_missing" if a.level == "head" else "zero_report_overdue"
            uow.queue([_message(f"{subject}:{a.unit}:{a.level}:{p}", subject, kind, p, now,
                                facts, urgent=a.level == "office") for p in a.recipients])
            out.append(a)
        uow.commit()
    return out


def zero_report_status(app: App, day: dt.date) -> list[dict[str, Any]]:
    """Each listed unit's report for ``day``: reported (nothing / n matters, late) or not."""
    rules = app.office.practices.zero_report
    with app.uow() as uow:
        got = {r.unit: r for r in uow.practices.zero_reports(day, day)}
    rows = []
    for unit in rules.units:
        r = got.get(unit)
        rows.append({"unit": unit, "name": unit_name(app.office.org, unit),
                     "day": day.isoformat(),
                     "reported": r is not None,
                     "reporter": r.reporter if r else None,
                     "reporter_name": _person_name(app, r.reporter) if r else None,
                     "at": format_local(r.at) if r else None,
                     "items": r.items if r else None,
                     "summary": r.summary if r else "", "late": r.late if r else None})
    return rows


# --- information officers' signals -----------------------------------------------------------

def new_signal(app: App, *, officer: str, unit: str, summary: str, detail: str = "",
               risk: str = "low") -> Signal:
    """Record an officer's signal (信访信息), with its journal."""
    now = app.clock.now()
    sid = f"s-{local(now).format('YYYYMMDD')}-{uuid.uuid4().hex[:6]}"
    signal = record_signal(app.office.org, app.office.practices.information.officers,
                           signal_id=sid, officer=officer, unit=unit, summary=summary,
                           detail=detail, risk=risk, now=now)
    with app.uow() as uow:
        uow.practices.add_signal(signal)
        subject = f"signal:{sid}"
        uow.practices.append(subject, "signal", [_event(
            E.SIGNAL_RECORDED, subject, officer, now, unit=unit, summary=signal.summary,
            detail=signal.detail, risk=signal.risk.value)])
        uow.commit()
    return signal


def promote_in(uow: UnitOfWork, signal_id: str, case_id: str, registration_no: str,
               actor: str, now: dt.datetime) -> None:
    """In the registering transaction: the signal becomes case ``case_id``."""
    signal = uow.practices.signal(signal_id, lock=True)
    if signal is None:
        raise RuleViolation(f"signal:{signal_id}", "no such signal")
    check_promotable(signal)
    uow.practices.promote(signal_id, case_id)
    subject = f"signal:{signal_id}"
    uow.practices.append(subject, "signal", [_event(
        E.SIGNAL_PROMOTED, subject, actor, now, case_id=case_id,
        registration_no=registration_no)])


def check_signal(app: App, signal_id: str) -> Signal:
    """The signal, if it may be promoted (for the CLI, before it submits an intake)."""
    with app.uow() as uow:
        signal = uow.practices.signal(signal_id)
    if signal is None:
        raise RuleViolation(f"signal:{signal_id}", "no such signal")
    check_promotable(signal)
    return signal


def compile_digest(app: App, week: Week | None = None) -> tuple[str, int] | None:
    """The weekly 《信访信息参考》 for the leaders: the week just ended once the configured
    weekday and time have come (or ``week``), once per issue. Returns (issue, signals) or
    None when nothing was due or it was compiled already."""
    rules = app.office.practices.information
    now = app.clock.now()
    week = week or rules.digest_due(now)
    if week is None or not rules.readers:
        return None
    subject = _journal(app, f"digest:{week.issue}")
    with app.uow() as uow:
        if uow.practices.events(subject):
            return None
        found = uow.practices.signals(*week.bounds())
        cases = {c.id: c for c in uow.all_cases()} if any(s.case_id for s in found) else {}
        refs = {cid: c.ref for cid, c in cases.items()}
        org = app.office.org

        def rows_for(reader: str) -> list[dict[str, Any]]:
            """The digest as ``reader`` may read it: no row of a signal that became an
            accusation ``reader`` is in the accused set of."""
            shown = [s for s in found if s.case_id not in cases
                     or reader not in accused_set(org, cases[s.case_id].petition)]
            return signal_digest(week, shown, refs, org, app.office.notify.language)[1]

        facts, _ = signal_digest(week, found, refs, org, app.office.notify.language)
        uow.practices.append(subject, "digest", [_event(
            E.SIGNAL_DIGESTED, subject, SYSTEM, now, issue=week.issue,
            signals=[s.id for s in found], readers=list(rules.readers))])
        for s in found:
            uow.practices.append(f"signal:{s.id}", "signal", [_event(
                E.SIGNAL_DIGESTED, f"signal:{s.id}", SYSTEM, now, issue=week.issue)])
        uow.queue([_message(f"{subject}:{p}", subject, "signal_digest", p, now, facts,
                            rows_for(p)) for p in rules.readers])
        uow.commit()
    return week.issue, len(found)


def tick(app: App) -> dict[str, int]:
    """Everything time-driven the practices owe at ``now``: what the scheduled flow runs
    (the quarterly review's measures are ``services.review.check_measures``)."""
    return {"receptions_announced": len(announce_receptions(app)),
            "zero_report_alerts": len(check_zero_reports(app)),
            "digests": 1 if compile_digest(app) else 0}


# --- read models -------------------------------------------------------------------------------

def reception_items(app: App, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """The receptions held from ``first`` to ``last``: the day, the leader on duty, and
    why a day moved."""
    days = app.office.practices.reception.days(app.office.calendar, first, last)
    return [{"reception": d.rule, "nominal": d.nominal.isoformat(),
             "day": d.day.isoformat() if d.day else None, "leader": d.leader,
             "place": d.place, "moved": d.moved} for d in days]


def signal_items(app: App, week: Week | None) -> list[dict[str, Any]]:
    """The office's signals (of ``week``, or all), oldest first, with the case each was
    promoted to."""
    units = set(app.office.org.units)
    refs: dict[str, str] = {}
    with app.uow() as uow:
        found = uow.practices.signals(*week.bounds()) if week else uow.practices.signals()
        found = [s for s in found if s.unit in units]  # another office's are its own
        for case_id in {s.case_id for s in found if s.case_id}:
            try:
                refs[case_id] = uow.cases.get(case_id, lock=False).ref
            except CaseNotFound:
                continue
    return [{"id": s.id, "at": format_local(s.at), "officer": s.officer,
             "officer_name": _person_name(app, s.officer), "unit": s.unit,
             "unit_name": unit_name(app.office.org, s.unit), "risk": s.risk.value,
             "risk_label": s.risk.label, "summary": s.summary,
             "case": refs.get(s.case_id or "", s.case_id)} for s in found]


def _person_name(app: App, pid: str) -> str:
    person = app.person(pid)
    return person.name if person else "（已不在册）"


def signal_history(app: App, signal_id: str) -> list[AuditRow]:
    """A signal's journal: recorded, in which digests, promoted to which case."""
    with app.uow() as uow:
        if uow.practices.signal(signal_id) is None:
            raise RuleViolation(f"signal:{signal_id}", "no such signal")
        return uow.practices.events(f"signal:{signal_id}")
