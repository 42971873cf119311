"""The office workplace and its API over HTTP (FastAPI's TestClient, the SQLite database, a
fixed clock): no login no case, CSRF on every form, wrong passwords slowed and journaled,
403 for an act the person may not take, the accused shown nothing, tokens revocable."""

from __future__ import annotations

import re
from typing import Any

import pendulum
import pytest
from fastapi.testclient import TestClient

from services import cases, users
from services.bootstrap import sql_app
from services.clock import FixedClock
from services.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade
from tests.conftest import SAMPLE_OFFICE, WAGE
from web.main import create_app

PASSWORD = "correct-horse-7"
ACCUSATION = {**WAGE, "category": "accusation", "subject": "综采一队队长截留职工奖金",
              "content": "队长张华在绩效考核中截留奖金", "accused_persons": ["zhang.hua"],
              "concerns_unit": "mining1", "petitioner": {"name": "匿名职工"}}


class RecordingRuns:
    """The engine's runs, recorded: what was started and woken."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.woken: list[dict[str, Any]] = []

    def wake(self, run_id: str, request: Any) -> str | None:
        self.woken.append(dict(request))
        return None

    def heal(self, app: Any, case_id: str) -> list[str]:
        return []

    def start(self, app: Any, case_id: str) -> str | None:
        self.started.append(case_id)
        return None


@pytest.fixture
def site(office, tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'petitions.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(home=tmp_path, config_dir=SAMPLE_OFFICE)
    app = sql_app(settings, office, FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine)
    for who in ("qian.hui", "lin.na", "zheng.tao", "zhang.hua", "luo.jun", "li.ming"):
        users.set_password(app, who, PASSWORD, actor="test")
    runs = RecordingRuns()
    yield app, runs, create_app(app, runs)
    engine.dispose()


def client(web: Any) -> TestClient:
    return TestClient(web, follow_redirects=False)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def login(web: Any, who: str, password: str = PASSWORD) -> TestClient:
    c = client(web)
    done = c.post("/login", data={"person_id": who, "password": password,
                                  "csrf": csrf_of(c.get("/login").text)})
    assert done.status_code == 303, done.text
    return c


def wage_case(app: Any, number: str = "XF-1") -> str:
    case = cases.register(app, WAGE, registration_no=number, actor="qian.hui")
    return cases.route_and_assign(app, case.id, actor="intake").id


def stage_of(app: Any, ref: str) -> str:
    with app.uow() as uow:
        return str(uow.cases.get(ref, lock=False).stage.value)


def test_nothing_of_a_case_without_a_login_or_a_token(site):
    app, _, web = site
    wage_case(app)
    c = client(web)
    assert c.get("/livez").status_code == 200
    for path in ("/", "/cases/XF-1", "/supervise", "/intake"):
        page = c.get(path)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert "工资" not in page.text
    for path in ("/api/v1/cases", "/api/v1/cases/XF-1", "/api/v1/cases/XF-1/timeline"):
        answer = c.get(path)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
        assert "工资" not in answer.text
    assert c.get("/api/v1/cases", headers={"Authorization": "Bearer x.y"}).status_code == 401
    assert c.post("/api/v1/cases/XF-1/actions", json={"act": "ack"}).status_code == 401
    assert stage_of(app, "XF-1") == "assigned"


def test_a_form_without_this_sessions_csrf_token_is_refused_and_changes_nothing(site):
    app, _, web = site
    case_id = wage_case(app)
    responder = login(web, "lin.na")
    other = login(web, "zheng.tao")
    page = responder.get("/cases/XF-1")
    assert page.status_code == 200 and 'id="act-ack"' in page.text
    for token in ("", csrf_of(other.get("/").text)):
        refused = responder.post("/cases/XF-1/act", data={"act": "ack", "csrf": token})
        assert refused.status_code == 403
        assert stage_of(app, "XF-1") == "assigned"
    assert responder.post("/login", data={"person_id": "lin.na", "password": PASSWORD}
                          ).status_code == 403  # the login form too
    done = responder.post("/cases/XF-1/act", data={"act": "ack", "csrf": csrf_of(page.text)})
    assert done.status_code == 303 and stage_of(app, "XF-1") == "acknowledged"
    with app.uow() as uow:
        via = [r.data.get("via") for r in uow.events_of(case_id)]
    assert any(str(v).startswith("web:") for v in via)


def test_wrong_passwords_are_throttled_journaled_and_reset_by_a_good_one(site):
    app, _, web = site
    c = client(web)
    token = csrf_of(c.get("/login").text)
    for _ in range(5):
        wrong = c.post("/login", data={"person_id": "lin.na", "password": "guess-guess",
                                       "csrf": token})
        assert wrong.status_code == 401 and "编号或密码不正确" in wrong.text
    for password in ("guess-guess", PASSWORD):  # before the turn: not even judged
        early = c.post("/login", data={"person_id": "lin.na", "password": password,
                                       "csrf": token})
        assert early.status_code == 429 and early.headers["retry-after"] == "2"
        assert "请2秒后再试" in early.text
    with app.uow() as uow:
        journaled = uow.practices.events("access:lin.na")
    assert [e.type for e in journaled].count("LoginFailed") == 5
    app.clock.advance(seconds=2)
    assert c.post("/login", data={"person_id": "lin.na", "password": PASSWORD,
                                  "csrf": token}).status_code == 303
    assert client(web).post("/login", data={
        "person_id": "nobody", "password": "x", "csrf": token}).status_code == 403


def test_an_act_the_person_may_not_take_is_403_and_changes_nothing(site):
    app, runs, web = site
    wage_case(app)
    # the office's head sees the case (to supervise it) but is not its first responder
    secret = users.create_token(app, "desk", "li.ming", actor="test")
    bearer = {"Authorization": f"Bearer {secret}"}
    c = client(web)
    assert c.get("/api/v1/cases/XF-1", headers=bearer).status_code == 200
    refused = c.post("/api/v1/cases/XF-1/actions", json={"act": "ack"}, headers=bearer)
    assert refused.status_code == 403 and "li.ming" in refused.json()["detail"]
    posing = c.post("/api/v1/cases/XF-1/actions", json={"act": "ack", "actor": "lin.na"},
                    headers=bearer)  # the token says who acts, never the body
    assert posing.status_code == 422
    assert stage_of(app, "XF-1") == "assigned" and runs.woken == []
    mine = users.create_token(app, "lin", "lin.na", actor="test")
    done = c.post("/api/v1/cases/XF-1/actions", json={"act": "ack", "request_id": "r1"},
                  headers={"Authorization": f"Bearer {mine}"})
    assert done.status_code == 200 and done.json()["case"]["stage"] == "acknowledged"
    # on the page: no form offered to the office's head, and a forged post changes nothing
    head = login(web, "li.ming")
    page = head.get("/cases/XF-1")
    assert page.status_code == 200 and 'id="act-accept"' not in page.text
    forged = head.post("/cases/XF-1/act", data={"act": "accept", "csrf": csrf_of(page.text)})
    assert forged.status_code == 303 and stage_of(app, "XF-1") == "acknowledged"
    assert "li.ming" in head.get("/cases/XF-1").text  # the refusal, flashed
    # someone outside the case does not learn it exists
    assert login(web, "zheng.tao").get("/cases/XF-1").status_code == 404


def test_the_accused_are_shown_nothing_of_the_accusation(site):
    app, _, web = site
    case = cases.register(app, ACCUSATION, registration_no="XF-A", actor="qian.hui")
    case = cases.route_and_assign(app, case.id, actor="intake")
    assert case.unit != "mining1"
    for who in ("zhang.hua", "luo.jun"):  # the accused and his team
        c = login(web, who)
        for path in ("/", "/leader", "/cases/XF-A", f"/cases/{case.id}", "/signals"):
            page = c.get(path)
            assert "截留" not in page.text and "XF-A" not in page.text.replace(
                "没有信访件 XF-A", ""), (who, path)
        assert c.get("/cases/XF-A").status_code == 404
        token = users.create_token(app, f"t-{who.replace('.', '-')}", who, actor="test")
        bearer = {"Authorization": f"Bearer {token}"}
        assert c.get("/api/v1/cases/XF-A", headers=bearer).status_code == 404
        assert c.get("/api/v1/cases/XF-A/timeline", headers=bearer).status_code == 404
        listed = c.get("/api/v1/cases?open=false", headers=bearer).json()
        assert listed["cases"] == [] and not listed["more"] and "截留" not in str(listed)
    supervisor = login(web, "li.ming")
    page = supervisor.get("/cases/XF-A").text
    assert "检举控告件（内容仅承办人可见）" in page and "截留" not in page
    assert "匿名职工" not in page


def test_intake_through_the_api_is_routed_at_once_and_idempotent(site):
    app, runs, web = site
    secret = users.create_token(app, "hotline-12345", "qian.hui", actor="test")
    bearer = {"Authorization": f"Bearer {secret}"}
    c = client(web)
    body = {**WAGE, "registration_no": "HL-20261120-1"}
    first = c.post("/api/v1/intake", json=body, headers=bearer)
    assert first.status_code == 201, first.text
    record = first.json()
    assert record["unit"] == "hr" and record["responder"] and record["stage"] == "assigned"
    assert record["next_deadline"]["due_at"].endswith("Z")
    assert record["next_deadline"]["state"] == "pending"
    assert runs.started == [record["id"]]
    again = c.post("/api/v1/intake", json=body, headers=bearer)
    assert again.status_code == 201 and again.json()["id"] == record["id"]
    bad = c.post("/api/v1/intake", json={**body, "registration_no": "HL-2",
                                         "received_at": "2026-12-01T09:00:00+08:00"},
                 headers=bearer)
    assert bad.status_code == 422 and "received_at" in bad.json()["detail"]
    for n in (2, 3):
        assert c.post("/api/v1/intake", json={**body, "registration_no": f"HL-{n}"},
                      headers=bearer).status_code == 201
    listed = c.get("/api/v1/cases?limit=2", headers=bearer).json()
    rest = c.get("/api/v1/cases?limit=2&offset=2", headers=bearer).json()
    assert len(listed["cases"]) == 2 and listed["more"]  # one clock instant: any order,
    assert len(rest["cases"]) == 1 and not rest["more"]  # but each case on one page
    assert {x["registration_no"] for x in listed["cases"] + rest["cases"]} == {
        "HL-20261120-1", "HL-2", "HL-3"}
    assert "phone" not in listed["cases"][0]["petition"]  # the office: no personal data
    timeline = c.get("/api/v1/cases/HL-20261120-1/timeline", headers=bearer).json()
    assert [e["event"] for e in timeline["events"]][:2] == ["CaseRegistered", "CaseAssigned"]
    assert timeline["events"][0]["data"]["via"] == "api:hotline-12345"
    users.revoke_token(app, "hotline-12345", actor="test")
    assert c.get("/api/v1/cases", headers=bearer).status_code == 401


def test_the_clerk_registers_on_the_page_and_sees_the_routing(site):
    app, runs, web = site
    clerk = login(web, "qian.hui")
    form = clerk.get("/intake")
    fields = {"csrf": csrf_of(form.text), "name": "刘建军", "phone": "13812341234",
              "channel": "letter", "category": "complaint", "subject": "工资未足额发放",
              "content": "请求核查补发", "concerns_unit": "mining1"}
    done = clerk.post("/intake", data=fields)
    assert done.status_code == 200
    assert "人力资源部" in done.text and "分办规则：申诉求决类，含“工资”" in done.text
    assert "首问复命" in done.text
    assert len(runs.started) == 1
    bad = clerk.post("/intake", data={**fields, "channel": "fax"})
    assert bad.status_code == 422 and "channel" in bad.text
    with app.uow() as uow:
        assert len(uow.all_cases()) == 1
    # a unit's responder may not register
    assert login(web, "lin.na").get("/intake").status_code == 403


def test_supervision_is_for_supervisors(site):
    app, _, web = site
    wage_case(app)
    assert login(web, "lin.na").get("/supervise").status_code == 403
    supervisor = login(web, "li.ming")
    page = supervisor.get("/supervise")
    assert page.status_code == 200 and "审计链完整" in page.text
    assert 'data-measure="' in page.text
    csv_text = supervisor.get("/supervise/measures.csv").text
    assert csv_text.lstrip("\ufeff").startswith("measure,label,formula,numerator")
    token = users.create_token(app, "t-lin", "lin.na", actor="test")
    assert client(web).get("/api/v1/measures", headers={
        "Authorization": f"Bearer {token}"}).status_code == 403


def test_the_login_goes_back_only_to_this_site(site):
    _, _, web = site
    c = client(web)
    done = c.post("/login", data={"person_id": "lin.na", "password": PASSWORD,
                                  "csrf": csrf_of(c.get("/login").text),
                                  "next": "//evil.example/"})
    assert done.headers["location"] == "/"


def test_the_practices_pages_file_a_zero_report_and_a_signal(site):
    _, _, web = site
    reporter = login(web, "luo.jun")  # 综采一队, an information officer too
    page = reporter.get("/zero-report")
    assert page.status_code == 200 and 'id="zero-form"' in page.text
    done = reporter.post("/zero-report", data={"csrf": csrf_of(page.text), "items": "0"})
    assert done.status_code == 303
    reported = reporter.get("/zero-report").text
    assert "已报告：无情况" in reported
    assert '<td data-label="件数">0</td>' in reported and "built-in" not in reported
    again = reporter.post("/zero-report", data={"csrf": csrf_of(page.text), "items": "0"})
    assert again.status_code == 303 and "already reported" in reporter.get(
        "/zero-report").text
    form = reporter.get("/signals")
    assert 'id="signal-form"' in form.text and "信访信息参考" in form.text
    reporter.post("/signals", data={"csrf": csrf_of(form.text), "unit": "mining1",
                                    "summary": "职工议论夜班补贴", "risk": "medium"})
    assert "职工议论夜班补贴" in reporter.get("/signals").text
    assert "职工议论夜班补贴" in login(web, "li.ming").get("/signals").text  # the office
    assert "职工议论夜班补贴" not in login(web, "lin.na").get("/signals").text
    assert login(web, "lin.na").get("/reception").status_code == 200


def test_a_token_whose_name_holds_a_dot_authenticates(site):
    app, _, web = site
    secret = users.create_token(app, "hotline.12345", "qian.hui", actor="test")
    c = client(web)
    assert c.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"}
                 ).status_code == 200
    assert c.get("/api/v1/cases", headers={"Authorization": "Bearer hotline.12345.x"}
                 ).status_code == 401


def test_a_session_a_browser_kept_ends_with_a_logout_or_a_new_password(site):
    """The probe replayed a saved session cookie after logout and after a password change,
    and was still logged in for hours."""
    app, _, web = site
    for ending in ("logout", "password"):
        c = login(web, "luo.jun")
        kept = c.cookies.get("petitions_session")
        assert c.get("/").status_code == 200
        if ending == "logout":
            c.post("/logout", data={"csrf": csrf_of(c.get("/").text)})
        else:
            users.set_password(app, "luo.jun", PASSWORD, actor="test")
        replay = client(web)
        replay.cookies.set("petitions_session", kept)
        answer = replay.get("/")
        assert answer.status_code == 303 and "/login" in answer.headers["location"], ending
    assert login(web, "luo.jun").get("/").status_code == 200  # a new login works
