"""The workplace's pages of issue 29 over HTTP: the case page's 挂牌督办 form lists a case,
the 督查 page shows the listed cases first; the register of key persons and a person's page,
whose forms record a contact and the settling with its signed undertaking; who is neither
the office nor a holder is told there is no such key person."""

from __future__ import annotations

import re
from urllib.parse import quote

from domain.keypersons import Holders
from services import keypersons
from tests import samples
from tests.integration.test_web import (  # noqa: F401
    client,
    csrf_of,
    login,
    site,
    wage_case,
)


def test_listing_a_case_and_a_key_persons_pages(site):  # noqa: F811
    app, _, web = site
    wage_case(app)
    c = login(web, "qian.hui")
    page = c.get("/cases/XF-1").text
    assert 'id="act-list_case"' in page
    done = c.post("/cases/XF-1/act", data={
        "csrf": csrf_of(page), "act": "list_case", "body": "省信访局",
        "reference": "鲁信督〔2026〕12号", "required": "2026-12-20", "days": "7"})
    assert done.status_code == 303
    assert "挂牌督办已办理" in c.get("/cases/XF-1").text
    supervise = c.get("/supervise").text
    listed = re.search(r'<table id="listed">(.*?)</table>', supervise, re.S)
    assert listed and "省信访局" in listed.group(1) and "鲁信督〔2026〕12号" in listed.group(1)
    assert "剩余 30 天" in listed.group(1) and "尚未报告" in listed.group(1)
    assert supervise.index('id="listed"') < supervise.index('id="measures"')  # first

    kp = keypersons.add(app, "qian.hui", reason="多次到矿上访", from_case="XF-1",
                        holders=Holders("zhao.gang", "wang.fang", "lin.na", "王秀英",
                                        "13900001111")).id
    register = c.get("/keypersons").text
    assert f'href="/keypersons/{kp}"' in register and "刘建军" in register and "关注" in register
    page = c.get(f"/keypersons/{kp}").text
    assert "赵刚" in page and "王秀英" in page and 'href="/cases/XF-1"' in page
    c.post(f"/keypersons/{kp}/contact", data={
        "csrf": csrf_of(page), "kind": "visited", "place": "职工家中", "agreed": "补发工资"})
    page = c.get(f"/keypersons/{kp}").text
    assert "下访" in page and "职工家中" in page and "补发工资" in page
    done = c.post(f"/keypersons/{kp}/settle", data={"csrf": csrf_of(page)},
                  files={"undertaking": ("承诺书.pdf", samples.pdf(), "application/pdf")})
    assert done.status_code == 303
    page = c.get(f"/keypersons/{kp}").text
    assert 'id="kp-undertaking"' in page and "承诺书.pdf" in page
    got = c.get(f"/keypersons/{kp}/undertaking")
    assert got.status_code == 200 and got.content.startswith(b"%PDF")

    other = login(web, "luo.jun")  # neither the office nor a holder
    assert "刘建军" not in other.get("/keypersons").text
    for path in (f"/keypersons/{kp}", f"/keypersons/{kp}/undertaking"):
        answer = other.get(path)
        assert answer.status_code == 404 and "刘建军" not in answer.text


def test_the_forms_are_bounded_and_answer_in_chinese_and_the_undertaking_is_named(site):  # noqa: F811
    app, _, web = site
    wage_case(app)
    kp = keypersons.add(app, "qian.hui", reason="多次到矿上访", from_case="XF-1",
                        holders=Holders("zhao.gang", "wang.fang", "lin.na", "王秀英",
                                        "13900001111")).id
    c = login(web, "qian.hui")
    token = csrf_of(c.get(f"/keypersons/{kp}").text)
    big = c.post(f"/keypersons/{kp}/settle", content=b"--x--\r\n" + token.encode(),
                 headers={"Content-Length": str(200 * 1024 * 1024),
                          "Content-Type": "multipart/form-data; boundary=x"})
    assert big.status_code == 413 and "上传过大" in big.text  # as intake: not read
    assert c.post(f"/keypersons/{kp}/settle", data={"csrf": "forged"},
                  files={"undertaking": ("承诺书.pdf", samples.pdf(),
                                         "application/pdf")}).status_code == 403
    assert 'id="kp-undertaking"' not in c.get(f"/keypersons/{kp}").text  # nothing done

    c.post(f"/keypersons/{kp}/contact", data={"csrf": token, "kind": "visited",
                                               "place": "", "agreed": "补发工资"})
    flash = re.search(r'id="flash">([^<]*)<', c.get(f"/keypersons/{kp}").text)
    assert flash and flash.group(1).strip() == "请填写地点"  # Chinese, no id
    handler = login(web, "lin.na")  # a holder: the state is the office's
    handler.post(f"/keypersons/{kp}/state", data={
        "csrf": csrf_of(handler.get(f"/keypersons/{kp}").text), "state": "unstable",
        "reason": "扬言进京"})
    flash = re.search(r'id="flash">([^<]*)<', handler.get(f"/keypersons/{kp}").text)
    assert flash and flash.group(1).strip() == "重点人员由信访办管理，您无权办理此项"

    c.post(f"/keypersons/{kp}/settle", data={"csrf": token},
           files={"undertaking": ("scan.pdf", samples.pdf(), "application/pdf")})
    got = c.get(f"/keypersons/{kp}/undertaking")
    assert got.status_code == 200
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"undertaking.pdf\"; filename*=UTF-8''"
        + quote("息访承诺书-刘建军.pdf"))


def test_the_register_exports_as_a_workbook_with_what_the_page_shows(site):  # noqa: F811
    import io

    import openpyxl

    from domain.petition import Petitioner
    from tests.integration.test_web import login

    app, _, web = site
    keypersons.add(app, "qian.hui", holders=Holders("zhao.gang", "wang.fang", "lin.na",
                                                    "王秀英", "13900001111"),
                   reason="多次来访", petitioner=Petitioner(name="刘建军", phone="13812341234"))
    page = login(web, "qian.hui")
    got = page.get("/keypersons/register.xlsx")
    assert got.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(got.content)).active
    assert [c.value for c in sheet[2]][:3] == ["姓名", "稳控状态", "包案领导"]
    assert [c.value for c in sheet[3]][:3] == ["刘建军", "关注", "赵刚"]
    assert sheet.freeze_panes == "A3"
    assert 'href="/keypersons/register.xlsx"' in page.get("/keypersons").text
