"""挂牌督办 (issue 29): a higher body lists a case with its reference, the date it requires
the case done by and a report due every N days; both are clocks whose rungs fire like any
deadline's, and each report filed sets the next due."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.acts import Act
from domain.deadlines import DeadlineState
from domain.errors import NotPermitted, RuleViolation
from domain.permissions import check
from domain.policy import FIXED_LADDERS
from domain.policy import DeadlineKind as K
from notifications.plan import plan
from tests.conftest import at, new_case


def _listed(office, rules, every: int = 10):
    case = new_case(office, rules)
    case.acknowledge(actor=str(case.responder), now=at("2026-03-02 10:00"))
    case.accept(actor=str(case.responder), now=at("2026-03-02 11:00"))
    case.list_case(body="省信访局", reference="鲁信督〔2026〕12号", required=dt.date(2026, 4, 1),
                   every=every, actor="qian.hui", now=at("2026-03-03 09:00"))
    return case


def test_a_listed_case_runs_to_the_bodys_date_and_its_first_report(office, rules):
    case = _listed(office, rules)
    listed = case.view(K.LISTED, rules, at("2026-03-03 10:00"))
    report = case.view(K.LISTING_REPORT, rules, at("2026-03-03 10:00"))
    assert listed is not None and report is not None
    assert listed.due_date == dt.date(2026, 4, 1) and listed.state is DeadlineState.PENDING
    assert listed.basis == "省信访局挂牌督办（鲁信督〔2026〕12号）"
    assert report.due_date == dt.date(2026, 3, 13)  # 10 calendar days from 03-03
    e = case.events[-1]
    assert (e.type.value, e.data["required"], e.data["report_due"]) == (
        "CaseListed", "2026-04-01", "2026-03-13")
    assert {m.recipient for m in plan([e]) if m.kind == "case_listed"} == {case.responder}


def test_the_listed_clock_fires_its_reminder_once_at_half_time(office, rules):
    case = _listed(office, rules, every=60)
    before = case.due_rungs(rules, at("2026-03-10 09:00"))
    assert [d.name for d in before if d.kind is K.LISTED] == []
    due = [d for d in case.due_rungs(rules, at("2026-03-20 09:00")) if d.kind is K.LISTED]
    assert [d.name for d in due] == ["listed-remind"]
    case.fire_rung(due[0].clock, due[0].name, actor="sweeper", now=at("2026-03-20 09:00"),
                   rules=rules)
    assert case.events[-1].type.value == "DeadlineReminder"
    assert case.events[-1].data["recipient"] == case.responder
    assert not [d for d in case.due_rungs(rules, at("2026-03-20 09:05")) if d.kind is K.LISTED]
    with pytest.raises(RuleViolation):  # exactly once
        case.fire_rung(due[0].clock, due[0].name, actor="sweeper",
                       now=at("2026-03-20 09:05"), rules=rules)
    # past the date: breach to the owning leader's rung, then the mine head's escalation
    late = [d.name for d in case.due_rungs(rules, at("2026-04-03 09:00")) if d.kind is K.LISTED]
    assert late == ["listed-warn", "listed-breach", "listed-escalate"]


def test_a_report_meets_the_report_clock_and_sets_the_next_due(office, rules):
    case = _listed(office, rules)
    case.report_to_lister(summary="已约谈信访人，正在核查工资台账", actor=str(case.responder),
                          now=at("2026-03-12 15:00"))
    first = case.view(K.LISTING_REPORT, rules, at("2026-03-12 16:00"))
    assert first is not None and first.due_date == dt.date(2026, 3, 22)  # the next one
    done = case.clocks["listing_report"]
    assert not done.is_open
    assert case.events[-1].data["next_due"] == "2026-03-22"
    assert case.listing is not None and len(case.listing["reports"]) == 1


def test_deciding_the_case_meets_the_listed_date(office, rules):
    from domain.outcomes import Outcome, Resolution

    case = _listed(office, rules)
    who = str(case.responder)
    case.report_completion(summary="已补发", actor=who, now=at("2026-03-20 09:00"), rules=rules)
    case.decide(Outcome.SUPPORT, summary="予以支持", actor=who, now=at("2026-03-21 09:00"),
                resolution=Resolution.RESOLVED)
    v = case.view(K.LISTED, rules, at("2026-05-01 09:00"))
    assert v is not None and v.state is DeadlineState.MET
    assert not [d for d in case.due_rungs(rules, at("2026-05-01 09:00"))
                if d.kind in (K.LISTED, K.LISTING_REPORT)]


@pytest.mark.parametrize(("body", "ref", "required", "every", "says"), [
    ("", "12号", dt.date(2026, 4, 1), 10, "listing body"),
    ("省信访局", " ", dt.date(2026, 4, 1), 10, "reference"),
    ("省信访局", "12号", dt.date(2026, 3, 1), 10, "before today"),
    ("省信访局", "12号", dt.date(2026, 4, 1), 0, "every 1 to 90 days"),
])
def test_a_bad_listing_is_refused_and_changes_nothing(office, rules, body, ref, required,
                                                       every, says):
    case = new_case(office, rules)
    n = len(case.events)
    with pytest.raises(RuleViolation, match=says):
        case.list_case(body=body, reference=ref, required=required, every=every,
                       actor="qian.hui", now=at("2026-03-03 09:00"))
    assert case.listing is None and len(case.events) == n
    assert not [c for c in case.clocks.values() if c.kind in (K.LISTED, K.LISTING_REPORT)]


def test_listing_twice_or_reporting_unlisted_is_refused(office, rules):
    case = _listed(office, rules)
    with pytest.raises(RuleViolation, match="listed already"):
        case.list_case(body="国家信访局", reference="1号", required=dt.date(2026, 4, 1), every=5,
                       actor="qian.hui", now=at("2026-03-04 09:00"))
    other = new_case(office, rules, case_id="c2")
    with pytest.raises(RuleViolation, match="not listed"):
        other.report_to_lister(summary="x", actor="qian.hui", now=at("2026-03-04 09:00"))


def test_the_office_lists_and_the_handlers_report(office, rules):
    case = _listed(office, rules)
    other = new_case(office, rules, case_id="c2")
    assert check(office.org, other, "qian.hui", Act.LIST_CASE)
    with pytest.raises(NotPermitted):
        check(office.org, other, str(other.responder), Act.LIST_CASE)
    assert check(office.org, case, str(case.responder), Act.REPORT_TO_LISTER)
    with pytest.raises(NotPermitted, match="not listed"):  # not offered before it is listed
        check(office.org, other, str(other.responder), Act.REPORT_TO_LISTER)
    with pytest.raises(NotPermitted, match="listed already"):  # nor listed twice
        check(office.org, case, "qian.hui", Act.LIST_CASE)
    assert FIXED_LADDERS[K.LISTED] == rules.policy.ladder(K.LISTED)


@pytest.mark.parametrize(("language", "says"), [
    ("zh", "已由省信访局挂牌督办（鲁信督〔2026〕12号），要求于2026-04-01前办结，每10日"),
    ("en", "by 省信访局 (鲁信督〔2026〕12号): it must be done by 2026-04-01"),
])
def test_the_handlers_are_told_of_the_listing(office, rules, language, says):
    from notifications.compose import context
    from notifications.render import Renderer

    case = _listed(office, rules)
    [m] = [m for m in plan(case.events[-1:]) if m.kind == "case_listed"]
    ctx = context("case_listed", m.recipient, dict(m.payload), case, office.org,
                  office="示范煤矿信访办公室", language=language, to_name="林娜")
    text = Renderer(language).render("case_listed", ctx)
    assert says in text.text and "鲁信督〔2026〕12号" in text.subject
