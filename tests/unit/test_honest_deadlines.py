"""A due date counted across a year whose holiday schedule is only estimated carries its
warning wherever it is shown; when the office loads the official schedule, the due dates
that move are recorded and the people holding the case are told."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pendulum

from domain.calendar import WorkingCalendar, YearSchedule
from domain.permissions import Sight
from domain.policy import DeadlineKind
from services import cases as s
from services.bootstrap import App
from services.clock import FixedClock
from services.reading import open_case_rows
from services.records import case_record
from services.sweep import reschedule_open
from tests.conftest import WAGE, events_of

NOTE = "2027年节假日安排尚未公布，期限可能调整"


def _december(memory_app: App) -> tuple[App, str]:
    memory_app.clock = FixedClock(pendulum.datetime(2026, 12, 21, 2, 0))  # Monday 10:00
    data = {k: v for k, v in WAGE.items() if k != "received_at"}
    case = s.register(memory_app, data, registration_no="XF-D1", actor="qian.hui")
    s.route_and_assign(memory_app, case.id, actor="intake")
    return memory_app, case.id


def test_a_due_date_in_an_estimated_year_says_so_wherever_it_is_shown(memory_app):
    app, case_id = _december(memory_app)
    (row,), _ = open_case_rows(app)
    assert row["deadline"] == "first_response" and row["warning"] == ""  # due in 2026
    with app.uow() as uow:
        case = uow.cases.get(case_id, lock=False)
        shown = case_record(app, case, Sight.FULL, app.clock.now(), uow.history_of(case))
    notice = next(d for d in shown["deadlines"] if d["deadline"] == "acceptance_notice")
    assert notice["due_date"].startswith("2027-01") and notice["warning"] == NOTE
    assert shown["warnings"] == [NOTE]


def test_loading_the_official_schedule_moves_a_due_date_and_tells_the_holders(memory_app):
    app, case_id = _december(memory_app)
    reschedule_open(app)  # what is known is noted: nothing moved
    assert [e.type for e in events_of(app, case_id)][-1] == "CaseAssigned"
    with app.uow() as uow:
        case = uow.cases.get(case_id, lock=False)
    before = case.view(DeadlineKind.ACCEPTANCE_NOTICE, app.rules_for(case), app.clock.now())
    assert before is not None
    official = YearSchedule(2027, {dt.date(2027, 1, 1): "元旦", before.due_date: "调休放假"},
                            {}, "国务院办公厅关于2027年部分节假日安排的通知")
    loaded = dataclasses.replace(app.office, calendar=WorkingCalendar(overrides={
        2027: official}))
    app2 = App(app.settings, loaded, app.clock, app.uow)
    reschedule_open(app2)
    revised = [e for e in events_of(app2, case_id) if e.type == "DueDateRevised"]
    assert len(revised) == 1
    assert revised[0].data["old_due"] == before.due_date.isoformat()
    assert revised[0].data["new_due"] > before.due_date.isoformat()
    assert revised[0].data["estimated"] == []  # 2027 is official now
    with app2.uow() as uow:
        told = [(m.kind, m.recipient) for m in uow.messages(limit=100)
                if m.kind == "due_revised"]
    assert told == [("due_revised", "lin.na")]
    reschedule_open(app2)  # once
    assert len([e for e in events_of(app2, case_id) if e.type == "DueDateRevised"]) == 1
