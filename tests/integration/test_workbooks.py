"""The exported workbooks on each database, opened with openpyxl as Excel would: Chinese
headers, dates that are dates, the frozen header row; the monthly return's numbers equal
the measures ``services/measures.py`` computes on the same data; the accused find nothing
of the accusation in any export."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook import Workbook

from domain.errors import NotPermitted
from domain.labels import COLUMNS
from services import cases, monthly_return, workbooks
from services.measures import kpis
from services.xlsx import Column, rows_to_xlsx
from tests.conftest import WAGE

ACCUSATION = {**WAGE, "category": "accusation", "subject": "综采一队队长截留职工奖金",
              "content": "队长张华在绩效考核中截留奖金", "accused_persons": ["zhang.hua"],
              "concerns_unit": "mining1", "petitioner": {"name": "赵秀英"}}
AGAINST_THE_HEAD = {**ACCUSATION, "subject": "矿长违规发放补贴", "content": "矿长高建违规发放补贴",
                    "accused_persons": ["gao.jian"], "concerns_unit": None,
                    "petitioner": {"name": "钱多多"}}
OTHER = {**WAGE, "channel": "phone", "subject": "家属区住房漏水",
         "content": "屋顶漏水多次报修未果，请求维修。", "petitioner": {"name": "王建国"}}


def book(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


def cells(wb: Workbook) -> list[str]:
    """Every cell under the title rows (a search's title repeats what was searched)."""
    return [str(c) for ws in wb.worksheets for row in ws.iter_rows(min_row=2, values_only=True)
            for c in row if c is not None]


def filed(app: Any, data: dict[str, Any], number: str, received: str | None = None) -> Any:
    data = {**data, **({"received_at": received} if received else {})}
    data = {k: v for k, v in data.items() if v is not None}
    case = cases.register(app, data, registration_no=number, actor="qian.hui")
    return cases.route_and_assign(app, case.id, actor="intake")


def test_the_queue_exports_with_chinese_headers_real_dates_and_a_frozen_header(
        app: Any) -> None:
    filed(app, WAGE, "XF-1")
    wb = book(workbooks.queue_workbook(app, "lin.na"))
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A3"
    headers = [c.value for c in ws[2]]
    assert headers[:4] == [COLUMNS["ref"], COLUMNS["subject"], COLUMNS["stage"], COLUMNS["unit"]]
    row = {h: c for h, c in zip(headers, ws[3], strict=True)}
    assert row["登记编号"].value == "XF-1" and row["承办单位"].value == "人力资源部"
    due = row[COLUMNS["due_at"]]
    assert isinstance(due.value, dt.datetime) and due.number_format == "yyyy-mm-dd hh:mm"
    assert due.value > dt.datetime(2026, 11, 20)  # local time, after the registration
    assert ws.column_dimensions["B"].width > 8  # the matter is wider than the default


def test_the_accused_find_nothing_of_the_accusation_in_any_export(app: Any) -> None:
    filed(app, WAGE, "XF-1")
    filed(app, ACCUSATION, "XF-2")
    for data in (workbooks.queue_workbook(app, "zhang.hua"),
                 workbooks.search_workbook(app, "zhang.hua", "XF"),
                 workbooks.search_workbook(app, "zhang.hua", "XF-2")):
        text = " ".join(cells(book(data)))
        assert "XF-2" not in text and "截留" not in text and "赵秀英" not in text
    staff = " ".join(cells(book(workbooks.search_workbook(app, "qian.hui", "XF"))))
    assert "XF-2" in staff and "XF-1" in staff  # the clerk finds both: the test can fail
    with pytest.raises(NotPermitted):
        workbooks.overdue_workbook(app, "zhang.hua", None)
    with pytest.raises(NotPermitted):
        monthly_return.monthly_return(app, "zhang.hua", dt.date(2026, 11, 1))


def test_the_monthly_return_counts_and_measures_match_the_supervisors_page(app: Any) -> None:
    filed(app, WAGE, "XF-1", "2026-11-02T09:00:00+08:00")
    filed(app, WAGE, "XF-2", "2026-11-05T09:00:00+08:00")  # the same matter again
    filed(app, OTHER, "XF-3", "2026-03-05T10:00:00+08:00")
    filed(app, OTHER, "XF-4", "2025-11-10T10:00:00+08:00")
    filed(app, AGAINST_THE_HEAD, "XF-5", "2026-11-06T09:00:00+08:00")
    first = dt.date(2026, 11, 1)
    wb = book(monthly_return.monthly_return(app, "ma.yun", first))
    assert wb.sheetnames == list(monthly_return.SHEETS)
    ch = wb["按渠道"]
    assert [c.value for c in ch[2]] == ["信访渠道", "本月", "本年累计", "去年同月"]
    assert ch["A3"].value == "来信" and ch["A4"].value == "来访"
    by_channel = {r[0]: r[1:] for r in ch.iter_rows(min_row=3, values_only=True)}
    assert by_channel["来信"] == (3, 3, 0) and by_channel["电话"] == (0, 1, 1)
    assert by_channel["合计"] == (3, 4, 1)
    cat = {r[0]: r[1:] for r in wb["按类别"].iter_rows(min_row=3, values_only=True)}
    assert cat["检举控告类"] == (1, 1, 0)
    units = {r[0]: r[1:] for r in wb["按单位"].iter_rows(min_row=3, values_only=True)}
    assert units["人力资源部"] == (2, 2, 0) and units["合计"] == (3, 4, 1)
    assert sum(v[0] for k, v in units.items() if k != "合计") == 3  # every case in a row
    ms = kpis(app, first, dt.date(2026, 11, 30), None, "ma.yun")
    sheet = [r for r in wb["本月指标"].iter_rows(min_row=3, values_only=True)]
    assert [(r[0], r[2], r[3]) for r in sheet] == [(m.label, m.numerator, m.denominator)
                                                   for m in ms]
    assert ms[0].denominator == 3
    repeats = list(wb["重复信访"].iter_rows(min_row=3, values_only=True))
    assert repeats[0][0] == "XF-1" and repeats[0][3] == 2
    assert isinstance(repeats[0][5], dt.datetime)
    # The mine head, accused in XF-5, supervises too: his return leaves it out.
    head = book(monthly_return.monthly_return(app, "gao.jian", first))
    cat = {r[0]: r[1:] for r in head["按类别"].iter_rows(min_row=3, values_only=True)}
    assert cat["检举控告类"] == (0, 0, 0)
    assert "XF-5" not in " ".join(cells(head))
    nov = (first, dt.date(2026, 11, 30))
    assert "XF-5" not in " ".join(cells(book(workbooks.report_cases_workbook(
        app, *nov, None, "gao.jian"))))
    assert "XF-5" in " ".join(cells(book(workbooks.report_cases_workbook(
        app, *nov, None, "ma.yun"))))


def test_an_outline_only_supervisor_gets_no_accuser_and_no_matter_in_the_repeats(
        app: Any) -> None:
    filed(app, ACCUSATION, "XF-1", "2026-11-02T09:00:00+08:00")
    filed(app, ACCUSATION, "XF-2", "2026-11-05T09:00:00+08:00")  # the same accusation
    filed(app, WAGE, "XF-3", "2026-11-03T09:00:00+08:00")
    filed(app, WAGE, "XF-4", "2026-11-06T09:00:00+08:00")  # a repeat they see whole
    for supervisor in ("li.ming", "qian.hui"):  # the accusation's outline only
        wb = book(monthly_return.monthly_return(app, supervisor, dt.date(2026, 11, 1)))
        repeats = list(wb["重复信访"].iter_rows(min_row=3, values_only=True))
        text = " ".join(str(c) for r in repeats for c in r if c is not None)
        assert "截留" not in text and "赵秀英" not in text, supervisor
        assert [r[0] for r in repeats] == ["XF-3"], supervisor  # and the wage matter is
        assert repeats[0][1] == WAGE["subject"] and repeats[0][3] == 2
        cat = {r[0]: r[1] for r in wb["按类别"].iter_rows(min_row=3, values_only=True)}
        assert cat["检举控告类"] == 2  # still counted: the outline is in sight


def test_text_that_looks_like_a_formula_is_exported_as_that_text(app: Any) -> None:
    typed = ['=HYPERLINK("http://x","点此查看")', "+86 电话", "-1+1", "@SUM(A1)",
             "\t=1+1"]
    data = rows_to_xlsx("=title", [Column("subject", "信访事项")],
                        [{"subject": t} for t in typed])
    ws = book(data).worksheets[0]
    got = [c for row in ws.iter_rows(min_row=3) for c in row]
    assert [c.value for c in got] == typed
    assert all(c.data_type != "f" and c.quotePrefix for c in got)
    assert ws["A1"].data_type != "f" and ws["A1"].value == "=title"
    filed(app, {**WAGE, "subject": typed[0]}, "XF-1")
    queue = book(workbooks.queue_workbook(app, "lin.na")).worksheets[0]
    cell = next(c for row in queue.iter_rows(min_row=3) for c in row if c.value == typed[0])
    assert cell.data_type == "s"
