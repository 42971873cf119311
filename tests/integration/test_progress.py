"""办理进度查询 over HTTP (FastAPI's TestClient, SQLite, a fixed clock): the petitioner's
number and query code show the stage and their dates and nothing else; a wrong code is told
as a wrong number; too many wrong codes for one number, or from one address, are refused for
a while, the right code too; an accusation shows its stage only."""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pendulum
import pytest
import yaml
from fastapi.testclient import TestClient

from domain.errors import CaseNotFound, ConfigError
from notifications.transports import EmlTransport
from services import cases, progress
from services.bootstrap import App, bootstrap, sql_app
from services.clock import FixedClock
from services.outbox import deliver
from services.progress import PER_CASE, PER_CLIENT, TooManyLookups, look_up, query_code
from services.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade
from tests.conftest import SAMPLE_OFFICE, WAGE
from tests.integration.test_web import ACCUSATION, RecordingRuns
from web.main import create_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(office, tmp_path) -> App:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'petitions.db'}")
    upgrade(engine)
    return sql_app(Settings(home=tmp_path, config_dir=SAMPLE_OFFICE), office,
                   FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine)


@pytest.fixture
def web(app: App) -> TestClient:
    return TestClient(create_app(app, RecordingRuns()))


def _accepted(app: App, petition=WAGE, ref: str = "XF-P-1") -> str:  # type: ignore[no-untyped-def]
    case = cases.register(app, petition, registration_no=ref, actor="qian.hui")
    case = cases.route_and_assign(app, case.id, actor="intake")
    cases.act(app, case.id, cases.ActRequest(cases.Act.ACK, str(case.responder)))
    cases.act(app, case.id, cases.ActRequest(cases.Act.ACCEPT, str(case.responder),
                                             reason="受理"))
    return case.id


def _code(app: App, case_id: str) -> str:
    with app.uow() as uow:
        return query_code(app, uow.cases.get(case_id, lock=False))


def test_the_number_and_code_show_the_stage_and_the_petitioners_dates_only(app, web):
    case_id = _accepted(app)
    page = web.post("/progress", data={"ref": "XF-P-1", "code": _code(app, case_id)})
    assert page.status_code == 200, page.text
    assert '<span id="progress-stage">办理中</span>' in page.text
    assert "受理告知" in page.text and "2027-01-19" in page.text  # 60 days from acceptance
    for hidden in ("人力资源部", "林娜", "lin.na", "钱慧", WAGE["content"], "刘建军",
                   WAGE["petitioner"]["phone"]):
        assert hidden not in page.text  # no unit, no staff, no content, no personal data
    assert page.headers["cache-control"] == "no-store"


def test_a_wrong_code_is_told_as_a_wrong_number_and_a_code_is_eight_digits(app, web):
    case_id = _accepted(app)
    code = _code(app, case_id)
    assert len(code) == 8 and code.isdigit() and _code(app, case_id) == code
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    bad_code = web.post("/progress", data={"ref": "XF-P-1", "code": wrong})
    no_case = web.post("/progress", data={"ref": "XF-NONE", "code": code})
    assert bad_code.status_code == no_case.status_code == 404
    assert "未查到" in bad_code.text and "办理中" not in bad_code.text
    assert bad_code.text.replace("XF-P-1", "X") == no_case.text.replace("XF-NONE", "X")


def test_too_many_wrong_codes_refuse_the_number_for_a_while_the_right_code_too(app, web):
    case_id = _accepted(app)
    code = _code(app, case_id)
    for i in range(PER_CASE):
        assert web.post("/progress", data={"ref": "XF-P-1",
                                           "code": f"{i:08d}"}).status_code == 404
    refused = web.post("/progress", data={"ref": "XF-P-1", "code": code})
    assert refused.status_code == 429 and "15 分钟" in refused.text
    app.clock.advance(minutes=16)
    assert web.post("/progress", data={"ref": "XF-P-1", "code": code}).status_code == 200


def test_one_address_guessing_across_numbers_is_refused(app):
    case_id = _accepted(app)
    for i in range(PER_CLIENT):
        with pytest.raises(CaseNotFound):
            look_up(app, f"XF-G{i}", "00000000", "10.0.0.9")
    with pytest.raises(TooManyLookups):
        look_up(app, "XF-P-1", _code(app, case_id), "10.0.0.9")
    assert look_up(app, "XF-P-1", _code(app, case_id), "10.0.0.10").ref == "XF-P-1"


