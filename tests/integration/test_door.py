"""The petitioner's own door (网上信访) over HTTP (FastAPI's TestClient, SQLite and
PostgreSQL, a fixed clock), its SMS through the real Aliyun SDK to a local stand-in of the
provider: the code read from the "phone", the petition registered as channel online by
网上信访 and routed, the same matter sent again linked (also at once), the petitioner's
session never reaching another's case nor a staff page, the caps answered 429 with the time
to wait, and the rating and review taken online through the counter's use case."""

from __future__ import annotations

import concurrent.futures
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pendulum
import pytest
from fastapi.testclient import TestClient

from domain.accused import accused_set
from domain.acts import Act
from domain.errors import ConfigError
from notifications.plan import PETITIONER_SMS
from notifications.transports import EmlTransport
from services import cases, door, notices, users
from services.bootstrap import App, sql_app
from services.clock import FixedClock
from services.config import load_office
from services.door_codes import SENDS_PER_NUMBER, TRIES
from services.intake import preview_route
from services.outbox import deliver
from services.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade
from tests.conftest import SAMPLE_OFFICE
from tests.door_standin import KEY_ID, KEY_SECRET, REGISTERED_TEMPLATE, Phones, door_open
from tests.integration.test_web import PASSWORD, RecordingRuns, login
from tests.samples import image
from web.main import create_app

MOBILE, OTHER = "13912345678", "13800001111"
WAGE_FORM = {"name": "王建国", "category": "complaint", "subject": "九月绩效工资未足额发放",
             "content": "本人系综采一队职工，九月绩效工资少发1280元，请予核查。",
             "concerns_unit": "mining1"}


@pytest.fixture
def phones(httpserver, monkeypatch) -> Phones:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_DOOR_SMS_ID", KEY_ID)
    monkeypatch.setenv("TEST_DOOR_SMS_SECRET", KEY_SECRET)
    got = Phones()
    httpserver.expect_request("/").respond_with_handler(lambda r: got(r))
    return got


@pytest.fixture
def app(office, tmp_path, httpserver, phones, db_url) -> Iterator[App]:  # type: ignore[no-untyped-def]
    """The door open, on SQLite and on PostgreSQL (``db_url``: a fresh database each)."""
    engine = make_engine(db_url)
    upgrade(engine)
    plain = sql_app(Settings(home=tmp_path, config_dir=SAMPLE_OFFICE), office,
                    FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine)
    yield door_open(plain, httpserver.url_for("").rstrip("/"))
    engine.dispose()


@pytest.fixture
def runs() -> RecordingRuns:
    return RecordingRuns()


@pytest.fixture
def web(app: App, runs: RecordingRuns) -> TestClient:
    return TestClient(create_app(app, runs))


def plain(page: Any) -> None:
    """The page works without script and reaches no other origin: no <script>, no inline
    event handler, no address but its own."""
    html = page.text
    assert "<script" not in html.lower()
    assert re.search(r"<[^>]*\son[a-z]+\s*=", html, re.IGNORECASE) is None, html
    assert re.search(r"(src|href|action)=\"(https?:)?//", html) is None, html


def case_data(case: Any) -> dict[str, Any]:
    p = case.petition
    return {"petitioner": {"name": p.petitioner.name}, "category": p.category.value,
            "subject": p.subject, "content": p.content, "concerns_unit": p.concerns_unit}


