"""The practices' commands as the office runs them, on a simulated clock: reception days,
the zero report, signals, key periods, completion reports and the three-in-place class."""

from __future__ import annotations

import json
from pathlib import Path

import pendulum
import pytest

from services import cases as s
from services.bootstrap import bootstrap
from services.clock import FileClock
from services.schema import migrated
from services.settings import Settings
from tests.conftest import SAMPLE_OFFICE
from tests.e2e.test_cli import run

WAGE = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())
ENV = {"config_dir": str(SAMPLE_OFFICE), "simulated_clock": "1"}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("practices")
    clock = FileClock(home / "clock")
    clock.set(pendulum.parse("2026-12-28 09:30", tz="Asia/Shanghai"))  # type: ignore[arg-type]
    migrated(bootstrap(Settings(home=home, config_dir=SAMPLE_OFFICE), clock=clock))
    return home


def cli(home: Path, *args: str) -> tuple[int, str, str]:
    done = run(*args, home=home, **ENV)
    return done.returncode, done.stdout, done.stderr


def test_reception_days_list_moves_and_rotation(home):
    code, out, _ = cli(home, "reception", "list", "--from", "2026-12-01", "--to",
                       "2027-01-31", "--json")
    days = {(d["reception"], d["nominal"]): d for d in json.loads(out)}
    assert code == 0
    assert days[("矿领导公开接访", "2026-12-20")]["day"] == "2026-12-21"  # a Sunday
    assert "顺延至 2026-12-21" in days[("矿领导公开接访", "2026-12-20")]["moved"]
    assert days[("月度接待日", "2027-01-04")]["leader"] == "feng.bo"
    code, out, _ = cli(home, "reception", "list", "--from", "2026-12-01", "--to", "2026-12-31")
    assert code == 0 and "2026-12-21" in out
    code, _, err = cli(home, "reception", "list", "--from", "2026-13-01")
    assert code == 2 and "2026-13-01" in err and "Traceback" not in err


def test_zero_report_file_status_and_its_errors(home):
    code, out, _ = cli(home, "zero-report", "file", "hr", "--by", "zheng.tao")
    assert code == 0 and "hr 2026-12-28: nothing to report" in out
    code, out, _ = cli(home, "zero-report", "file", "mining1", "--by", "luo.jun", "--items",
                       "1", "--summary", "夜班津贴计算有异议")
    assert code == 0 and "1 matter(s)" in out
    for args, why in ((("hr", "--by", "zheng.tao"), "already reported for 2026-12-28"),
                      (("finance", "--by", "zheng.tao"), "cannot report for 'finance'"),
                      (("nowhere", "--by", "zheng.tao"), "unknown unit 'nowhere'"),
                      (("safety", "--by", "huang.bin", "--items", "2"), "summary is required"),
                      (("safety", "--by", "huang.bin", "--day", "2026-12-29"), "in the future")):
        code, _, err = cli(home, "zero-report", "file", *args)
        assert code == 2 and why in err and "Traceback" not in err, (args, err)
    code, out, _ = cli(home, "zero-report", "status", "--json")
    status = {r["unit"]: r for r in json.loads(out)}
    assert status["hr"]["reported"] and status["mining1"]["items"] == 1
    assert not status["safety"]["reported"]
    code, out, _ = cli(home, "zero-report", "status")
    assert "2 of 7 units reported" in out and "safety" in out


def test_signals_recorded_listed_digested_and_shown(home):
    code, out, _ = cli(home, "signal", "record", "--officer", "luo.jun", "--unit", "mining1",
                       "--summary", "部分职工对夜班津贴有意见", "--risk", "medium")
    assert code == 0 and "recorded (medium)" in out
    sid = out.split()[1]
    code, _, err = cli(home, "signal", "record", "--officer", "zheng.tao", "--unit", "hr",
                       "--summary", "x")
    assert code == 2 and "not an information officer" in err
    code, _, err = cli(home, "signal", "record", "--officer", "luo.jun", "--unit", "hr",
                       "--summary", "x", "--risk", "extreme")
    assert code == 2 and "risk 'extreme'" in err
    code, out, _ = cli(home, "signal", "list", "--week", "2026-12-30", "--json")
    assert [x["id"] for x in json.loads(out)] == [sid]
    code, out, _ = cli(home, "signal", "digest", "--week", "2026-12-28")
    assert code == 0 and "digest 2026-W53: 1 signal(s)" in out
    code, out, _ = cli(home, "signal", "digest", "--week", "2026-12-28")
    assert "compiled already" in out
    code, out, _ = cli(home, "signal", "show", sid, "--json")
    assert [e["event"] for e in json.loads(out)] == ["SignalRecorded", "SignalDigested"]
    code, _, err = cli(home, "signal", "show", "s-none")
    assert code == 2 and "no such signal" in err


def test_key_periods_and_the_audit_chain_of_the_practices(home):
    code, out, _ = cli(home, "key-periods", "--json")
    assert [p["name"] for p in json.loads(out)] == ["国庆节及党的会议期间", "春节"]
    code, out, _ = cli(home, "audit", "verify")
    assert code == 0 and "0 broken" in out


def test_a_case_closes_after_its_completion_report_with_a_class(home):
    app = bootstrap(Settings(home=home, config_dir=SAMPLE_OFFICE),
                    clock=FileClock(home / "clock"))
    case = s.register(app, {k: v for k, v in WAGE.items() if k != "received_at"},
                      registration_no="XF-P1", actor="qian.hui")
    s.route_and_assign(app, case.id, actor="intake")
    s.act(app, case.id, s.ActRequest(s.Act.ACK, "lin.na"))
    s.act(app, case.id, s.ActRequest(s.Act.ACCEPT, "lin.na", reason="受理"))
    app.engine.dispose()
    code, _, err = cli(home, "close", "XF-P1", "--actor", "lin.na", "--outcome", "support",
                       "--class", "resolved", "--summary", "补发")
    assert code == 2 and "completion report" in err
    code, _, err = cli(home, "report-completion", "XF-P1", "--actor", "song.yu",
                       "--summary", "办完")
    assert code == 2 and "'song.yu' may not 'report-completion' it" in err
    assert "(lin.na, wang.fang)" in err  # who may
    code, _, _ = cli(home, "report-completion", "XF-P1", "--actor", "lin.na", "--summary",
                     "已核对工资表并报批补发")
    assert code == 0
    code, _, err = cli(home, "close", "XF-P1", "--actor", "lin.na", "--outcome", "support",
                       "--summary", "补发")
    assert code == 2 and "class (三个到位) is required" in err
    code, _, err = cli(home, "close", "XF-P1", "--actor", "lin.na", "--outcome", "support",
                       "--class", "sorted", "--summary", "补发")
    assert code == 2 and "'sorted' is not one of" in err
    code, out, _ = cli(home, "close", "XF-P1", "--actor", "lin.na", "--outcome", "support",
                       "--class", "resolved", "--summary", "补发")
    assert code == 0 and "decided" in out
    code, out, _ = cli(home, "timeline", "XF-P1", "--format", "json")
    events = [e["event"] for e in json.loads(out)["events"]]
    assert events[-2:] == ["CompletionReported", "DecisionIssued"]
    code, out, _ = cli(home, "kpi", "--from", "2026-12-01", "--to", "2026-12-31", "--format",
                       "json")
    got = {m["measure"]: (m["numerator"], m["denominator"]) for m in json.loads(out)}
    assert got["in_place_resolved"] == (1, 1)
