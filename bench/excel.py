"""How long the Excel work takes on a ledger of N rows (SQLite, the sample office, a fixed
clock): the ledger's check (--dry-run), its import (one transaction), the monthly return
over what was imported, and the report's cases exported.

    .venv/bin/python bench/excel.py [--rows 2000]

The ledger is made up: a year of petitions, a third closed, a third decided, the rest
handled. Run it on a quiet machine: every figure is wall time.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

import pendulum

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.bootstrap import sql_app  # noqa: E402
from services.clock import FixedClock  # noqa: E402
from services.config import load_office  # noqa: E402
from services.ledger import import_ledger, load_mapping  # noqa: E402
from services.monthly_return import monthly_return  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.workbooks import report_cases_workbook  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

CONFIG = ROOT / "deploy" / "config"
HEADER = ["姓名", "电话", "来信来访日期", "形式", "类别", "反映问题", "具体内容", "责任单位",
          "责任人", "办理情况", "答复日期", "处理结果", "三个到位", "答复内容"]
UNITS = [("人力资源部", "林娜"), ("后勤服务中心", "宋宇"), ("财务部", "杨帆"),
         ("安全监察部", "黄斌")]


def ledger(path: Path, rows: int) -> None:
    rnd = random.Random(7)
    start = dt.date(2025, 1, 1)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(rows):
            got = start + dt.timedelta(days=rnd.randrange(290))
            unit, who = rnd.choice(UNITS)
            stage = ("已办结", "已答复", "办理中")[i % 3]
            decided = (got + dt.timedelta(days=rnd.randrange(5, 50))).isoformat() \
                if stage != "办理中" else ""
            w.writerow([f"职工{i}", f"137{i:08d}", got.isoformat(), rnd.choice(("来信", "来访")),
                        "申诉求决类", f"事项{i % 97}", "台账记录", unit, who, stage, decided,
                        "支持" if decided else "", "解决问题到位" if decided else "",
                        "已办理" if decided else ""])


def timed(what: str, fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn()
    print(f"{what}: {time.perf_counter() - t:.2f} s")
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=2000)
    n = p.parse_args().rows
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        engine = make_engine(f"sqlite:///{home / 'petitions.db'}")
        upgrade(engine)
        app = sql_app(Settings(home=home, config_dir=CONFIG), load_office(CONFIG),
                      FixedClock(pendulum.datetime(2025, 12, 20, 3, 0)), engine)
        path = home / "ledger.csv"
        ledger(path, n)
        mapping = load_mapping(CONFIG / "samples" / "ledger-mapping.yaml")
        mapping = type(mapping)({k: v for k, v in mapping.columns.items()
                                 if k not in ("registration_no", "id_number")}, mapping.values)
        print(f"{n} rows")
        timed("check (--dry-run)", lambda: import_ledger(app, path, mapping, actor="qian.hui",
                                                         dry_run=True))
        timed("import", lambda: import_ledger(app, path, mapping, actor="qian.hui"))
        data = timed("monthly return 2025-11", lambda: monthly_return(
            app, "li.ming", dt.date(2025, 11, 1)))
        print(f"  {len(data) // 1024} KiB")
        data = timed("report's cases, the year", lambda: report_cases_workbook(
            app, dt.date(2025, 1, 1), dt.date(2025, 12, 31), None, "li.ming"))
        print(f"  {len(data) // 1024} KiB")
        engine.dispose()


if __name__ == "__main__":
    main()