def signed_in(app: App, phones: Phones, runs: RecordingRuns, number: str = MOBILE,
              client: str = "testclient") -> TestClient:
    """A fresh browser, signed in at the door with ``number``'s code."""
    browser = TestClient(create_app(app, runs))
    sent = browser.post("/submit/code", data={"pre": pre(browser), "phone": number})
    assert sent.status_code == 200, sent.text
    done = browser.post("/submit/signin", data={"pre": pre(browser), "phone": number,
                                                 "code": phones.last_code(number)},
                        follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/submit/mine")
    return browser


def pre(client: TestClient) -> str:
    """The token the door's first page gives a visitor before sign-in (in its forms and a
    SameSite=Strict cookie)."""
    found = re.search(r'name="pre" value="([^"]+)"', client.get("/submit").text)
    assert found, "the door's page carries no pre-sign-in token"
    return found.group(1)


def csrf(page: Any) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def submitted(browser: TestClient, form: dict[str, str] = WAGE_FORM,
              files: list[tuple[str, tuple[str, bytes, str]]] | None = None) -> Any:
    page = browser.get("/submit/new")
    return browser.post("/submit/new", data={**form, "csrf": csrf(page)}, files=files or [])


def ref_of(page: Any) -> str:
    found = re.search(r'id="door-ref" class="door-big">([^<]+)<', page.text)
    assert found, page.text
    return found.group(1)


def test_a_petitioner_submits_with_a_scan_and_gets_the_number_by_page_and_sms(
        app, phones, runs, web):
    home = web.get("/submit")
    assert home.status_code == 200
    assert "本办受理职责范围内的信访事项（示范）。" in home.text
    assert "个人信息仅用于办理本事项（示范）。" in home.text
    plain(home)
    browser = signed_in(app, phones, runs)
    cookie = next(c for c in browser.cookies.jar if c.name == "petitions_door")
    assert cookie.path == "/submit"
    scan = image("PNG", seed=3)
    page = submitted(browser, files=[("files", ("信件扫描.png", scan, "image/png"))])
    assert page.status_code == 200, page.text
    ref = ref_of(page)
    assert "已提交并登记" in page.text and "已收到附件 1 个" in page.text
    for shown in (page, browser.get("/submit/new"), browser.get("/submit/mine")):
        plain(shown)
    with app.uow() as uow:
        case = uow.cases.get(ref, lock=False)
        events = uow.events_of(case.id)
        files = uow.attachments.of_case(case.id)
        texts = [m for m in uow.messages(limit=50) if m.recipient == PETITIONER_SMS]
    assert case.petition.channel.value == "online" and case.petition.petitioner.phone == MOBILE
    assert (events[0].type, events[0].actor) == ("CaseRegistered", "online")
    counter = preview_route(app.office, {**case_data(case), "channel": "letter"},
                            app.clock.now(), {})
    assert case.stage.value == "assigned" and case.unit == counter.decision.unit
    assert [(f.by, f.size) for f in files] == [("petitioner", len(scan))]
    assert runs.started == [case.id]
    code = re.search(r'id="door-query-code" class="door-big">(\d{8})<', page.text)
    assert code is not None
    assert [(m.kind, m.status) for m in texts] == [("online_registered", "queued")]
    deliver(app, EmlTransport(app.settings.home / "out"))
    assert phones.of(MOBILE, REGISTERED_TEMPLATE) == [{"no": ref, "code": code.group(1)}]


def test_the_same_matter_sent_again_the_same_day_is_linked_not_registered_twice(
        app, phones, runs):
    browser = signed_in(app, phones, runs)
    first = ref_of(submitted(browser))
    again = submitted(browser)
    assert ref_of(again) == first and "该事项今日已提交" in again.text
    with app.uow() as uow:
        assert len(uow.phone_cases(MOBILE)) == 1


def test_a_petitioner_sees_only_their_own_cases_and_no_staff_page(app, phones, runs):
    mine = signed_in(app, phones, runs)
    ref = ref_of(submitted(mine))
    other = signed_in(app, phones, runs, OTHER)
    listing = other.get("/submit/mine")
    assert ref not in listing.text and "暂无以本手机号登记的信访事项" in listing.text
    token = csrf(other.get("/submit/new"))
    for attempt in (other.post(f"/submit/mine/{ref}/act", data={
            "act": "rate", "rating": "satisfied", "csrf": token}),
            other.get(f"/submit/mine/{ref}/answer.pdf"),
            other.post("/submit/mine/XF-NO-SUCH/act", data={
                "act": "rate", "rating": "satisfied", "csrf": token})):
        assert attempt.status_code == 404 and "未找到该事项" in attempt.text
    assert ref in mine.get("/submit/mine").text
    staff = mine.get("/", follow_redirects=False)  # the door's cookie is no staff login
    assert staff.status_code == 303 and staff.headers["location"].startswith("/login")


def login_as(app: App, runs: RecordingRuns, who: str) -> TestClient:
    users.set_password(app, who, PASSWORD, actor="test")
    return login(create_app(app, runs), who)


def test_a_staff_session_does_not_reach_the_door(app, phones, runs):
    staff = login_as(app, runs, "qian.hui")
    assert staff.get("/").status_code == 200
    assert staff.get("/submit/mine").headers["location"] == "/submit"
    assert staff.get("/submit/new").headers["location"] == "/submit"


def test_another_site_cannot_send_codes_or_sign_a_visitor_in(app, phones, runs, web):
    """A form posted from elsewhere carries no door cookie: refused, no SMS sent."""
    for path, data in (("/submit/code", {"phone": MOBILE}),
                       ("/submit/signin", {"phone": MOBILE, "code": "123456"})):
        forged = TestClient(create_app(app, runs)).post(path, data={**data, "pre": "x"},
                                                       follow_redirects=False)
        assert forged.status_code == 403 and "请从本页重新开始" in forged.text
    assert phones.sent == {}


def test_codes_past_the_cap_are_refused_with_the_time_to_wait(app, phones, runs, web):
    for _ in range(SENDS_PER_NUMBER):
        assert web.post("/submit/code", data={"pre": pre(web), "phone": MOBILE}).status_code == 200
    refused = web.post("/submit/code", data={"pre": pre(web), "phone": MOBILE})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "分钟后再试" in refused.text
    assert len(phones.sent[MOBILE]) == SENDS_PER_NUMBER
    assert web.post("/submit/code", data={"pre": pre(web), "phone": OTHER}).status_code == 200


def test_five_wrong_codes_lock_the_number_for_a_while_the_right_code_too(
        app, phones, runs, web):
    web.post("/submit/code", data={"pre": pre(web), "phone": MOBILE})
    right = phones.last_code(MOBILE)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(TRIES):
        assert web.post("/submit/signin", data={"pre": pre(web), "phone": MOBILE, "code": wrong}
                        ).status_code == 401
    locked = web.post("/submit/signin", data={"pre": pre(web), "phone": MOBILE, "code": right},
                      follow_redirects=False)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) <= 600
    app.clock.advance(minutes=11)
    web.post("/submit/code", data={"pre": pre(web), "phone": MOBILE})
    fresh = web.post("/submit/signin", data={"pre": pre(web), "phone": MOBILE,
                                              "code": phones.last_code(MOBILE)},
                     follow_redirects=False)
    assert fresh.status_code == 303


