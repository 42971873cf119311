"""The ``petitions`` command as a clerk runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_OFFICE

PETITIONS = shutil.which("petitions", path=str(Path(sys.executable).parent)) or "petitions"


def run(*args: str, stdin: str | None = None, home: Path | None = None,
        **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETITIONS_")}
    if home is not None:
        env["PETITIONS_HOME"] = str(home)
    env.update({f"PETITIONS_{k.upper()}": v for k, v in extra.items()})
    return subprocess.run([PETITIONS, *args], capture_output=True, text=True, input=stdin,
                          env=env, timeout=180, check=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_calendar_due_prints_the_date_on_the_first_line(home):
    result = run("calendar", "due", "2025-12-29", "--days", "3", home=home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "2026-01-04"
    assert result.stderr == ""


def test_calendar_due_in_working_days(home):
    result = run("calendar", "due", "2025-09-26", "--working-days", "5", home=home)
    assert result.stdout.splitlines()[0] == "2025-10-10"


def test_a_due_date_in_an_unofficial_year_warns_on_stderr(home):
    result = run("calendar", "due", "2026-12-01", "--days", "60", home=home)
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "2027-02-01"
    assert "2027 has no official holiday schedule" in result.stderr


def test_an_override_file_loads_next_years_schedule(home, tmp_path):
    cal = tmp_path / "calendar.yaml"
    # Invented schedule for the test: Monday 2027-02-01 given off.
    cal.write_text("years:\n  2027:\n    source: test\n    holidays:\n"
                   "      2027-02-01: 测试休息日\n", encoding="utf-8")
    result = run("calendar", "due", "2026-12-01", "--days", "60", "--calendar", str(cal),
                 home=home)
    assert result.stdout.splitlines()[0] == "2027-02-02"
    assert result.stderr == ""


def test_calendar_due_refuses_both_or_neither_unit(home):
    both = run("calendar", "due", "2026-03-02", "--days", "3", "--working-days", "3", home=home)
    assert both.returncode == 2 and "exactly one of --days or --working-days" in both.stderr
    bad = run("calendar", "due", "2026-02-30", "--days", "3", home=home)
    assert bad.returncode == 2 and "expected a date YYYY-MM-DD" in bad.stderr


def test_route_sends_an_accusation_away_from_the_accused_unit(home):
    result = run("route", str(SAMPLE_OFFICE / "samples" / "accusation.json"),
                 "--config", str(SAMPLE_OFFICE), home=home)
    assert result.returncode == 0, result.stderr
    assert "unit:      discipline" in result.stdout
    assert "accused:   mining1, zhang.hua — never routed, assigned or notified" in result.stdout
    people = result.stdout.split("accused:")[0]
    assert "zhang.hua" not in people and "luo.jun" not in people


def test_route_reads_a_petition_from_stdin_and_names_an_unknown_category(home):
    petition = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())
    ok = run("route", "-", "--config", str(SAMPLE_OFFICE), stdin=json.dumps(petition),
             home=home)
    assert "unit:      hr" in ok.stdout
    petition["category"] = "gossip"
    bad = run("route", "-", "--config", str(SAMPLE_OFFICE), stdin=json.dumps(petition),
              home=home)
    assert bad.returncode == 2
    assert "unknown category 'gossip'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_route_counts_from_the_configured_clock_as_intake_does(home):
    """Under the simulated clock a petition received "now" is received at the clock's
    time: its 15-day acceptance notice runs from there, not from the wall clock."""
    petition = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())
    del petition["received_at"]
    assert run("clock", "set", "2026-03-02T09:00+08:00", home=home,
               simulated_clock="1").returncode == 0
    routed = run("route", "-", "--config", str(SAMPLE_OFFICE), stdin=json.dumps(petition),
                 home=home, simulated_clock="1")
    assert routed.returncode == 0, routed.stderr
    notice = next(line for line in routed.stdout.splitlines() if "acceptance_notice" in line)
    assert "2026-03-17" in notice  # 15 days after 2026-03-02


def test_a_malformed_policy_file_is_named_with_line_and_field(home, tmp_path):
    policy = tmp_path / "zj.yaml"
    policy.write_text("id: zj\nextends: cn-2022\nlimits:\n  handling:\n"
                      "    period: {days: thirty}\n", encoding="utf-8")
    result = run("policy", "check", str(policy), home=home)
    assert result.returncode == 2
    assert f"{policy}:5 (field 'limits.handling.period.days')" in result.stderr


def test_policy_show_and_check_config_work_on_the_sample_office(home):
    shown = run("policy", "show", "zj-2023", "--config", str(SAMPLE_OFFICE), home=home)
    assert shown.returncode == 0 and "30日" in shown.stdout
    checked = run("check-config", "--config", str(SAMPLE_OFFICE), home=home)
    assert checked.returncode == 0 and "default cn-2022" in checked.stdout


def _one_case(home: Path) -> str:
    from sqlalchemy import create_engine

    from domain.case import CaseRules
    from services.config import load_office
    from storage.repository import SqlUnitOfWork
    from tests.conftest import new_case

    assert run("db", "upgrade", home=home).returncode == 0
    office = load_office(SAMPLE_OFFICE)
    rules = CaseRules(office.policies.get("cn-2022"), office.calendar, office.org)
    engine = create_engine(f"sqlite:///{home / 'petitions.db'}")
    with SqlUnitOfWork(engine) as uow:
        case = new_case(office, rules)
        uow.cases.add(case)
        uow.commit({case.id: case.schedule(rules, case.registered_at)})
    engine.dispose()
    return case.id


def test_read_commands_answer_without_importing_prefect(home):
    case_id = _one_case(home)
    code = f"""