def test_an_accusation_shows_its_stage_only(app, web):
    case = cases.register(app, ACCUSATION, registration_no="XF-P-A", actor="qian.hui")
    cases.route_and_assign(app, case.id, actor="intake")
    page = web.post("/progress", data={"ref": "XF-P-A", "code": _code(app, case.id)})
    assert page.status_code == 200 and 'id="progress-stage"' in page.text
    assert 'id="progress-dates"' not in page.text and "收到日期" not in page.text
    for hidden in ("综采一队", "张华", "zhang.hua", "截留", "纪委"):
        assert hidden not in page.text


def test_the_acceptance_notice_carries_the_code(app, tmp_path):
    petition = {**WAGE, "petitioner": {**WAGE["petitioner"], "email": "liu@example.org"}}
    case_id = _accepted(app, petition)
    deliver(app, EmlTransport(tmp_path / "eml"))
    notice = next(p for p in (tmp_path / "eml").iterdir()
                  if "CaseAccepted" in p.name and p.name.endswith("petitioner.eml"))
    message = email.message_from_bytes(notice.read_bytes(), policy=email.policy.default)
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"查询码 {_code(app, case_id)}" in body


def test_a_code_that_is_not_eight_ascii_digits_is_a_wrong_code_and_counted(app, web):
    _accepted(app)
    for odd in ("１２３４５６７８", "٠١٢٣٤٥٦٧", "1234567", "123456789", "abcdefgh"):
        page = web.post("/progress", data={"ref": "XF-P-1", "code": odd})
        assert page.status_code == 404, (odd, page.status_code)  # never a 500
    assert web.post("/progress", data={"ref": "XF-P-1", "code": "00000000"}).status_code == 429


def test_past_the_cap_in_all_a_guesser_gets_no_second_try_and_others_still_look_up(
        app, monkeypatch):
    case_id = _accepted(app)
    monkeypatch.setattr(progress, "PER_ALL", 6)
    for i in range(6):  # six addresses, six numbers: no single count is near its cap
        with pytest.raises(CaseNotFound):
            look_up(app, f"XF-G{i}", "00000000", f"10.0.1.{i}")
    with pytest.raises(TooManyLookups):  # a guesser, trying again
        look_up(app, "XF-P-1", _code(app, case_id), "10.0.1.0")
    # a petitioner who has not failed still gets their case (the page is not locked)
    assert look_up(app, "XF-P-1", _code(app, case_id), "10.0.2.1").ref == "XF-P-1"
    with pytest.raises(CaseNotFound):  # and a new guesser gets one try ...
        look_up(app, "XF-G9", "00000000", "10.0.2.2")
    with pytest.raises(TooManyLookups):  # ... not two
        look_up(app, "XF-P-1", _code(app, case_id), "10.0.2.2")
    app.clock.advance(minutes=16)
    assert look_up(app, "XF-P-1", _code(app, case_id), "10.0.1.0").ref == "XF-P-1"


def test_one_ipv6_network_is_one_client(app):
    case_id = _accepted(app)
    for i in range(PER_CLIENT):  # a /64 holds millions of addresses: one subscriber
        with pytest.raises(CaseNotFound):
            look_up(app, f"XF-G{i}", "00000000", f"2001:db8:1:2::{i + 1:x}")
    with pytest.raises(TooManyLookups):
        look_up(app, "XF-P-1", _code(app, case_id), "2001:db8:1:2:ffff::9")
    assert look_up(app, "XF-P-1", _code(app, case_id), "2001:db8:1:3::1").ref == "XF-P-1"


@pytest.mark.parametrize("odd", ["XF-P-1\x00", "../XF-P-1", "X" * 300, "XF P 1", "\u202eXF"])
def test_a_number_no_case_could_have_is_a_wrong_number_and_counted(app, web, odd):
    case_id = _accepted(app)
    answers = {web.post("/progress", data={"ref": odd, "code": _code(app, case_id)}).status_code
               for _ in range(PER_CASE)}
    assert answers == {404}  # never a 500 (PostgreSQL refuses a NUL in text)
    assert web.post("/progress", data={"ref": odd, "code": "00000000"}).status_code == 429
    assert web.post("/progress", data={"ref": "XF-P-1",
                                       "code": _code(app, case_id)}).status_code == 200


@pytest.fixture
def shared_app(office, engine, tmp_path) -> App:  # type: ignore[no-untyped-def]
    return sql_app(Settings(home=tmp_path, config_dir=SAMPLE_OFFICE), office,
                   FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine)


