"""台账导入 on each database: the sample ledger imported as historical cases through the
domain (closed ones struck off, no message queued, no long-past reminder due), all or
nothing, the same file twice refused, only the petition office's staff."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from domain.errors import LedgerRejected, NotPermitted
from domain.events import EventType
from domain.stages import Stage
from services.ledger import import_ledger, load_mapping
from services.sweep import sweep
from tests.conftest import SAMPLE_OFFICE, at, events_of

SAMPLES = SAMPLE_OFFICE / "samples"


def _ledger(tmp_path: Path, change: dict[int, dict[int, str]] | None = None) -> Path:
    """The sample ledger, with cells changed (row index → column index → value)."""
    with (SAMPLES / "ledger.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    for i, cells in (change or {}).items():
        for j, v in cells.items():
            rows[i][j] = v
    path = tmp_path / "台账.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def _count(app: Any) -> int:
    with app.uow() as uow:
        return len(uow.all_cases())


def test_the_sample_ledger_is_imported_as_historical_cases_without_a_message(
        app: Any, tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    shutil.copy(SAMPLES / "ledger.csv", path)
    done = import_ledger(app, path, load_mapping(SAMPLES / "ledger-mapping.yaml"),
                         actor="qian.hui", via="cli:test")
    by_no = {c.registration_no: c for c in done.cases}
    assert by_no["TZ2025-001"].stage is Stage.CLOSED
    assert by_no["TZ2025-002"].stage is Stage.DECIDED  # its windows lapse at the sweep
    assert by_no["TZ2025-003"].stage is Stage.HANDLING
    with app.uow() as uow:
        stored = uow.cases.get("TZ2025-001", lock=False)
        assert stored.unit == "hr" and stored.responder == "lin.na"
        assert uow.messages(None, 100) == []  # nobody told of a matter answered long ago
    rows = events_of(app, stored.id)
    assert rows[0].type == EventType.CASE_REGISTERED.value
    assert rows[0].at.isoformat().startswith("2025-03-04")  # registered when received
    assert rows[-1].type == EventType.IMPORTED.value
    assert rows[-1].data["file"] == "ledger.csv" and rows[-1].data["row"] == 2
    assert EventType.CASE_STRUCK_OFF.value in [r.type for r in rows]
    # The open one is overdue, as it is, but no long-past reminder waits to be sent.
    open_case = by_no["TZ2025-003"]
    rules = app.rules_for(open_case)
    assert all(d.rung is None or d.fire_at > app.clock.now()
               for d in open_case.schedule(rules, app.clock.now()))
    sweep(app, sweeper="sweeper")  # the decided one's windows lapse, telling nobody
    with app.uow() as uow:
        assert uow.messages(None, 100) == []
        assert uow.cases.get("TZ2025-002", lock=False).stage is Stage.RATED


def test_one_bad_row_imports_nothing_and_every_problem_names_its_row_and_field(
        app: Any, tmp_path: Path) -> None:
    path = _ledger(tmp_path, {1: {5: "传真"}, 3: {4: "2025-13-45", 10: "查无此人"}})
    with pytest.raises(LedgerRejected) as e:
        import_ledger(app, path, load_mapping(SAMPLES / "ledger-mapping.yaml"),
                      actor="qian.hui")
    problems = e.value.problems
    assert any(p.startswith("第2行 信访渠道（形式）") and "传真" in p for p in problems)
    assert any(p.startswith("第4行 收到时间（来信来访日期）") for p in problems)
    assert any(p.startswith("第4行 首问责任人（责任人）") and "查无此人" in p for p in problems)
    assert _count(app) == 0


def test_the_same_ledger_twice_imports_nothing_the_second_time(
        app: Any, tmp_path: Path) -> None:
    path = _ledger(tmp_path)
    mapping = load_mapping(SAMPLES / "ledger-mapping.yaml")
    import_ledger(app, path, mapping, actor="qian.hui")
    with pytest.raises(LedgerRejected) as e:
        import_ledger(app, path, mapping, actor="qian.hui")
    assert len(e.value.problems) == 3 and all("已登记" in p for p in e.value.problems)
    assert _count(app) == 3


def test_a_dry_run_checks_every_row_and_stores_nothing(app: Any, tmp_path: Path) -> None:
    done = import_ledger(app, _ledger(tmp_path), load_mapping(SAMPLES / "ledger-mapping.yaml"),
                         actor="qian.hui", dry_run=True)
    assert len(done.cases) == 3 and done.dry_run
    assert _count(app) == 0


def test_only_the_petition_offices_staff_import(app: Any, tmp_path: Path) -> None:
    with pytest.raises(NotPermitted):
        import_ledger(app, _ledger(tmp_path), load_mapping(SAMPLES / "ledger-mapping.yaml"),
                      actor="lin.na")
    assert _count(app) == 0


def test_an_excel_ledger_with_date_cells_is_read_as_the_csv_is(app: Any, tmp_path: Path) -> None:
    with (SAMPLES / "ledger.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append([dt.datetime.strptime(v.replace("/", "-"), "%Y-%m-%d")
                   if len(v) == 10 and v[4] in "-/" else v for v in r])
    path = tmp_path / "台账.xlsx"
    wb.save(path)
    done = import_ledger(app, path, load_mapping(SAMPLES / "ledger-mapping.yaml"),
                         actor="qian.hui")
    first = next(c for c in done.cases if c.registration_no == "TZ2025-001")
    assert first.petition.received_at == at("2025-03-04 09:00")
    assert first.petition.petitioner.phone == "13700000001" and first.stage is Stage.CLOSED


def test_a_deadline_breached_before_the_import_sends_nothing_later(
        app: Any, tmp_path: Path) -> None:
    with (SAMPLES / "ledger.csv").open(encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f))
    blank = dict.fromkeys(header, "")
    rows = [{**blank, "编号": number, "姓名": name, "来信来访日期": received, "形式": "来信",
             "类别": "申诉求决类", "反映问题": subject, "办理情况": "已登记"}
            for number, name, received, subject in (
                ("TZ-OLD", "王秀兰", "2026-11-01", "井下津贴少发"),  # breached at the import
                ("TZ-NEW", "赵大勇", "2026-11-19", "通勤班车停开"))]  # not yet
    path = tmp_path / "台账.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    done = import_ledger(app, path, load_mapping(SAMPLES / "ledger-mapping.yaml"),
                         actor="qian.hui")
    ids = {c.registration_no: c.id for c in done.cases}
    app.clock.advance(days=30)
    sweep(app, sweeper="sweeper")
    with app.uow() as uow:
        sent = {m.case_id for m in uow.messages(None, 500)}
    assert ids["TZ-OLD"] not in sent  # no escalation of a breach the old ledger kept
    assert ids["TZ-NEW"] in sent  # a deadline breached after the import is told as ever