def test_a_refused_submission_says_what_to_put_right_in_chinese_and_stores_nothing(
        app, phones, runs):
    browser = signed_in(app, phones, runs)
    missing = submitted(browser, {**WAGE_FORM, "subject": ""})
    assert missing.status_code == 422 and "请填写：事项标题" in missing.text
    assert "本人系综采一队职工" in missing.text  # what was typed is kept
    vague = submitted(browser, {**WAGE_FORM, "category": "accusation", "concerns_unit": ""})
    assert vague.status_code == 422 and "检举控告请填写被反映人或涉及单位" in vague.text
    lying = submitted(browser, files=[("files", ("扫描.png", b"MZ\x90\x00 not a scan",
                                                 "image/png"))])
    assert lying.status_code == 422 and "附件未被接收" in lying.text
    with app.uow() as uow:
        assert uow.phone_cases(MOBILE) == []


def test_a_provider_that_refuses_the_code_is_said_plainly(app, httpserver, runs):
    httpserver.clear_all_handlers()
    httpserver.expect_request("/").respond_with_json(
        {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法"})
    visitor = TestClient(create_app(app, runs))
    page = visitor.post("/submit/code", data={"pre": pre(visitor), "phone": MOBILE})
    assert page.status_code == 503 and "短信暂时无法发送" in page.text
    assert KEY_SECRET not in page.text and "SMS_TEMPLATE" not in page.text


def test_a_code_is_good_for_ten_minutes_once(app, phones, runs, web):
    web.post("/submit/code", data={"pre": pre(web), "phone": MOBILE})
    code = phones.last_code(MOBILE)
    app.clock.advance(minutes=10, seconds=1)
    late = web.post("/submit/signin", data={"pre": pre(web), "phone": MOBILE, "code": code})
    assert late.status_code == 401


def test_the_session_ends_after_thirty_idle_minutes(app, phones, runs, monkeypatch):
    import time as real_time

    browser = signed_in(app, phones, runs)
    assert browser.get("/submit/mine").status_code == 200
    later = real_time.time() + 31 * 60
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    assert browser.get("/submit/mine", follow_redirects=False).status_code == 303


def _decided(app: App, ref: str) -> None:
    with app.uow() as uow:
        case = uow.cases.get(ref, lock=False)
    who = str(case.responder)
    for act, fields in ((Act.ACK, {}), (Act.ACCEPT, {"reason": "受理"}),
                        (Act.REPORT, {"summary": "已核实工资表"}),
                        (Act.CLOSE, {"outcome": "support", "resolution": "resolved",
                                     "summary": "补发绩效工资1280元"})):
        cases.act(app, case.id, cases.ActRequest(act, who, **fields))


def test_the_petitioner_rates_and_asks_for_a_review_online_as_at_the_counter(
        app, phones, runs):
    browser = signed_in(app, phones, runs)
    ref = ref_of(submitted(browser))
    _decided(app, ref)
    page = browser.get("/submit/mine")
    assert "满意度评价" in page.text and "基本满意" in page.text
    assert "查看书面答复" not in page.text  # not printed yet
    with app.uow() as uow:
        responder = str(uow.cases.get(ref, lock=False).responder)
    notices.print_notice(app, ref, "decision", responder)
    page = browser.get("/submit/mine")
    answer = browser.get(f"/submit/mine/{ref}/answer.pdf")
    assert "查看书面答复（PDF）" in page.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF") and "处理意见书" in urllib.parse.unquote(
        answer.headers["content-disposition"])
    rated = browser.post(f"/submit/mine/{ref}/act", data={
        "act": "rate", "rating": "not_satisfied", "csrf": csrf(page)}, follow_redirects=False)
    assert rated.status_code == 303, rated.text
    page = browser.get("/submit/mine")
    assert "申请复查" in page.text
    asked = browser.post(f"/submit/mine/{ref}/act", data={
        "act": "request_review", "reason": "补发金额未含夜班津贴", "csrf": csrf(page)},
        follow_redirects=False)
    assert asked.status_code == 303, asked.text
    with app.uow() as uow:
        case = uow.cases.get(ref, lock=False)
        events = uow.events_of(case.id)
    rating, review = (next(e for e in events if e.type == t)
                      for t in ("CaseRated", "ReviewRequested"))
    assert (rating.actor, rating.data.get("rating"), rating.data.get("via")) == (
        "petitioner", "not_satisfied", "online")
    assert review.actor == "petitioner" and "on_behalf_of" not in review.data
    assert case.stage.value == "under_review"


def test_an_accusation_shows_its_stage_only_and_takes_no_act_online(app, phones, runs):
    browser = signed_in(app, phones, runs)
    page = submitted(browser, {**WAGE_FORM, "category": "accusation", "concerns_unit": "",
                               "subject": "队长截留职工奖金", "content": "队长截留奖金",
                               "accused_persons": "张华"})
    ref = ref_of(page)
    listing = browser.get("/submit/mine")
    assert ref in listing.text and "队长截留职工奖金" not in listing.text
    assert "收到日期" not in listing.text.split(ref, 1)[1]
    with app.uow() as uow:
        case = uow.cases.get(ref, lock=False)
    assert case.petition.is_accusation and case.petition.accused_persons == ("张华",)
    accused = accused_set(app.office.org, case.petition)
    assert "zhang.hua" in accused.persons and case.responder not in accused.persons
    staff = login_as(app, runs, "zhang.hua")  # the accused: no such case, as at the counter
    assert staff.get(f"/cases/{ref}").status_code == 404


def test_a_closed_door_is_not_found_and_an_open_one_needs_sms(office, tmp_path):
    plain = TestClient(create_app(sql_app(Settings(home=tmp_path, config_dir=SAMPLE_OFFICE),
                                          office, FixedClock(pendulum.now("UTC")),
                                          _engine(tmp_path))))
    assert plain.get("/submit").status_code == 404
    assert plain.post("/submit/code", data={"phone": MOBILE}).status_code == 404
    folder = tmp_path / "office"
    folder.mkdir()
    for name in ("org.yaml", "routing.yaml"):
        (folder / name).write_text((SAMPLE_OFFICE / name).read_text())
    (folder / "office.yaml").write_text("online: {enabled: true}\n")
    with pytest.raises(ConfigError, match=r"notifications\.sms"):
        load_office(folder)


def _engine(tmp_path: Any) -> Any:
    engine = make_engine(f"sqlite:///{tmp_path / 'closed.db'}")
    upgrade(engine)
    return engine


def test_submissions_at_once_are_each_registered_once(app):
    """Twelve petitioners at the same instant: twelve cases; one matter sent twelve times at
    once: one case, every sender answered with its number."""
    def send(number: str, subject: str) -> str:
        _, done = door.submit(app, number, {**WAGE_FORM, "subject": subject}, [])
        return done.ref

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        many = list(pool.map(lambda i: send(f"1590000{i:04d}", f"事项{i}"), range(12)))
        same = list(pool.map(lambda _: send(MOBILE, "同一事项"), range(12)))
    assert len(set(many)) == 12 and len(set(same)) == 1
    with app.uow() as uow:
        assert all(len(uow.phone_cases(f"1590000{i:04d}")) == 1 for i in range(12))
        assert len(uow.phone_cases(MOBILE)) == 1
