"""The practices' use cases on both databases with a simulated clock: each runs twice
where the scheduled flow would, and announces, alerts or compiles once; each leaves a
hash-chained journal; its messages render and are written."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import json
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from domain.errors import RuleViolation
from notifications.transports import EmlTransport
from services import cases as s
from services import practices as p
from services.bootstrap import App
from services.outbox import deliver
from services.sweep import sweep
from storage.audit import verify
from storage.tables import outbox
from tests.conftest import SAMPLE_OFFICE, at

WAGE = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())


def _set(app: App, local: str) -> None:
    app.clock.at = at(local)  # type: ignore[attr-defined]


def _messages(app: App, kind: str) -> list[tuple[str, str]]:
    with app.engine.connect() as conn:
        return [(r.recipient, r.case_id) for r in conn.execute(
            select(outbox.c.recipient, outbox.c.case_id).where(outbox.c.kind == kind)
            .order_by(outbox.c.id))]


def _journal(app: App, subject: str) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    with app.uow() as uow:
        return [(r.type, dict(r.data)) for r in uow.practices.events(subject)]


def test_reception_notices_and_reminders_go_once_on_working_days_after_the_holiday(app):
    # The 2026-10-05 monthly reception moves to 10-08 (National Day); staff are told three
    # working days before (09-28), the leader one working day before (09-30).
    _set(app, "2026-09-27 09:00")  # a Sunday, but 调休上班: the 10-08 notice is not yet due
    assert [a.reception.day for a in p.announce_receptions(app)
            if a.reception.rule == "月度接待日"] == []
    _set(app, "2026-09-28 07:59")
    assert [a for a in p.announce_receptions(app) if a.reception.rule == "月度接待日"] == []
    _set(app, "2026-09-28 08:00")
    done = [(a.what, a.reception.day) for a in p.announce_receptions(app)]
    assert ("notice", dt.date(2026, 10, 8)) in done
    assert ("remind", dt.date(2026, 10, 8)) not in done
    assert p.announce_receptions(app) == []  # the same morning again: nothing twice
    _set(app, "2026-09-30 08:30")
    done = [(a.what, a.reception.day, a.recipients) for a in p.announce_receptions(app)]
    assert ("remind", dt.date(2026, 10, 8), ("feng.bo",)) in done
    subject = "reception:月度接待日:2026-10-05"
    assert [t for t, _ in _journal(app, subject)] == ["ReceptionAnnounced", "ReceptionReminded"]
    notice = _journal(app, subject)[0][1]
    assert notice["day"] == "2026-10-08" and "国庆节" in notice["moved"]
    assert notice["recipients"] == ["li.ming", "qian.hui", "wu.lei"]
    assert _messages(app, "reception_reminder").count(("feng.bo", subject)) == 1


def test_a_reception_petition_is_registered_with_the_leader_on_duty(app):
    _set(app, "2026-11-10 09:30")
    case = s.register(app, {**WAGE, "channel": "reception", "received_at": None},
                      registration_no="XF-R1", actor="qian.hui")
    case = s.route_and_assign(app, case.id, actor="intake")
    assert (case.responder, case.leader) == ("gao.jian", "gao.jian")
    assert case.petition.channel.value == "reception"
    _set(app, "2026-11-11 09:30")
    with pytest.raises(RuleViolation, match="no leader reception day"):
        s.register(app, {**WAGE, "channel": "reception", "received_at": None},
                   registration_no="XF-R2", actor="qian.hui")
    with app.uow() as uow:
        assert [c.registration_no for c in uow.all_cases()] == ["XF-R1"]


def _zero_reports_start(app: App, day: dt.date) -> None:
    rules = dataclasses.replace(app.office.practices.zero_report, starts=day)
    app.office = dataclasses.replace(
        app.office, practices=dataclasses.replace(app.office.practices, zero_report=rules))


def test_zero_reports_missing_alert_the_head_then_the_office_and_late_ones_count(app):
    units = app.office.practices.zero_report.units
    _zero_reports_start(app, dt.date(2026, 11, 30))
    _set(app, "2026-11-30 08:00")
    for unit in units:
        if unit != "mining1":
            who = next(x.id for x in app.office.org.members(unit))
            p.file_zero_report(app, unit=unit, reporter=who)
    assert p.check_zero_reports(app) == []  # 08:00: nothing is due yet
    _set(app, "2026-11-30 10:05")
    assert [(a.unit, a.day, a.level) for a in p.check_zero_reports(app)] == [
        ("mining1", dt.date(2026, 11, 30), "head")]
    assert p.check_zero_reports(app) == []
    _set(app, "2026-11-30 14:00")
    assert [(a.unit, a.day, a.level) for a in p.check_zero_reports(app)] == [
        ("mining1", dt.date(2026, 11, 30), "office")]
    _set(app, "2026-11-30 15:10")
    late = p.file_zero_report(app, unit="mining1", reporter="luo.jun", items=1,
                              summary="两名职工反映夜班津贴计算有误")
    assert late.late
    with pytest.raises(RuleViolation, match="already reported for 2026-11-30"):
        p.file_zero_report(app, unit="mining1", reporter="luo.jun")
    status = {r["unit"]: r for r in p.zero_report_status(app, dt.date(2026, 11, 30))}
    assert all(r["reported"] for r in status.values()) and status["mining1"]["late"]
    types = [t for t, _ in _journal(app, "zero-report:2026-11-30")]
    assert types.count("ZeroReportFiled") == len(units)
    assert types.count("ZeroReportMissing") == 1 and types.count("ZeroReportOverdue") == 1
    assert _messages(app, "zero_report_missing").count(
        ("zhang.hua", "zero-report:2026-11-30")) == 1
    # Past midnight into December: the next day's reports are due afresh.
    _set(app, "2026-12-01 10:00")
    assert {(a.unit, a.day) for a in p.check_zero_reports(app)} == {
        (u, dt.date(2026, 12, 1)) for u in units}


def test_signals_go_into_the_weekly_digest_once_and_one_becomes_a_petition(app):
    _set(app, "2026-12-28 09:00")  # Monday: the week before (no signals) is compiled empty
    assert p.compile_digest(app) == ("2026-W52", 0)
    _set(app, "2026-12-29 16:00")  # the week of 2026-12-28, ISO week 53
    one = p.new_signal(app, officer="luo.jun", unit="mining1", risk="medium",
                       summary="综采一队部分职工对夜班津贴有意见", detail="约10人议论准备集体反映")
    _set(app, "2027-01-02 11:00")  # a Saturday
    p.new_signal(app, officer="song.yu", unit="logistics", summary="澡堂热水不足")
    with pytest.raises(RuleViolation, match="is not an information officer"):
        p.new_signal(app, officer="zheng.tao", unit="hr", summary="x")
    assert p.compile_digest(app) is None  # W52's is done; W53's not before Monday 09:00
    _set(app, "2027-01-04 09:00")
    assert p.compile_digest(app) == ("2026-W53", 2)
    assert p.compile_digest(app) is None
    assert sorted(r for r, subject in _messages(app, "signal_digest")
                  if subject == "digest:2026-W53") == ["gao.jian", "ma.yun"]
    _set(app, "2027-01-05 10:00")
    case = s.register(app, {**WAGE, "received_at": None, "subject": one.summary},
                      registration_no="XF-S1", actor="qian.hui", signal=one.id)
    with pytest.raises(RuleViolation, match="already promoted"):
        s.register(app, {**WAGE, "received_at": None}, registration_no="XF-S2",
                   actor="qian.hui", signal=one.id)
    with app.uow() as uow:
        history = [r.type for r in uow.history_of(uow.cases.get("XF-S1"))]
        assert uow.practices.signal(one.id).case_id == case.id  # type: ignore[union-attr]
    assert history[:4] == ["SignalRecorded", "SignalDigested", "SignalPromoted",
                           "CaseRegistered"]


def test_practice_messages_render_and_journals_are_verified(app, tmp_path):
    _zero_reports_start(app, dt.date(2026, 11, 30))
    _set(app, "2026-11-30 10:30")
    p.check_zero_reports(app)
    p.new_signal(app, officer="qian.hui", unit="hr", summary="社保缴费基数调整引发议论")
    _set(app, "2026-12-07 09:00")
    p.compile_digest(app)
    _set(app, "2026-12-07 09:05")
    report = deliver(app, EmlTransport(tmp_path / "eml"), limit=500)
    assert report.counts["sent"] > 0 and not report.counts["dead"], report
    texts = [_body(f) for f in (tmp_path / "eml").glob("*.eml")]
    assert any("综采一队" in t and "零报告" in t for t in texts)
    assert any("社保缴费基数调整引发议论" in t for t in texts)
    with app.engine.connect() as conn:
        checked, breaks = verify(conn)
    assert checked >= 3 and breaks == []
    tamper = text("UPDATE audit_events SET actor = 'nobody' WHERE case_id = "
                  "'zero-report:2026-11-30' AND seq = 1")  # someone edits an alert afterwards
    if app.engine.dialect.name == "postgresql":  # the append-only trigger refuses it
        with pytest.raises(DBAPIError, match="append-only"), app.engine.begin() as conn:
            conn.execute(tamper)
        return
    with app.engine.begin() as conn:  # SQLite has no such guard: verify finds it
        conn.execute(tamper)
    with app.engine.connect() as conn:
        _, breaks = verify(conn)
    assert [b.case_id for b in breaks] == ["zero-report:2026-11-30"]


def _body(path: Path) -> str:
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    part = mail.get_body(("plain",))  # type: ignore[attr-defined]
    return f"{mail['subject']}\n{part.get_content() if part else ''}"


def test_a_key_period_fires_extra_reminders_and_raises_the_breach(app):
    _set(app, "2026-09-21 09:00")
    case = s.register(app, {**WAGE, "received_at": None}, registration_no="XF-K1",
                      actor="qian.hui")
    case = s.route_and_assign(app, case.id, actor="intake")
    s.act(app, case.id, s.ActRequest(s.Act.ACK, str(case.responder)))
    s.act(app, case.id, s.ActRequest(s.Act.ACCEPT, str(case.responder), reason="受理"))
    # The 60-day limit runs to 2026-11-20; 25% of it falls inside the key period
    # 国庆节及党的会议期间 (09-28 to 10-10), 50% does not.
    fired = []
    for day in ("2026-10-06 09:00", "2026-10-21 12:00"):
        _set(app, day)
        fired += [f for f in sweep(app, sweeper="test").fired if f.case_id == case.id]
    names = [(f.rung, f.event) for f in fired if f.clock == "handling"]
    assert ("key-25%", "DeadlineReminder") in names
    assert all(n != "key-50%" for n, _ in names)
    with app.uow() as uow:
        rows = [r for r in uow.events_of(case.id) if r.data.get("rung") == "key-25%"]
    assert rows[0].data["key_period"] == "国庆节及党的会议期间"
    assert pendulum.instance(rows[0].at) >= at("2026-10-06 00:00")
