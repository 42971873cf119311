"""The quarterly review's commands as the office runs them, on a simulated clock: record
the meeting, list and finish its measures, write the pack, assess the targets; bad input is
one line and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pendulum

from services.bootstrap import bootstrap
from services.clock import FileClock
from services.schema import migrated
from services.settings import Settings
from tests.conftest import SAMPLE_OFFICE
from tests.e2e.test_cli import run

ENV = {"config_dir": str(SAMPLE_OFFICE), "simulated_clock": "1"}


def test_record_finish_and_pack_a_quarters_review(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    clock = FileClock(home / "clock")
    clock.set(pendulum.parse("2026-12-01 10:00", tz="Asia/Shanghai"))  # type: ignore[arg-type]
    migrated(bootstrap(Settings(home=home, config_dir=SAMPLE_OFFICE), clock=clock))

    def cli(*args: str) -> tuple[int, str, str]:
        done = run(*args, home=home, **ENV)
        return done.returncode, done.stdout, done.stderr

    code, out, err = cli("review", "record", "--quarter", "2026Q4", "--by", "li.ming",
                         "--chair", "zhao.gang", "--attendee", "wang.fang",
                         "--issue", "综采一队工资争议",
                         "--measure", "约谈争议职工|zheng.tao|2026-12-10",
                         "--plan", "春节集体访处置预案|wang.fang|2027-01-20")
    assert code == 0, err
    assert "2 measure(s)" in out
    measure = next(line.split()[0] for line in out.splitlines() if "约谈争议职工" in line)
    code, _, err = cli("review", "record", "--quarter", "2026Q4", "--by", "li.ming",
                       "--chair", "zhao.gang", "--issue", "x")
    assert code == 2 and "recorded already" in err and len(err.strip().splitlines()) == 1
    code, out, err = cli("review", "done", measure, "--by", "zheng.tao", "--note", "已约谈")
    assert code == 0 and "按期完成" in out, err
    code, out, err = cli("review-pack", "--quarter", "2026Q4", "--out", str(tmp_path / "p.html"))
    assert code == 0, err
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert "2026年第四季度不稳定因素分析排查例会材料" in page and "已约谈" not in page
    assert "春节集体访处置预案" in page and "按期完成" in page and "未到期" in page
    code, out, _ = cli("targets", "--quarter", "2026Q4", "--json")
    rows = json.loads(out)
    assert code == 0 and {r["unit"] for r in rows} == {"hr", "finance", "mining1"}
    assert all(r["verdict"] in ("达标", "无数据") for r in rows)  # no petition yet
