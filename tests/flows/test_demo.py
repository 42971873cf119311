"""``petitions demo`` as a newcomer runs it: its own engine on a throw-away home, four
petitions over 100 simulated days, every flow run healthy, nothing left running; and
whatever the newcomer's environment holds, nothing reached but the demo's own stand-ins."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from rich.console import Console
from sqlalchemy import create_engine, text

from cli.demo import SAMPLE_OFFICE, Demo
from cli.demo_script import ONLINE_PETITIONS, PETITIONS
from domain.instants import local_date
from domain.labels import EVENTS
from domain.petition import Channel
from flows.prefect_env import tied_to_parent
from services.bootstrap import bootstrap
from services.config import load_installation
from services.settings import Settings
from tests.e2e.test_cli import run
from tests.integration.test_web import RecordingRuns, csrf_of
from web.main import create_app

GROUP = Path(__file__).resolve().parents[2] / "deploy" / "group"
# A real office's robot and accounts, as a user's shell may hold them.
REAL_ROBOT = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a-real-robot-key"
REAL_ENV = {"PETITIONS_WECOM_LEADERS_WEBHOOK": REAL_ROBOT,
            "PETITIONS_SENDGRID_API_KEY": "SG.a-real-key",
            "PETITIONS_DATABASE_URL": "postgresql+psycopg://office.example/petitions",
            "PREFECT_API_URL": "https://prefect.office.example/api",
            "PREFECT_API_DATABASE_CONNECTION_URL": "postgresql+asyncpg://office.example/pf",
            "DUTY_ROBOT_SECRET": "SEC-a-real-secret", "ALIYUN_KEY_ID": "LTAI-a-real-key",
            "LANG": "C.UTF-8"}


def _left_running(home: Path) -> list[int]:
    mine = f"PETITIONS_HOME={home}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mine in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _resolved(ref: str, env: Mapping[str, str]) -> str:
    """What a secret reference names in ``env`` (never a Prefect Secret block: a real
    office's server keeps those)."""
    where, name = ref.split(":", 1)
    assert where == "env", ref
    return env[name]


def _user_office(tmp_path: Path) -> Path:
    """An installation as a user may pass with ``--config``: its office's folder outside
    the tree's, a WeCom and a DingTalk robot, and SMS through Alibaba Cloud, their secrets
    in the environment and in Prefect Secret blocks."""
    office = tmp_path / "office"
    shutil.copytree(SAMPLE_OFFICE, office)
    data = yaml.safe_load((office / "office.yaml").read_text(encoding="utf-8"))
    data["notifications"]["robots"].append({
        "id": "duty", "kind": "dingtalk", "webhook": "block:duty-robot",
        "secret": "env:DUTY_ROBOT_SECRET", "members": ["li.ming"]})
    data["notifications"]["sms"] = {
        "sign_name": "某矿信访", "access_key_id": "env:ALIYUN_KEY_ID",
        "access_key_secret": "block:aliyun-sms", "endpoint": "dysmsapi.aliyuncs.com",
        "templates": {"acceptance_notice": {"code": "SMS_1", "params": {"no": "ref"}}}}
    (office / "office.yaml").write_text(yaml.safe_dump(data, allow_unicode=True),
                                        encoding="utf-8")
    tree = tmp_path / "installation"
    tree.mkdir()
    (tree / "offices.yaml").write_text("offices:\n  - {id: mine, path: ../office}\n",
                                       encoding="utf-8")
    return tree


@pytest.mark.parametrize("config", ["sample", "group", "user"])
def test_the_demo_reaches_its_stand_ins_whatever_the_environment_holds(
        tmp_path: Path, config: str) -> None:
    """With a real robot's webhook (and a SendGrid key, a shared Prefect) in the user's
    environment, every robot and SMS account of the demo's processes resolves to the
    demo's local stand-ins, and nothing of the real office is handed on."""
    given = {"sample": SAMPLE_OFFICE, "group": GROUP}.get(config) or _user_office(tmp_path)
    demo = Demo(tmp_path / "demo", given, Console(file=io.StringIO()))
    try:
        env = demo.sandbox(REAL_ENV)
        assert demo.robot is not None and demo.sms is not None
        offices = load_installation(demo.config).offices.values()
        robots = [r for o in offices for r in o.notify.robots.values()]
        assert "leaders" in {r.id for r in robots}
        assert {_resolved(r.webhook, env) for r in robots} == {demo.robot.url}
        assert demo.robot.url.startswith("http://127.0.0.1:")
        signed = [_resolved(r.secret, env) for r in robots if r.secret]
        assert len(signed) == (1 if config == "user" else 0)
        assert not set(signed) & set(REAL_ENV.values())
        texting = [o.notify.sms for o in offices if o.notify.sms is not None]
        assert len(texting) == (0 if config == "group" else 1)
        for sms in texting:
            assert sms.endpoint == demo.sms.endpoint
            assert _resolved(sms.access_key_id, env) == "demo-key-id"
            assert _resolved(sms.access_key_secret, env) == "demo-key-secret"
        request = urllib.request.Request(  # the stand-in takes the post, as WeCom would
            _resolved(robots[0].webhook, env), data=b'{"msgtype": "text", "text": '
            b'{"content": "test"}}', headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as r:
            assert json.loads(r.read())["errcode"] == 0
        assert demo.robot.new() == ["test"]
    finally:
        demo.stop()
    # Nothing else of the real office is handed on (its SendGrid key, database, Prefect);
    # variables no reference of the demo's configuration names are, as any other.
    assert {k for k in REAL_ENV if env.get(k) == REAL_ENV[k]} == {
        "DUTY_ROBOT_SECRET", "ALIYUN_KEY_ID", "LANG"}


@contextmanager
def _real_services() -> Iterator[tuple[str, list[str]]]:
    """A local server in the place of the real robot and SendGrid: its address, and the
    paths of the requests it took (it must take none)."""
    taken: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            taken.append(self.path)
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", taken
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Played:
    """A full ``petitions demo`` run: its home, exit code and output, and the requests the
    real robot and SendGrid named in its environment took."""

    home: Path
    returncode: int
    stdout: str
    stderr: str
    reached: list[str]


class _Playing:
    def __init__(self, home: Path, args: list[str], env: dict[str, str],
                 reached: list[str]) -> None:
        self.home, self.reached, self.started = home, reached, time.monotonic()
        self.out, self.err = home.parent / "stdout.txt", home.parent / "stderr.txt"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from cli.main import main; main()", "demo", "--home",
                 str(home), *args], env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                preexec_fn=tied_to_parent(signal.SIGINT, new_session=False))  # dies with us

    def played(self) -> Played:
        self.proc.wait(DEMO_TIMEOUT - (time.monotonic() - self.started))
        return Played(self.home, self.proc.returncode, self.out.read_text(),
                      self.err.read_text(), self.reached)

    def stop(self) -> None:  # the demo stops its engine on Ctrl-C
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


