"""导出Excel from the workplace: the links on the pages and the downloads behind them, as the
person logged in may see them (the accused download nothing of the accusation; only
supervisors download the supervisors' lists and the monthly return)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from services import cases
from services.xlsx import XLSX_TYPE
from tests.conftest import WAGE
from tests.integration.test_web import ACCUSATION, login, site  # noqa: F401 (a fixture)


def _filed(app: Any) -> None:
    for data, number in ((WAGE, "XF-1"), (ACCUSATION, "XF-2")):
        case = cases.register(app, data, registration_no=number, actor="qian.hui")
        cases.route_and_assign(app, case.id, actor="intake")


def _text(body: bytes) -> str:
    wb = load_workbook(io.BytesIO(body))
    return " ".join(str(c) for ws in wb.worksheets
                    for row in ws.iter_rows(min_row=2, values_only=True) for c in row if c)


def test_each_list_links_its_workbook_and_the_workbook_holds_what_the_page_shows(
        site: Any) -> None:  # noqa: F811
    app, _, web = site
    _filed(app)
    clerk = login(web, "qian.hui")
    assert 'href="/search.xlsx?q=XF' in clerk.get("/search", params={"q": "XF"}).text
    got = clerk.get("/search.xlsx", params={"q": "XF"})
    assert got.status_code == 200 and got.headers["content-type"] == XLSX_TYPE
    assert "XF-1" in _text(got.content) and "XF-2" in _text(got.content)
    handler = login(web, "lin.na")
    assert 'href="/queue.xlsx"' in handler.get("/").text
    assert "XF-1" in _text(handler.get("/queue.xlsx").content)
    accused = login(web, "zhang.hua")
    for path in ("/queue.xlsx", "/search.xlsx?q=XF", "/search.xlsx?q=XF-2"):
        text = _text(accused.get(path).content)
        assert "XF-2" not in text and "截留" not in text, path
    for path in ("/supervise/measures.xlsx", "/supervise/overdue.xlsx",
                 "/supervise/cases.xlsx", "/supervise/monthly-return.xlsx?month=2026-11"):
        assert accused.get(path).status_code == 403, path
    head = login(web, "li.ming")
    page = head.get("/supervise").text
    assert 'id="monthly-return"' in page and "导出Excel" in page
    for path in ("/supervise/measures.xlsx", "/supervise/overdue.xlsx",
                 "/supervise/cases.xlsx", "/supervise/monthly-return.xlsx?month=2026-11"):
        got = head.get(path)
        assert got.status_code == 200 and got.headers["content-type"] == XLSX_TYPE, path
        load_workbook(io.BytesIO(got.content))
    assert "XF-2" in _text(head.get("/supervise/cases.xlsx").content)
    assert head.get("/supervise/monthly-return.xlsx?month=11-2026").status_code == 422


def test_the_monthly_returns_file_is_named_from_the_month_not_from_what_was_typed(
        site: Any) -> None:  # noqa: F811
    _, _, web = site
    head = login(web, "li.ming")
    got = head.get("/supervise/monthly-return.xlsx?month=2026-11%E3%80%80")  # a wide space
    assert got.status_code == 200 and got.headers["content-type"] == XLSX_TYPE
    assert got.headers["content-disposition"] == \
        'attachment; filename="monthly-return-2026-11.xlsx"'