import sys
from cli.main import main
for args in (["show", "{case_id}"], ["show", "{case_id}", "--json"], ["list"],
             ["list", "--overdue", "--json"], ["timeline", "{case_id}"], ["overdue"],
             ["kpi", "--from", "2026-01-01", "--to", "2026-12-31"],
             ["report", "--html", "{home / 'report.html'}"],
             ["search", "工资", "--as", "qian.hui", "--json"],
             ["history", "{case_id}", "--as", "gao.jian"]):
    sys.argv = ["petitions", *args]
    try:
        main()
    except SystemExit as e:
        assert e.code in (0, None), (args, e.code)
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "prefect")
assert not loaded, f"prefect imported: {{loaded[:5]}}"
"""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PETITIONS_")},
           "PETITIONS_HOME": str(home), "PETITIONS_CONFIG_DIR": str(SAMPLE_OFFICE)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    assert case_id in done.stdout and "1 case(s)" in done.stdout


def test_db_upgrade_then_audit_verify_names_a_tampered_row(home):
    import sqlite3

    _one_case(home)
    clean = run("audit", "verify", home=home)
    assert clean.returncode == 0 and "1 case chains checked, 0 broken" in clean.stdout
    with sqlite3.connect(home / "petitions.db") as conn:
        conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    broken = run("audit", "verify", home=home)
    assert broken.returncode == 1
    assert "BROKEN case c1: row 2" in broken.stderr and "content was changed" in broken.stderr


def test_outbox_send_writes_eml_files_and_outbox_lists_them(home):
    import pendulum

    from services import cases as services
    from services.bootstrap import bootstrap
    from services.clock import FileClock
    from services.schema import migrated
    from services.settings import Settings

    home.mkdir()
    clock = FileClock(home / "clock")  # Tuesday 10:00: outside quiet hours
    clock.set(pendulum.datetime(2026, 11, 24, 10, 0, tz="Asia/Shanghai"))
    app = migrated(bootstrap(Settings(home=home, config_dir=SAMPLE_OFFICE), clock=clock))
    petition = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())
    case = services.register(app, petition, registration_no="XF-E1", actor="qian.hui")
    services.route_and_assign(app, case.id, actor="intake")
    app.engine.dispose()
    env = {"config_dir": str(SAMPLE_OFFICE), "simulated_clock": "1"}
    sent = run("outbox", "send", home=home, **env)
    listed = run("outbox", home=home, **env)
    bad = run("outbox", "--status", "lost", home=home, **env)
    assert sent.returncode == 0, sent.stderr
    assert listed.returncode == 0 and "assignment" in listed.stdout
    assert "lin.na" in listed.stdout and "1 sent" in listed.stdout
    assert len(list((home / "outbox").glob("*.eml"))) == 1
    assert bad.returncode == 2 and "unknown status 'lost'" in bad.stderr


def test_a_due_date_in_an_estimated_year_is_flagged_by_every_command(home):
    import pendulum

    from services import cases as services
    from services.bootstrap import bootstrap
    from services.clock import FileClock
    from services.schema import migrated
    from services.settings import Settings

    home.mkdir()
    clock = FileClock(home / "clock")
    clock.set(pendulum.datetime(2026, 12, 21, 10, 0, tz="Asia/Shanghai"))
    app = migrated(bootstrap(Settings(home=home, config_dir=SAMPLE_OFFICE), clock=clock))
    petition = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())
    del petition["received_at"]
    case = services.register(app, petition, registration_no="XF-E2", actor="qian.hui")
    services.route_and_assign(app, case.id, actor="intake")
    app.engine.dispose()  # type: ignore[union-attr]
    env = {"config_dir": str(SAMPLE_OFFICE), "simulated_clock": "1"}
    note = "2027年节假日安排尚未公布，期限可能调整"
    shown = json.loads(run("show", "XF-E2", "--json", home=home, **env).stdout)
    assert shown["warnings"] == [note]
    listed = json.loads(run("list", "--json", home=home, **env).stdout)
    assert listed[0]["next_deadline"]["deadline"] == "first_response"
    assert listed[0]["next_deadline"]["warning"] == "" and listed[0]["warnings"] == [note]
    assert "提示" in run("show", "XF-E2", home=home, **env).stdout  # the table's column
    timeline = json.loads(run("timeline", "XF-E2", "--format", "json", home=home,
                              **env).stdout)
    assert note in {d["warning"] for d in timeline["deadlines"]}
    report = home / "report.html"
    assert run("report", "--html", str(report), home=home, **env).returncode == 0
    assert note in report.read_text()
