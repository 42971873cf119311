"""The supervisors' commands as a supervisor runs them, on a home with three cases: one
closed on time, one overdue, one still within its limits. The report is opened in a real
headless Chromium."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pendulum
import pytest

from services import cases as s
from services.bootstrap import bootstrap
from services.clock import FileClock
from services.schema import migrated
from services.settings import Settings
from services.sweep import sweep
from tests.conftest import SAMPLE_OFFICE
from tests.e2e.test_cli import run

WAGE = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())
GROUP = json.loads((SAMPLE_OFFICE / "samples" / "group-visit.json").read_text())
ENV = {"config_dir": str(SAMPLE_OFFICE), "simulated_clock": "1"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("supervise")
    clock = FileClock(home / "clock")
    app = migrated(bootstrap(Settings(home=home, config_dir=SAMPLE_OFFICE), clock=clock))

    def at(day: str) -> None:
        clock.set(pendulum.parse(day, tz="Asia/Shanghai"))  # type: ignore[arg-type]

    at("2026-03-02 09:00")
    on_time = s.register(app, {k: v for k, v in WAGE.items() if k != "received_at"},
                         registration_no="XF-A", actor="qian.hui")
    s.route_and_assign(app, on_time.id, actor="intake")
    s.act(app, on_time.id, s.ActRequest(s.Act.ACK, "lin.na"))
    s.act(app, on_time.id, s.ActRequest(s.Act.ACCEPT, "lin.na", reason="受理"))
    other = {**WAGE, "petitioner": {"name": "王五", "phone": "13900000000"},
             "subject": "加班费未发放"}
    late = s.register(app, {k: v for k, v in other.items() if k != "received_at"},
                      registration_no="XF-B", actor="qian.hui")
    s.route_and_assign(app, late.id, actor="intake")
    s.act(app, late.id, s.ActRequest(s.Act.ACK, "zheng.tao"))
    s.act(app, late.id, s.ActRequest(s.Act.ACCEPT, "zheng.tao", reason="受理"))
    at("2026-03-20 10:00")
    s.act(app, on_time.id, s.ActRequest(s.Act.REPORT, "lin.na", summary="已核实"))
    s.act(app, on_time.id, s.ActRequest(s.Act.CLOSE, "lin.na", outcome="support",
                                        summary="补发", resolution="resolved"))
    at("2026-03-25 09:00")
    group = s.register(app, {k: v for k, v in GROUP.items() if k != "received_at"},
                       registration_no="XF-C", actor="qian.hui")
    s.route_and_assign(app, group.id, actor="intake")
    at("2026-05-20 09:00")
    sweep(app, sweeper="test")  # XF-B's handling limit (2026-05-01) is breached
    app.engine.dispose()
    return home


def test_timeline_shows_the_breach_and_who_held_the_case(home):
    done = run("timeline", "XF-B", "--format", "json", home=home, **ENV)
    assert done.returncode == 0, done.stderr
    t = json.loads(done.stdout)
    handling = next(d for d in t["deadlines"] if d["deadline"] == "handling")
    # 60 days from 2026-03-02 end on 05-01, a Labour Day holiday: due 05-06, so 13 days 9 h
    # late at 05-20 09:00.
    assert (handling["due_date"], handling["state"]) == ("2026-05-06", "breached")
    assert handling["overdue_seconds"] == (13 * 24 + 9) * 3600
    assert handling["breached_while_held_by"] == {"unit": "hr", "responder": "zheng.tao",
                                                  "leader": None}
    assert [e["event"] for e in t["events"]][:2] == ["CaseRegistered", "CaseAssigned"]
    table = run("timeline", "XF-B", home=home, **ENV)
    assert "超期（" in table.stdout and "郑涛" in table.stdout  # labels and names
    rows = list(csv.DictReader(io.StringIO(
        run("timeline", "XF-B", "--format", "csv", home=home, **ENV).stdout)))
    assert {r["kind"] for r in rows} == {"event", "deadline"}


def test_overdue_groups_by_unit_and_by_leader_worst_first(home):
    by_unit = run("overdue", home=home, **ENV)
    assert by_unit.returncode == 0 and "unit hr: 1 overdue" in by_unit.stdout
    assert by_unit.stdout.index("unit logistics") < by_unit.stdout.index("unit hr")
    rows = json.loads(run("overdue", "--format", "json", home=home, **ENV).stdout)
    # XF-C was never answered: its 4-hour first response is the worst, since 2026-03-25.
    assert (rows[0]["case"], rows[0]["deadline"]) == ("XF-C", "first_response")
    assert ("XF-B", "handling") in [(r["case"], r["deadline"]) for r in rows]
    assert rows == sorted(rows, key=lambda r: -r["overdue_seconds"])
    assert "(no leader)" in run("overdue", "--by", "leader", home=home, **ENV).stdout


def test_kpi_gives_numerators_and_denominators_and_exports(home):
    got = {r["measure"]: (r["numerator"], r["denominator"]) for r in json.loads(
        run("kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json",
            home=home, **ENV).stdout)}
    # Judged at 2026-04-01: A closed on time; B and C open. All told in writing in time
    # but C (registered 03-25, not yet accepted: its 15 days run to 04-09).
    assert got["closure"] == (1, 3) and got["on_time_closure"] == (1, 1)
    assert got["timely_acceptance"] == (2, 3) and got["repeat_rate"] == (0, 3)
    assert got["satisfaction"] == (0, 0)
    assert got["in_place_resolved"] == (1, 1) and got["in_place_assisted"] == (0, 1)
    text = run("kpi", "--from", "2026-03-01", "--to", "2026-03-31", home=home, **ENV).stdout
    assert "结案率" in text and "33.3%" in text and "—" in text  # nothing rated yet
    hr = json.loads(run("kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--unit",
                        "logistics", "--format", "json", home=home, **ENV).stdout)
    assert hr[0]["denominator"] == 1
    exported = list(csv.DictReader(io.StringIO(run(
        "kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv", home=home,
        **ENV).stdout)))
    assert len(exported) == 10 and exported[0]["measure"] == "closure"
    assert exported[-1]["measure"] == "in_place_assisted"


@pytest.mark.parametrize(("args", "message"), [
    (("timeline", "XF-NOPE"), "XF-NOPE"),
    (("kpi", "--from", "2026-03-31", "--to", "2026-03-01"), "before it starts"),
    (("kpi", "--from", "2026-13-01", "--to", "2026-03-01"), "not a date"),
    (("kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--unit", "nowhere"),
     "unknown unit 'nowhere'"),
    (("overdue", "--by", "shift"), "unknown grouping"),
    (("timeline", "XF-A", "--format", "xml"), "unknown format"),
])
def test_bad_input_is_named_and_fails(home, args, message):
    done = run(*args, home=home, **ENV)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_an_empty_period_says_so_without_failing(home):
    done = run("kpi", "--from", "2025-01-01", "--to", "2025-01-31", home=home, **ENV)
    assert done.returncode == 0
    assert "no petitions were received in this period" in done.stdout


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="Chromium is not installed (.ci/run installs it)")
def test_the_html_report_renders_in_chromium(home, tmp_path):
    assert CHROMIUM, "CI must have Chromium (.ci/run installs it)"
    page = tmp_path / "report.html"
    done = run("report", "--html", str(page), "--from", "2026-03-01", "--to", "2026-03-31",
               home=home, **ENV)
    assert done.returncode == 0, done.stderr
    assert "http" not in page.read_text().replace("http-equiv", "")  # nothing fetched
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "审计链校验：3 件信访件的记录完整" in html
    assert html.count('data-measure="') == 10 and "结案率" in html and "三个到位" in html
    for ref in ("XF-A", "XF-B", "XF-C"):
        assert f"{ref} ·" in html
    assert html.count('class="bar ') >= 6 and 'class="breached"' in html
    shot = Path(os.environ.get("PETITIONS_TEST_ARTIFACTS", tmp_path)) / "report.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([*flags, "--window-size=1280,1400", f"--screenshot={shot}",
                    page.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
