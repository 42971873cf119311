"""The quarterly risk review on both databases with a simulated clock: a measure's reminder
and breach go once each (owner, then the owner's superior), the next quarter's pack opens
with last quarter's measures and how each ended, and the yearly targets and the pack's
counts come from real registered cases, less what the viewer may not see."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from domain.errors import NotPermitted, RuleViolation
from domain.quarters import Quarter
from domain.review import MeasureInput, MeasureKind
from notifications.transports import EmlTransport
from services import cases as s
from services import review
from services.bootstrap import App
from services.outbox import deliver
from services.review_pack import build_pack, render_pack
from services.targets import target_rows
from storage.audit import verify
from storage.tables import outbox
from tests.conftest import SAMPLE_OFFICE, at

WAGE = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())
Q3, Q4 = Quarter(2026, 3), Quarter(2026, 4)


def _set(app: App, local: str) -> None:
    app.clock.at = at(local)  # type: ignore[attr-defined]


def _sent(app: App) -> list[tuple[str, str]]:
    with app.engine.connect() as conn:
        return [(r.kind, r.recipient) for r in conn.execute(
            select(outbox.c.kind, outbox.c.recipient)
            .where(outbox.c.kind.like("review_measure_%")).order_by(outbox.c.id))]


def _body(path: Path) -> str:
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    part = mail.get_body(("plain",))  # type: ignore[attr-defined]
    return f"{mail['subject']}\n{part.get_content() if part else ''}"


def _record(app: App, q: Quarter, *measures: MeasureInput) -> list[str]:
    m = review.record_review(app, quarter=q, actor="li.ming", chair="zhao.gang",
                             attendees=["li.ming", "wang.fang", "zhang.hua"],
                             issues=["综采一队工资发放争议"], measures=measures)
    return [x.id for x in m.measures]


def test_a_measure_is_reminded_once_then_breached_once_to_the_owners_superior(app, tmp_path):
    _set(app, "2026-11-20 10:00")
    mine, head = _record(app, Q4,
                         MeasureInput("约谈工资争议职工", "zheng.tao", dt.date(2026, 11, 30)),
                         MeasureInput("制定集体访处置预案", "wang.fang", dt.date(2026, 11, 30),
                                      MeasureKind.PLAN))
    _set(app, "2026-11-27 08:59")  # the reminder is 3 days before, at 09:00
    assert review.check_measures(app) == []
    _set(app, "2026-11-27 09:00")
    assert sorted((d.what, d.to) for d in review.check_measures(app)) == [
        ("remind", "wang.fang"), ("remind", "zheng.tao")]
    assert review.check_measures(app) == []  # once
    review.measure_done(app, head, by="wang.fang", note="预案已印发")
    _set(app, "2026-11-30 17:00")  # still not done at the end of the due date
    due = review.check_measures(app)
    # zheng.tao's superior is hr's head; wang.fang's own measure was done, so nothing.
    assert [(d.measure.id, d.what, d.to) for d in due] == [(mine, "breach", "wang.fang")]
    _set(app, "2026-12-02 09:00")
    assert review.check_measures(app) == []
    assert sorted(_sent(app)) == [
        ("review_measure_breach", "wang.fang"), ("review_measure_reminder", "wang.fang"),
        ("review_measure_reminder", "zheng.tao")]
    report = deliver(app, EmlTransport(tmp_path / "eml"), limit=50)  # they render and go
    assert report.counts["sent"] == 3 and not report.counts["dead"], report
    texts = [_body(f) for f in (tmp_path / "eml").glob("*.eml")]
    assert any("【例会措施逾期督办】郑涛：约谈工资争议职工" in t and "王芳" in t
               and "2026-11-30" in t for t in texts), texts
    with app.uow() as uow:
        types = [r.type for r in uow.practices.events("review:2026Q4")]
    assert types == ["ReviewRecorded", "ReviewMeasureReminded", "ReviewMeasureReminded",
                     "ReviewMeasureDone", "ReviewMeasureBreached"]
    with app.engine.connect() as conn:
        _, breaks = verify(conn)
    assert breaks == []


def test_a_unit_heads_measure_goes_to_the_leader_in_charge_and_refusals_change_nothing(app):
    _set(app, "2026-11-20 10:00")
    (mid,) = _record(app, Q4, MeasureInput("排查工资争议", "zhang.hua", dt.date(2026, 11, 25)))
    _set(app, "2026-11-25 17:00")
    assert [(d.what, d.to) for d in review.check_measures(app)] == [("breach", "zhou.qiang")]
    with pytest.raises(RuleViolation, match="recorded already"):
        _record(app, Q4)
    with pytest.raises(NotPermitted):
        review.record_review(app, quarter=Q3, actor="zheng.tao", chair="zhao.gang",
                             attendees=[], issues=["x"], measures=[])
    with pytest.raises(RuleViolation, match="neither the owner"):
        review.measure_done(app, mid, by="zheng.tao")
    review.measure_done(app, mid, by="zhao.gang", note="主持人确认")  # the chair may
    with pytest.raises(RuleViolation, match="already"):
        review.measure_done(app, mid, by="zhang.hua")


def test_the_next_review_opens_with_last_quarters_measures_and_how_each_ended(app):
    _set(app, "2026-09-25 10:00")
    on_time, late, undone = _record(
        app, Q3, MeasureInput("走访困难职工", "zheng.tao", dt.date(2026, 10, 10)),
        MeasureInput("整改食堂问题", "tang.min", dt.date(2026, 10, 10)),
        MeasureInput("国庆期间值班预案", "wang.fang", dt.date(2026, 10, 15), MeasureKind.PLAN))
    _set(app, "2026-10-09 16:00")
    review.measure_done(app, on_time, by="zheng.tao")
    _set(app, "2026-10-20 16:00")
    review.measure_done(app, late, by="tang.min", note="延误")
    _set(app, "2026-12-28 10:00")
    pack = build_pack(app, Q4, "li.ming")
    assert pack.last_quarter == Q3
    assert [(m["id"], m["state_label"]) for m in pack.last_measures] == sorted(
        [(on_time, "按期完成"), (late, "逾期完成"), (undone, "逾期未完成")])
    page = render_pack(pack, app.office.name)
    assert "2026年第三季度" in page and "逾期未完成" in page and "国庆期间值班预案" in page


def _register(app: App, no: str, received: str, **changes: object) -> str:
    case = s.register(app, {**WAGE, "received_at": received, **changes},
                      registration_no=no, actor="qian.hui")
    return s.route_and_assign(app, case.id, actor="intake").id


def test_pack_and_targets_count_real_cases_and_hide_an_accusation_from_the_accused(app):
    _set(app, "2026-11-20 11:00")
    _register(app, "XF-Q3-1", "2026-08-03T09:00:00+08:00")
    _register(app, "XF-Q4-1", "2026-10-12T09:00:00+08:00")
    _register(app, "XF-Q4-2", "2026-11-02T09:00:00+08:00", headcount=8, representatives=3,
              petitioner={"name": "周大海", "phone": "13900001111"})
    _register(app, "XF-Q4-3", "2026-11-10T09:00:00+08:00",
              category="accusation", accused_persons=["gao.jian"],
              petitioner={"name": "吴某", "phone": "13900002222"},
              subject="举报矿长违规", content="举报高建违规发放奖金")
    _register(app, "XF-Q3-2", "2026-08-10T09:00:00+08:00",
              category="accusation", accused_persons=["gao.jian"],
              petitioner={"name": "郑某", "phone": "13900003333"},
              subject="举报矿长", content="举报高建")
    as_office = build_pack(app, Q4, "li.ming")
    as_accused = build_pack(app, Q4, "gao.jian")
    # Last quarter's counts come from the database, less what the viewer may not see.
    assert [(t.now, t.last) for t in as_office.rising_categories
            if t.key == "accusation"] == [(1, 1)]
    assert "accusation" not in [t.key for t in as_accused.rising_categories]
    assert as_office.petitions == 3 and as_accused.petitions == 2
    assert ("检举控告类", 1) in as_office.by_category
    assert "检举控告类" not in [name for name, _ in as_accused.by_category]
    html = render_pack(as_accused, app.office.name)
    assert "<td>检举控告类</td>" not in html  # no row; the chart's column counts none
    mix = {c.key: c for c, _ in as_accused.charts}["by_category"]
    column = mix.head.index("检举控告类（件）")
    assert all(r[column] == "0" for r in mix.rows)
    complaints = next(t for t in as_office.rising_categories if t.key == "complaint")
    assert (complaints.now, complaints.last, complaints.year_ago) == (2, 1, 0)
    assert complaints.rising and complaints.change == 1
    rows = {r["target"]: r for r in target_rows(app, 2026, Q4, "li.ming")
            if r["unit"] == "hr"}  # wages go to hr
    assert rows["group_visits"]["met"] is False
    assert rows["group_visits"]["actual"] == 1 and rows["group_visits"]["gap_text"] == "超出 1 起"
    assert rows["on_time_closure"]["met"] is None  # nothing closed yet: no made-up rate
    assert rows["on_time_closure"]["verdict"] == "无数据"
    # XF-Q4-1 repeats XF-Q3-1 (the same petitioner): 1 of hr's 2 this quarter.
    assert [(r["ref"], r["repeat_of"]) for r in as_office.repeats] == [("XF-Q4-1", "XF-Q3-1")]
    assert (rows["repeat_rate"]["actual_text"], rows["repeat_rate"]["verdict"],
            rows["repeat_rate"]["gap_text"]) == ("50.0%", "未达标", "超出 40.0 个百分点")
    with pytest.raises(NotPermitted):
        build_pack(app, Q4, "zheng.tao")
