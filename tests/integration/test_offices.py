"""A mining group in one installation (``deploy/group``: the group's office over two mines),
through the use cases on SQLite and PostgreSQL: each mine sees only its own cases, the
group's supervisors see every mine's, a review of a mine's decision becomes the group's
case and its opinion comes back to the mine's, a re-review stops at the last internal level,
and supervision counts each office."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pendulum
import pytest

from domain.acts import Act
from domain.errors import CaseNotFound, ConfigError, NotPermitted, RuleViolation
from domain.stages import Stage
from services import cases, supervision, workplace
from services.bootstrap import App, sql_app
from services.cases import ActRequest
from services.clock import FixedClock
from services.config import load_installation
from services.outbox import deliver
from services.settings import Settings
from storage.tables import outbox
from tests.conftest import SAMPLE_OFFICE, WAGE

GROUP = SAMPLE_OFFICE.parent / "group"


@pytest.fixture
def group(engine: Any, tmp_path: Path) -> App:
    """The group installation, acting in the sample mine (``mine-a``), Friday 2026-11-20."""
    settings = Settings(home=tmp_path, config_dir=GROUP, office="mine-a")
    return sql_app(settings, load_installation(GROUP),
                   FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine)


def _do(app: App, ref: str, act: Act, actor: str, **fields: Any) -> None:
    cases.act(app, ref, ActRequest(act, actor, **fields))


def _decided(app: App) -> str:
    """The sample wage complaint through the mine's hands to its written decision, rated
    not satisfied; its case id."""
    case = cases.register(app, WAGE, registration_no="XF-G-1", actor="qian.hui")
    case = cases.route_and_assign(app, case.id, actor="intake")
    who = str(case.responder)
    _do(app, case.id, Act.ACK, who)
    _do(app, case.id, Act.ACCEPT, who, reason="受理告知书已邮寄")
    _do(app, case.id, Act.REPORT, who, summary="已核实考勤与工资表")
    _do(app, case.id, Act.CLOSE, who, outcome="support", resolution="resolved",
        summary="补发绩效工资")
    _do(app, case.id, Act.RATE, "qian.hui", rating="not_satisfied")
    return case.id


def _get(app: App, ref: str) -> Any:
    with app.uow() as uow:
        return uow.cases.get(ref, lock=False)


def test_a_review_of_a_mines_decision_is_the_groups_case_and_comes_back(group: App) -> None:
    mine_case = _decided(group)
    assert _get(group, mine_case).office == "mine-a"
    result = cases.act(group, mine_case, ActRequest(Act.REQUEST_REVIEW, "qian.hui",
                                                    reason="补发金额未含夜班津贴"))
    assert result.stage is Stage.UNDER_REVIEW and len(result.linked) == 1
    review_id = result.linked[0]
    review = _get(group, review_id)
    assert review.office == "group" and review.links == {"review_of": mine_case}
    assert review.registration_no == "XF-G-1-FC"
    assert _get(group, mine_case).links == {"review_case": review_id}
    # The mine's own leaders no longer decide it: the group does, in its own case.
    unit_leader = group.office.org.units[str(_get(group, mine_case).unit)].leader
    with pytest.raises(RuleViolation, match="decided a level up"):
        _do(group, mine_case, Act.DECIDE_REVIEW, str(unit_leader), outcome="support",
            summary="x")
    # The group routes it to its legal department, where it is handled like any case, with
    # the review's 30 days running beside the handling clock.
    at_group = group.at("group")
    review = cases.route_and_assign(at_group, review_id, actor="intake")
    assert review.unit == "sx-legal" and review.responder == "sx.shi"
    assert any(d.kind.value == "review_decision" and d.closed_at is None
               for d in review.deadlines(group.rules_for(review), group.clock.now()))
    # A mine's person may not act on the group's case, nor learn of it.
    with pytest.raises(CaseNotFound):
        _do(group, review_id, Act.ACK, "lin.na")
    _do(at_group, review_id, Act.ACK, "sx.shi")
    _do(at_group, review_id, Act.ACCEPT, "sx.shi", reason="复查申请已受理")
    _do(at_group, review_id, Act.REPORT, "sx.shi", summary="已调阅夜班考勤")
    decided = cases.act(at_group, review_id, ActRequest(
        Act.CLOSE, "sx.shi", outcome="support", resolution="resolved",
        summary="补发夜班津贴640元"))
    assert decided.linked == (mine_case,)
    back = _get(group, mine_case)
    assert back.stage is Stage.REVIEWED and back.deciders["review"] == "sx.shi"
    with group.uow() as uow:
        mine_events = [r.type for r in uow.events_of(mine_case)]
        mine_decided = [r for r in uow.events_of(mine_case) if r.type == "ReviewDecided"][-1]
        group_events = [r.type for r in uow.events_of(review_id)]
    assert mine_events[-2:] == ["ReviewRequested", "ReviewDecided"]
    assert mine_decided.data["decided_by_office"] == "group"
    assert mine_decided.data["review_case"] == review_id
    assert "ReferredUp" in group_events and group_events[-1] == "DecisionIssued"
    # 复核: past the group, the root, there is no internal level left.
    with pytest.raises(RuleViolation, match="last internal level"):
        _do(group, mine_case, Act.REQUEST_RE_REVIEW, "qian.hui", reason="仍不满意")
    assert _get(group, mine_case).stage is Stage.REVIEWED  # nothing changed


def test_each_mine_sees_its_own_cases_and_the_group_sees_all(group: App) -> None:
    mine_case = _decided(group)
    at_b = group.at("mine-b")
    b_case = cases.register(at_b, {**WAGE, "concerns_unit": None},
                            registration_no="XF-B-1", actor="b.zhu")
    assert b_case.office == "mine-b"
    # Mine B's people, its head and its petition office included, find nothing of mine A's.
    for outsider in ("b.zhu", "b.lei", "b.tian"):
        with pytest.raises(CaseNotFound):
            workplace.case_view(at_b.for_person(outsider), mine_case, outsider)
        with pytest.raises(CaseNotFound):
            _do(at_b, mine_case, Act.STRIKE_OFF, outsider, reason="x")
    with pytest.raises(CaseNotFound):
        workplace.case_view(group.for_person("qian.hui"), b_case.id, "qian.hui")
    # The group's petition office sees both (no personal data), and may act on neither.
    view = workplace.case_view(group.for_person("sx.han"), mine_case, "sx.han")
    assert view.petition["petitioner"] and "phone" not in view.petition and view.acts == []
    with pytest.raises(NotPermitted, match="only its people act on it"):
        _do(group, mine_case, Act.STRIKE_OFF, "sx.han", reason="x")
    # A mine's clerk may not register in another mine, nor in the group.
    with pytest.raises(NotPermitted):
        cases.register(at_b, {**WAGE, "concerns_unit": None}, registration_no="XF-B-2",
                       actor="qian.hui")
    # Supervision: the group's office over every mine, by office; a mine's over its own.
    seen = supervision.overview(group.at("group"), "sx.han", None, None, None)
    assert [name for name, _ in seen.office_measures] == [
        "陕煤集团信访办公室", "示范煤矿信访办公室", "二号煤矿信访办公室"]
    received = {name: next(m.denominator for m in ms if m.key == "closure")
                for name, ms in seen.office_measures}
    assert received == {"陕煤集团信访办公室": 0, "示范煤矿信访办公室": 1, "二号煤矿信访办公室": 1}
    with pytest.raises(NotPermitted):
        supervision.overview(group.for_person("b.mo"), "b.mo", None, None, None)
    own = supervision.overview(group.for_person("b.tian"), "b.tian", None, None, None)
    assert [n for n, _ in own.office_measures] == ["二号煤矿信访办公室"]


def test_a_tree_that_names_a_person_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "offices.yaml").write_text(
        f"offices:\n  - {{id: group, path: {GROUP / 'group'}}}\n"
        f"  - {{id: a, path: {SAMPLE_OFFICE}, parent: group}}\n"
        f"  - {{id: b, path: {SAMPLE_OFFICE}, parent: group}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unique across the installation"):
        load_installation(tmp_path)
    (tmp_path / "offices.yaml").write_text(
        f"offices:\n  - {{id: a, path: {SAMPLE_OFFICE}, parent: nowhere}}\n",
        encoding="utf-8")
    with pytest.raises(ConfigError, match="root"):
        load_installation(tmp_path)


def test_an_escalation_past_a_mines_top_reaches_the_office_above(group: App) -> None:
    from domain.escalation import resolve
    from domain.policy import Role
    from domain.routing import barred_person

    # An accusation against the whole top of the mine and everyone past it there: the
    # mine head, the party secretary, the discipline office's head, the group's duty desk.
    accused = ["gao.jian", "ma.yun", "xu.jing", "group.xinfang"]
    case = cases.register(group, {**WAGE, "category": "accusation", "concerns_unit": None,
                                  "subject": "检举矿领导班子", "accused_persons": accused},
                          registration_no="XF-G-9", actor="qian.hui")
    org = group.rules_for(case).org
    person, role, skips = resolve(Role.MINE_HEAD, case.holders(), org,
                                  lambda p: barred_person(org, case.petition, p, case.recused))
    assert (person, role) == ("sx.han", Role.BEYOND_TOP)  # the group's petition office head
    assert len(skips) == 4
    # The mine's own chart is unchanged, and the group's person acts on nothing of it.
    assert "sx.han" not in group.office.org.people
    with pytest.raises(NotPermitted):
        _do(group, case.id, Act.STRIKE_OFF, "sx.han", reason="x")


def test_the_group_hands_a_petition_down_to_a_mine_and_sees_it_come_back(group: App) -> None:
    at_group, at_b = group.at("group"), group.at("mine-b")
    case = cases.register(at_group, {**WAGE, "concerns_unit": None},
                          registration_no="XF-SX-1", actor="sx.pan")
    case = cases.route_and_assign(at_group, case.id, actor="intake")
    who = str(case.responder)
    _do(at_group, case.id, Act.ACK, who)
    _do(at_group, case.id, Act.ACCEPT, who, reason="受理")
    with pytest.raises(RuleViolation, match="not below"):
        _do(at_group, case.id, Act.HAND_DOWN, who, office="group")
    handed = cases.act(at_group, case.id, ActRequest(Act.HAND_DOWN, who, office="mine-b"))
    (below_id,) = handed.linked
    below = cases.route_and_assign(at_b, below_id, actor="intake")
    assert below.office == "mine-b" and below.unit == "b-hr"  # the mine's own routing
    assert below.links == {"handed_down_from": case.id}
    b_who = str(below.responder)
    _do(at_b, below_id, Act.ACK, b_who)
    _do(at_b, below_id, Act.ACCEPT, b_who, reason="受理")
    _do(at_b, below_id, Act.REPORT, b_who, summary="已补发")
    back = cases.act(at_b, below_id, ActRequest(Act.CLOSE, b_who, outcome="support",
                                                resolution="resolved", summary="已补发工资"))
    assert back.linked == (case.id,)
    with group.uow() as uow:
        above = [r for r in uow.events_of(case.id)]
    assert [r.type for r in above][-2:] == ["HandedDown", "ReturnedUp"]
    assert above[-1].data["summary"] == "已补发工资" and above[-1].data["case"] == below_id
    # Still the group's case to answer: it reports and decides it itself.
    _do(at_group, case.id, Act.REPORT, who, summary="二号矿已补发")
    _do(at_group, case.id, Act.CLOSE, who, outcome="support", resolution="resolved",
        summary="已责成二号矿补发")
    assert _get(group, case.id).stage is Stage.DECIDED
    # Mine A's people learn nothing of either.
    for ref in (case.id, below_id):
        with pytest.raises(CaseNotFound):
            workplace.case_view(group.for_person("qian.hui"), ref, "qian.hui")


def test_the_workplace_of_a_group(group: App) -> None:
    """Over HTTP: each person works in their own office; the group's office switches its
    supervision between the offices it oversees; a mine's people find nothing of another's."""
    from services import users
    from tests.integration.test_web import PASSWORD, RecordingRuns, csrf_of, login
    from web.main import create_app

    for who in ("qian.hui", "b.tian", "sx.han"):
        users.set_password(group, who, PASSWORD, actor="test")
    mine_case = cases.route_and_assign(group, cases.register(
        group, WAGE, registration_no="XF-W-1", actor="qian.hui").id, actor="intake")
    web = create_app(group, RecordingRuns())
    b = login(web, "b.tian")
    assert b.get(f"/cases/{mine_case.ref}").status_code == 404
    assert mine_case.ref not in b.get("/").text
    assert b.get("/supervise?office=mine-a").status_code == 422  # not theirs to oversee
    assert b.get(f"/api/v1/cases/{mine_case.ref}").status_code == 401  # no token: no API
    sx = login(web, "sx.han")
    page = sx.get("/supervise").text
    assert 'id="office-switch"' in page and "示范煤矿信访办公室" in page
    assert 'id="office-measures"' in page and "二号煤矿信访办公室" in page
    one = sx.get("/supervise?office=mine-a")
    assert one.status_code == 200 and 'id="office-measures"' in one.text
    assert "二号煤矿信访办公室</b>" not in one.text  # only the mine asked for has a line
    report = sx.get("/supervise/report.html?office=group").text
    assert 'id="office-lines"' in report and "二号煤矿信访办公室" in report
    seen = sx.get(f"/cases/{mine_case.ref}")  # the group's office sees the mine's case
    assert seen.status_code == 200 and mine_case.ref in seen.text
    # ... and may act on nothing of it: a forged form post is refused, nothing changes.
    refused = sx.post(f"/cases/{mine_case.ref}/act", data={
        "act": "strike_off", "reason": "x", "csrf": csrf_of(page)})
    assert refused.status_code == 303
    assert "only its people act on it" in sx.get(refused.headers["location"]).text
    assert _get(group, mine_case.id).stage is Stage.ASSIGNED
    # A mine's clerk registers in their own mine, whatever office the app was built for.
    q = login(web, "qian.hui")
    assert "示范煤矿信访办公室" in q.get("/intake").text


def test_a_cases_messages_keep_its_own_offices_quiet_hours(engine: Any, tmp_path: Path
                                                           ) -> None:
    """The group's office sends at any hour; the mine's routine mail waits for its morning,
    whichever office's process delivers it."""
    shutil.copytree(GROUP / "group", tmp_path / "group")
    office_yaml = tmp_path / "group" / "office.yaml"
    office_yaml.write_text(office_yaml.read_text(encoding="utf-8").replace(
        'quiet_hours: {start: "22:00", end: "07:00", rest_days: true}', "quiet_hours: null"),
        encoding="utf-8")
    assert "quiet_hours: null" in office_yaml.read_text(encoding="utf-8")
    (tmp_path / "offices.yaml").write_text(
        f"offices:\n  - {{id: group, path: {tmp_path / 'group'}}}\n"
        f"  - {{id: mine-a, path: {SAMPLE_OFFICE}, parent: group}}\n"
        f"  - {{id: mine-b, path: {GROUP / 'mine-b'}, parent: group}}\n", encoding="utf-8")
    friday_night = FixedClock(pendulum.datetime(2026, 11, 20, 15, 30))  # 23:30 local
    settings = Settings(home=tmp_path / "home", config_dir=tmp_path)
    installation = load_installation(tmp_path)
    at_mine = sql_app(settings, installation, friday_night, engine).at("mine-a")
    case = cases.register(at_mine, WAGE, registration_no="XF-Q-1", actor="qian.hui")
    cases.route_and_assign(at_mine, case.id, actor="intake")
    report = deliver(at_mine.at("group"))  # the group's process delivers the outbox
    assert report.counts["held"] >= 1 and report.counts["sent"] == 0, report
    with engine.connect() as conn:
        notes = [r.note for r in conn.execute(outbox.select()) if r.case_id == case.id]
    assert notes and all("held for quiet hours until 2026-11-23 07:00" in n for n in notes)
