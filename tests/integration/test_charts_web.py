"""The 督查 page's charts over HTTP (TestClient, SQLite, a fixed clock): the page links
each chart and shows its numbers beside it; each chart answers image/svg+xml to a
supervisor, 403 to anyone else, 404 for no such chart; an accused supervisor's charts do not
count the accusation (not one in a bar); the report carries the charts as data: images and
renders to PDF with them."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import pytest

from services import cases, pdf, users
from services.glance import BUILDERS, charts
from services.report import render_report
from tests.conftest import WAGE
from tests.integration.test_web import PASSWORD, login, site, wage_case  # noqa: F401

HEAD_ACCUSED = {**WAGE, "category": "accusation", "subject": "检举矿长",
                "accused_persons": ["gao.jian"], "concerns_unit": None}


def test_the_page_links_each_chart_and_only_supervisors_get_them(site):  # noqa: F811
    app, _, web = site
    wage_case(app)
    page = login(web, "li.ming").get("/supervise").text
    links = re.findall(r'<img src="(/supervise/charts/([a-z_]+)\.svg\?[^"]*)" alt="([^"]+)"',
                       page)
    assert [k for _, k, _ in links] == list(BUILDERS)
    assert "近12个月每月信访量（按渠道）" in page and "2026年11月" in page
    supervisor = login(web, "li.ming")
    for src, _key, _alt in links:
        got = supervisor.get(src.replace("&amp;", "&"))
        assert got.status_code == 200, src
        assert got.headers["content-type"] == "image/svg+xml"
        assert "script-src" not in got.headers["content-security-policy"]
        assert ET.fromstring(got.content).tag.endswith("svg")
    assert supervisor.get("/supervise/charts/nothing.svg").status_code == 404
    for who in ("lin.na", "zhang.hua"):
        assert login(web, who).get("/supervise/charts/by_channel.svg").status_code == 403
    assert supervisor.get("/supervise/charts/rates.svg?office=elsewhere").status_code == 422


def _category_row(app, viewer):  # type: ignore[no-untyped-def]
    chart = next(c for c in charts(app, viewer, *_period(app), None)
                 if c.key == "by_category")
    return chart.rows[-1]  # this month: 月份, 建议意见类, 检举控告类, 申诉求决类


def _period(app):  # type: ignore[no-untyped-def]
    import datetime as dt
    return dt.date(2026, 11, 1), dt.date(2026, 11, 20)


def test_an_accused_supervisor_sees_not_one_of_the_accusation_in_a_bar(site):  # noqa: F811
    app, _, web = site
    cases.register(app, WAGE, registration_no="XF-R-1", actor="qian.hui")
    cases.register(app, HEAD_ACCUSED, registration_no="XF-R-2", actor="qian.hui")
    assert _category_row(app, "li.ming")[1:] == ["0", "1", "1"]
    assert _category_row(app, "gao.jian")[1:] == ["0", "0", "1"]
    users.set_password(app, "gao.jian", PASSWORD, actor="test")
    counted = '<td data-label="检举控告类（件）">1</td>'
    for who, shown in (("li.ming", True), ("gao.jian", False)):
        page = login(web, who).get("/supervise").text
        table = page[page.index('id="chart-by_category"'):
                     page.index('id="chart-on_time_by_unit"')]
        assert (counted in table) is shown, who


def test_the_report_carries_the_charts_and_prints_to_pdf(site):  # noqa: F811
    app, _, _web = site
    wage_case(app)
    html = render_report(app, *_period(app), None, "li.ming")
    images = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)"', html)
    assert len(images) == len(BUILDERS)
    drawn = base64.b64decode(images[0][0]).decode()
    assert "近12个月每月信访量（按渠道）" in drawn and "<script" not in drawn
    assert "各单位按期办结率" in html  # and the table beside it
    if pdf.unavailable():
        pytest.skip(str(pdf.unavailable()))
    assert pdf.html_to_pdf(html).startswith(b"%PDF")
