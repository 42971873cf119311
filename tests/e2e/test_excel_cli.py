"""The Excel commands as an office runs them: the ledger import (a bad ledger: every problem
on its own line, exit 2, nothing imported; then the sample; then the same file again,
refused), and the monthly return counting what was imported."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook

from tests.conftest import SAMPLE_OFFICE
from tests.e2e.test_cli import run

ENV = {"config_dir": str(SAMPLE_OFFICE)}
SAMPLES = SAMPLE_OFFICE / "samples"
MAPPING = str(SAMPLES / "ledger-mapping.yaml")


def test_a_ledger_is_imported_all_or_nothing_once_and_counted_in_the_monthly_return(
        tmp_path: Path) -> None:
    home = tmp_path / "home"
    with (SAMPLES / "ledger.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    rows[1][5], rows[2][10] = "传真", "查无此人"
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    done = run("import-ledger", str(bad), "--mapping", MAPPING, "--actor", "qian.hui",
               home=home, **ENV)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert "2 problem(s)" in lines[0] and lines[1].startswith("第2行 信访渠道（形式）")
    assert lines[2].startswith("第3行 首问责任人（责任人）")
    good = str(SAMPLES / "ledger.csv")
    done = run("import-ledger", good, "--mapping", MAPPING, "--actor", "qian.hui",
               home=home, **ENV)
    assert done.returncode == 0 and "3 row(s) of ledger.csv imported" in done.stdout
    again = run("import-ledger", good, "--mapping", MAPPING, "--actor", "qian.hui",
                home=home, **ENV)
    assert again.returncode == 2 and again.stderr.count("已登记") == 3
    out = tmp_path / "月报.xlsx"
    done = run("monthly-return", "--month", "2025-11", "--out", str(out), "--as", "li.ming",
               home=home, **ENV)
    assert done.returncode == 0, done.stderr
    by_channel = load_workbook(out)["按渠道"]
    assert (by_channel["A6"].value, by_channel["B6"].value) == ("电话", 1)  # TZ2025-003
    assert (by_channel["A8"].value, by_channel["C8"].value) == ("合计", 3)