DEMOS = {"sample_demo": [], "group_demo": ["--config", str(GROUP)]}
DEMO_TIMEOUT = 600.0  # both at once; alone, each takes 110 to 190 s


@pytest.fixture(scope="module")
def _demos(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[dict[str, _Playing]]:
    """The full demos this session's tests ask for, started together: each mostly waits
    on its engine's flow runs, so on two cores the pair takes about 160 s at once against
    265 s one after the other (measured). Their environment names a real robot and a
    SendGrid key (in truth a local server), as a user's shell may."""
    wanted = [n for n in DEMOS if any(n in i.fixturenames for i in request.session.items)]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PETITIONS_", "PREFECT_"))}
    with _real_services() as (real, reached):
        env.update({"PETITIONS_WECOM_LEADERS_WEBHOOK": f"{real}/cgi-bin/webhook/send?key=k",
                    "PETITIONS_SENDGRID_API_KEY": "SG.a-real-key",
                    "PETITIONS_SENDGRID_HOST": real})
        playing = {n: _Playing(tmp_path_factory.mktemp(n) / "demo", DEMOS[n], env, reached)
                   for n in wanted}
        try:
            yield playing
        finally:
            for demo in playing.values():
                demo.stop()


@pytest.fixture
def sample_demo(_demos: dict[str, _Playing]) -> Played:
    """``petitions demo`` as a newcomer runs it (the sample mine)."""
    return _demos["sample_demo"].played()


@pytest.fixture
def group_demo(_demos: dict[str, _Playing]) -> Played:
    """``petitions demo --config deploy/group``."""
    return _demos["group_demo"].played()


def test_the_demo_runs_four_petitions_through_every_stage(sample_demo: Played) -> None:
    done, home = sample_demo, sample_demo.home
    assert done.reached == []  # the real robot and SendGrid in the user's shell
    notes = [line for line in done.stdout.splitlines() if "note:" in line]
    assert done.returncode == 0, "\n".join(notes) + done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "petition-intake" not in out  # registered in the demo's process, not in Prefect
    assert "flow runs       petition-lifecycle: 4 Completed, 1 Suspended" in out
    assert "Failed" not in out and "Crashed" not in out
    assert "Prefect UI      http://127.0.0.1:" in out and "outbox " in out

    alias = {p["subject"]: name for name, p in {**PETITIONS, **ONLINE_PETITIONS}.items()}
    db = create_engine(f"sqlite:///{home / 'petitions.db'}")
    with db.connect() as conn:
        cases = {alias[json.loads(r.body)["petition"]["subject"]]: r for r in conn.execute(
            text("SELECT id, stage, body FROM cases"))}
        events = {name: [(e.type, json.loads(e.data)) for e in conn.execute(text(
            "SELECT type, data FROM audit_events WHERE case_id = :c ORDER BY seq"),
            {"c": row.id})] for name, row in cases.items()}
        queued = {r.recipient for r in conn.execute(text("SELECT recipient FROM outbox"))}
        sent = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'sent'")).scalar()
        by_robot = [r.key for r in conn.execute(text(
            "SELECT key FROM outbox WHERE status = 'sent' AND channel = 'leaders'"))]
        texted = conn.execute(text(
            "SELECT count(*) FROM outbox WHERE status = 'sent' AND channel = 'sms'")).scalar()
    assert {n: r.stage for n, r in cases.items()} == {
        "group": "closed", "accusation": "rated", "wage": "closed", "repeat": "closed",
        "canteen": "closed"}

    def types(name: str) -> list[str]:
        return [t for t, _ in events[name]]

    escalated_to = [d["recipient"] for t, d in events["accusation"] if t == "Escalated"]
    assert escalated_to == ["feng.bo", "gao.jian"]  # the owning leader, then the mine head
    assert types("accusation").count("DeadlineBreached") == 1
    assert "RatingExpired" in types("accusation")
    assert "DeadlineExtended" in types("group") and "DeadlineBreached" not in types("group")
    assert "RepeatLinked" in types("repeat")
    # 挂牌督办: listed by the province, reported to twice, closed before its date, no breach
    assert types("group").count("CaseListed") == 1
    assert types("group").count("ListerReported") == 2
    # 重点人员 named under 四包一 and invited (约访); the quarter's review, its measure
    # reminded by the sweeper and then done (each journal a subject of its own)
    with db.connect() as conn:
        journal = [r.type for r in conn.execute(text(
            "SELECT type FROM audit_events WHERE case_id LIKE 'keyperson:%' "
            "OR case_id LIKE '%review:2026Q3' ORDER BY seq"))]
    assert {"KeyPersonAdded", "KeyPersonContacted", "ReviewRecorded",
            "ReviewMeasureReminded", "ReviewMeasureDone"} <= set(journal), journal
    assert "ReviewMeasureBreached" not in journal
    assert ["ReviewRequested", "ReviewDecided"] == [
        t for t in types("wage") if t.startswith("Review")]
    assert {"feng.bo", "gao.jian"} <= queued  # the escalations are in the outbox
    files = {p.name: p.read_bytes() for p in (home / "outbox").glob("*.eml")}
    assert len(files) + len(by_robot) + texted == sent > 0  # e-mails, robot posts, SMS: once
    # The leaders chose their WeCom group for breaches and escalations: the escalation to
    # the mine head went there (the local stand-in), saying nothing of the accusation.
    assert any("Escalated" in k and "gao.jian" in k for k in by_robot)
    posts = [line for line in out.splitlines() if "group robot (local stand-in) ←" in line]
    assert any("【信访超期升级督办】高建" in p and "@13900000001" in p for p in posts), posts
    assert not any("违章指挥" in p or "137" in p for p in posts)
    assert files  # the rest by e-mail (.eml files without a SendGrid key)
    # The petitioners who gave a mobile number were texted the approved template on
    # acceptance (the provider's local stand-in), with the number and the handling due date.
    sms = [line for line in out.splitlines() if "Aliyun SMS (local stand-in) ←" in line]
    codes = [line for line in sms if "SMS_DEMO_CODE" in line]  # sign-in codes: not notices
    assert texted + len(codes) == len(sms) and texted > 0 and len(codes) == 2
    # 网上信访: submitted online (registered by the door, channel online, texted its number)
    # and rated online by the petitioner themself; the door's address printed.
    with db.connect() as conn:
        online = [(e.type, e.actor, json.loads(e.data)) for e in conn.execute(text(
            "SELECT type, actor, data FROM audit_events WHERE case_id = :c ORDER BY seq"),
            {"c": cases["canteen"].id})]
    assert online[0][:2] == ("CaseRegistered", "online")
    assert [(a, d.get("via")) for t, a, d in online if t == "CaseRated"] == [
        ("petitioner", "online")]
    assert any("SMS_DEMO_REGISTERED" in line for line in sms), sms
    assert "网上信访        /submit on the office workplace" in out
    assert any("SMS_DEMO_ACCEPTED" in line and '"no":"XF-' in line and "年" in line
               for line in sms), sms
    db.dispose()
    assert _left_running(home) == []


def test_the_demo_at_a_group_has_the_review_decided_by_the_groups_office(group_demo: Played
                                                                        ) -> None:
    """``petitions demo --config deploy/group``: the same hundred days at the group's
    sample mine, the wage complainant's review decided by the group's office in a case of
    its own, both timelines showing it."""
    done, home = group_demo, group_demo.home
    assert done.reached == []
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "flow runs       petition-lifecycle: 4 Completed, 1 Suspended" in done.stdout
    assert "Failed" not in done.stdout and "Crashed" not in done.stdout
    db = create_engine(f"sqlite:///{home / 'petitions.db'}")
    with db.connect() as conn:
        rows = list(conn.execute(text("SELECT id, registration_no, office, stage, body "
                                      "FROM cases")))
        review = next(r for r in rows if r.registration_no.endswith("-FC"))
        wage = next(r for r in rows if json.loads(review.body)["links"]["review_of"] == r.id)
        events = {r.id: [(e.type, json.loads(e.data)) for e in conn.execute(text(
            "SELECT type, data FROM audit_events WHERE case_id = :c ORDER BY seq"),
            {"c": r.id})] for r in (wage, review)}
    db.dispose()
    assert {r.office for r in rows} == {"mine-a", "group"}
    assert (wage.office, wage.stage, review.office, review.stage) == (
        "mine-a", "closed", "group", "closed")
    decided = [d for t, d in events[wage.id] if t == "ReviewDecided"]
    assert decided and decided[0]["decided_by_office"] == "group"
    assert decided[0]["review_case"] == review.id
    assert ("ReferredUp" in [t for t, _ in events[review.id]]
            and "DecisionIssued" in [t for t, _ in events[review.id]])
    # the transcript tells it in Chinese (the one table's label), the database keeps the type
    assert review.registration_no in done.stdout and EVENTS["ReviewDecided"] in done.stdout
    assert not _left_running(home)


def test_the_demos_monthly_return_has_its_numbers_and_its_backup_restores_and_serves(
        sample_demo: Played, tmp_path: Path) -> None:
    home = sample_demo.home
    assert sample_demo.returncode == 0, sample_demo.stdout[-3000:]
    # 信访月报 for the demo's first month, as the office's party secretary (who sees all).
    db = create_engine(f"sqlite:///{home / 'petitions.db'}")
    with db.connect() as conn:
        rows = conn.execute(text("SELECT registration_no, stage, body FROM cases")).all()
    db.dispose()
    bodies = [json.loads(r.body)["petition"] for r in rows]
    august = [p["channel"] for p in bodies
              if local_date(dt.datetime.fromisoformat(p["received_at"])).month == 8]
    assert august  # the demo's petitions arrive in its first month
    sheet = tmp_path / "信访月报.xlsx"
    demo = {"home": home, "config_dir": str(home / "config")}  # as its report says
    made = run("monthly-return", "--month", "2026-08", "--out", str(sheet), "--as", "ma.yun",
               **demo)
    assert made.returncode == 0, made.stderr
    by_channel = {r[0]: r[1] for r in load_workbook(sheet)["按渠道"].iter_rows(
        min_row=3, values_only=True)}
    assert by_channel["合计"] == len(august)
    assert {c.label: august.count(c.value) for c in Channel} == {
        k: v for k, v in by_channel.items() if k != "合计"}

    # The demo's home backed up, restored into a new home, checked, and served.
    archive, new = tmp_path / "demo.tar", tmp_path / "restored"
    given = run("user", "set-password", "ma.yun", "--password-stdin",
                stdin="demo-xinfang-2026\n", **demo)
    assert given.returncode == 0, given.stderr
    backed = run("backup", str(archive), "--passphrase-stdin", stdin="演示备份口令\n", **demo)
    assert backed.returncode == 0, backed.stderr
    restored = run("restore", str(archive), home=new, backup_passphrase="演示备份口令")
    assert restored.returncode == 0, restored.stderr
    checked = run("audit", "verify", "--files", home=new)
    assert checked.returncode == 0 and " 0 broken" in checked.stdout, checked.stdout
    listed = run("list", "--json", home=new)  # the open ones
    assert listed.returncode == 0, listed.stderr
    assert {c["ref"] for c in json.loads(listed.stdout)} == {
        r.registration_no for r in rows if r.stage != "closed"}
    again = create_engine(f"sqlite:///{new / 'petitions.db'}")
    with again.connect() as conn:
        assert sorted(conn.execute(text("SELECT registration_no, stage, body FROM cases"))
                      .all()) == sorted(rows)
    again.dispose()
    app = bootstrap(Settings(home=new, config_dir=new / "config"))
    with TestClient(create_app(app, RecordingRuns()), base_url="http://127.0.0.1") as c:
        page = c.post("/login", data={"person_id": "ma.yun", "password": "demo-xinfang-2026",
                                      "csrf": csrf_of(c.get("/login").text)})
        assert page.status_code in (200, 303), page.text  # the demo's passwords came along
        for r in rows:
            shown = c.get(f"/cases/{r.registration_no}")
            assert shown.status_code == 200 and r.registration_no in shown.text
    assert app.engine is not None
    app.engine.dispose()