def test_odd_numbers_are_wrong_numbers_on_both_databases(shared_app):
    _accepted(shared_app)
    for odd in ("XF-P-1\x00", "../XF-P-1", "X" * 300):
        with pytest.raises(CaseNotFound):
            look_up(shared_app, odd, "00000000", "10.0.4.1")


def test_parallel_guesses_for_one_number_get_no_more_than_its_cap(shared_app):
    """Twelve guessers at once, each from its own address (SQLite and PostgreSQL): the
    count and the record are one step, so exactly ``PER_CASE`` are answered and the rest
    refused, whoever wins the race."""
    _accepted(shared_app)
    start = threading.Barrier(12)
    answers: list[str] = []

    def guess(i: int) -> None:
        start.wait(timeout=60)
        try:
            look_up(shared_app, "XF-P-1", f"{i:08d}", f"10.0.3.{i}")
        except TooManyLookups:
            answers.append("refused")
        except CaseNotFound:
            answers.append("wrong")
        except Exception as e:  # shown in the assertion, not lost in a thread
            answers.append(repr(e))

    workers = [threading.Thread(target=guess, args=(i,)) for i in range(12)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert sorted(answers) == ["refused"] * (12 - PER_CASE) + ["wrong"] * PER_CASE


def test_on_postgresql_every_process_must_share_the_query_key(tmp_path, monkeypatch):
    monkeypatch.delenv("PETITIONS_QUERY_KEY", raising=False)
    settings = Settings(home=tmp_path, config_dir=SAMPLE_OFFICE,
                        database_url="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with pytest.raises(ConfigError, match="PETITIONS_QUERY_KEY is not set"):
        bootstrap(settings)
    monkeypatch.setenv("PETITIONS_QUERY_KEY", "k" * 64)
    assert bootstrap(settings).settings.db_url.startswith("postgresql")


def _compose_web() -> list[str]:
    """The workplace's command as deploy/compose.yaml runs it; its trusted proxies must be
    named by the operator (a required variable, no default that could be wrong or *)."""
    web = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())["services"]["web"]
    trusted = web["environment"]["FORWARDED_ALLOW_IPS"]
    assert re.fullmatch(r"\$\{PETITIONS_PROXY_IPS:\?[^}]+\}", trusted), trusted
    return shlex.split(web["command"])


def test_a_forged_forwarded_for_does_not_make_a_guesser_someone_else(app, tmp_path):
    """The workplace run as compose runs it (uvicorn, --proxy-headers): a client that is not
    the proxy cannot pick its address with X-Forwarded-For; the proxy can."""
    command = _compose_web()
    port = _free_port()
    command = [sys.executable, "-m", *command[:command.index("--port")], "--port", str(port)]
    command[command.index("0.0.0.0")] = "127.0.0.1"
    env = {**os.environ, "PETITIONS_HOME": str(tmp_path), "FORWARDED_ALLOW_IPS": "127.0.0.1",
           "PETITIONS_CONFIG_DIR": str(SAMPLE_OFFICE),
           "PETITIONS_DATABASE_URL": f"sqlite:///{tmp_path / 'petitions.db'}"}
    env.pop("PREFECT_API_URL", None)
    log = tmp_path / "web.log"
    with log.open("wb") as out, subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT) as server, \
            contextlib.ExitStack() as stack:
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_healthy(base, server, log)
            outsider = stack.enter_context(httpx.Client(
                base_url=base, transport=httpx.HTTPTransport(local_address="127.0.0.2"),
                timeout=30))
            for i in range(PER_CLIENT):
                page = outsider.post("/progress", data={"ref": f"XF-G{i}", "code": "00000000"},
                                     headers={"X-Forwarded-For": f"198.51.100.{i}"})
                assert page.status_code == 404
            forged = outsider.post("/progress", data={"ref": "XF-G", "code": "00000000"},
                                   headers={"X-Forwarded-For": "198.51.100.99"})
            assert forged.status_code == 429
            # from 127.0.0.1: the proxy
            proxy = stack.enter_context(httpx.Client(base_url=base, timeout=30))
            for i in range(PER_CLIENT):
                proxy.post("/progress", data={"ref": f"XF-H{i}", "code": "00000000"},
                           headers={"X-Forwarded-For": "203.0.113.7"})
            other = proxy.post("/progress", data={"ref": "XF-H", "code": "00000000"},
                               headers={"X-Forwarded-For": "203.0.113.8"})
            assert other.status_code == 404  # another petitioner behind the same proxy
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the workplace exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base}/livez", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{base} never became healthy: {log.read_text(errors='replace')}")
