"""A case's files in the workplace and the API over HTTP (FastAPI's TestClient, SQLite, the
local file store): upload with CSRF, the download's and the preview's headers, the accused's
404 identical to an unknown case's, the outline reader's count, scans at intake."""

from __future__ import annotations

import io
import re

import pendulum
import pytest

from services import attachments, cases, users
from services.bootstrap import sql_app
from services.clock import FixedClock
from services.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade
from tests.conftest import SAMPLE_OFFICE
from tests.integration.test_web import (
    ACCUSATION,
    PASSWORD,
    RecordingRuns,
    client,
    csrf_of,
    login,
    wage_case,
)
from tests.samples import EXE, image, pdf
from web.main import create_app


@pytest.fixture
def site(office, tmp_path):  # type: ignore[no-untyped-def]
    """The workplace on SQLite with its files under the test's home (test_web's site)."""
    url = f"sqlite:///{tmp_path / 'petitions.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(home=tmp_path, config_dir=SAMPLE_OFFICE)
    app = sql_app(settings, office, FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine)
    for who in ("qian.hui", "lin.na", "zheng.tao", "zhang.hua", "luo.jun", "li.ming",
                "xu.jing"):
        users.set_password(app, who, PASSWORD, actor="test")
    yield app, RecordingRuns(), create_app(app, RecordingRuns())
    engine.dispose()



def upload(c, ref: str, data: bytes, name: str, kind: str = "evidence", csrf: str = ""):  # type: ignore[no-untyped-def]
    token = csrf or csrf_of(c.get(f"/cases/{ref}").text)
    return c.post(f"/cases/{ref}/files", data={"csrf": token, "kind": kind},
                  files={"file": (name, data, "application/octet-stream")})


def listed(app, ref: str, who: str):  # type: ignore[no-untyped-def]
    return attachments.listing(app, ref, who)


def test_a_responder_uploads_a_photo_sees_its_preview_and_downloads_it_as_an_attachment(site):
    app, _, web = site
    wage_case(app)
    c = login(web, "lin.na")
    photo = image("JPEG")
    done = upload(c, "XF-1", photo, "现场 照片.jpg", kind="photo")
    assert done.status_code == 303 and done.headers["location"] == "/cases/XF-1#files"
    page = c.get("/cases/XF-1").text
    assert "现场 照片.jpg：已作为照片上传" in page
    file_id = listed(app, "XF-1", "lin.na").files[0].id
    assert f'src="/cases/XF-1/files/{file_id}/preview"' in page and "<img" in page
    got = c.get(f"/cases/XF-1/files/{file_id}")
    assert got.status_code == 200 and got.content == photo
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"__ __.jpg\"; "
        "filename*=UTF-8''%E7%8E%B0%E5%9C%BA%20%E7%85%A7%E7%89%87.jpg")
    seen = c.get(f"/cases/XF-1/files/{file_id}/preview")
    assert seen.status_code == 200 and seen.headers["content-disposition"].startswith("inline")
    assert seen.headers["x-frame-options"] == "SAMEORIGIN"
    assert seen.headers["x-content-type-options"] == "nosniff"


def test_a_pdf_previews_in_a_frame_and_a_word_file_only_downloads(site):
    app, _, web = site
    wage_case(app)
    c = login(web, "lin.na")
    upload(c, "XF-1", pdf(), "决定书.pdf", kind="signed_decision")
    page = c.get("/cases/XF-1").text
    assert re.search(r'<iframe src="/cases/XF-1/files/\w+/preview" title="决定书.pdf"', page)


def test_an_upload_without_this_sessions_csrf_token_stores_nothing(site):
    app, _, web = site
    wage_case(app)
    c = login(web, "lin.na")
    assert upload(c, "XF-1", image(), "a.png", csrf="forged").status_code == 403
    assert listed(app, "XF-1", "lin.na").count == 0
    assert not (app.settings.home / "files" / "attachments").exists()


def test_a_program_named_pdf_is_refused_in_one_line_and_nothing_is_stored(site):
    app, _, web = site
    wage_case(app)
    c = login(web, "lin.na")
    assert upload(c, "XF-1", EXE, "证据.pdf").status_code == 303
    page = c.get("/cases/XF-1").text
    flash = re.search(r'id="flash">([^<]*)<', page)
    assert flash and "application/x-msdownload" in flash.group(1)
    assert listed(app, "XF-1", "lin.na").count == 0
    assert not (app.settings.home / "files" / "attachments").exists()


def test_an_upload_larger_than_the_cap_is_refused_before_it_is_read(site):
    app, _, web = site
    wage_case(app)
    c = login(web, "lin.na")
    token = csrf_of(c.get("/cases/XF-1").text)
    big = c.post("/cases/XF-1/files", headers={"Content-Length": str(200 * 1024 * 1024),
                                                "Content-Type": "multipart/form-data; "
                                                "boundary=x"},
                 content=b"--x--\r\n" + token.encode())
    assert big.status_code == 413 and "上传过大" in big.text


def test_the_accused_get_for_a_file_the_404_of_a_case_that_does_not_exist(site):
    app, _, web = site
    case = cases.register(app, ACCUSATION, registration_no="XF-A", actor="qian.hui")
    cases.route_and_assign(app, case.id, actor="intake")
    handler = login(web, "xu.jing")
    assert upload(handler, "XF-A", image(), "举报材料.png").status_code == 303
    file_id = listed(app, "XF-A", "xu.jing").files[0].id
    for who in ("zhang.hua", "luo.jun", "zheng.tao"):  # the accused, his team, an outsider
        c = login(web, who)
        for path in (f"/cases/XF-A/files/{file_id}", f"/cases/XF-A/files/{file_id}/preview"):
            answer, unknown = c.get(path), c.get(path.replace("XF-A", "XF-NONE"))
            assert answer.status_code == unknown.status_code == 404
            assert answer.text == unknown.text.replace("XF-NONE", "XF-A")
            assert "举报材料" not in answer.text
        refused = upload(c, "XF-A", pdf(), "x.pdf", csrf=csrf_of(c.get("/").text))
        unknown = upload(c, "XF-NONE", pdf(), "x.pdf", csrf=csrf_of(c.get("/").text))
        assert refused.status_code == unknown.status_code == 404
        assert refused.text == unknown.text.replace("XF-NONE", "XF-A")
        token = users.create_token(app, f"t-{who.replace('.', '-')}", who, actor="test")
        bearer = {"Authorization": f"Bearer {token}"}
        for path in ("/api/v1/cases/XF-A/files", f"/api/v1/cases/XF-A/files/{file_id}"):
            api, none = c.get(path, headers=bearer), c.get(
                path.replace("XF-A", "XF-NONE"), headers=bearer)
            assert api.status_code == none.status_code == 404
            assert api.json()["detail"] == none.json()["detail"].replace("XF-NONE", "XF-A")
    assert listed(app, "XF-A", "xu.jing").count == 1


def test_an_outline_reader_sees_how_many_files_and_nothing_of_them(site):
    app, _, web = site
    case = cases.register(app, ACCUSATION, registration_no="XF-A", actor="qian.hui")
    cases.route_and_assign(app, case.id, actor="intake")
    attachments.attach(app, "XF-A", io.BytesIO(image()), name="举报信.png",
                       actor="qian.hui", kind="letter_scan")
    file_id = listed(app, "XF-A", "xu.jing").files[0].id
    c = login(web, "qian.hui")  # the petition office sees an accusation's outline
    page = c.get("/cases/XF-A").text
    assert "有 1 个附件" in page and "举报信" not in page and file_id not in page
    assert c.get(f"/cases/XF-A/files/{file_id}").status_code == 403
    token = users.create_token(app, "desk", "qian.hui", actor="test")
    answer = client(web).get("/api/v1/cases/XF-A/files",
                             headers={"Authorization": f"Bearer {token}"})
    assert answer.json() == {"ref": "XF-A", "count": 1, "files": []}


def test_the_api_uploads_lists_downloads_and_withdraws(site):
    app, _, web = site
    wage_case(app)
    token = users.create_token(app, "hotline", "qian.hui", actor="test")
    bearer = {"Authorization": f"Bearer {token}"}
    c = client(web)
    scan = pdf()
    made = c.post("/api/v1/cases/XF-1/files", headers=bearer, data={"kind": "letter_scan"},
                  files={"file": ("来信.pdf", scan, "application/pdf")})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["already"] is False and body["file"]["kind_label"] == "来信扫描件"
    sha = body["file"]["sha256"]
    again = c.post("/api/v1/cases/XF-1/files", headers=bearer,
                   files={"file": ("copy.pdf", scan, "application/pdf")})
    assert again.status_code == 200 and again.json()["already"] is True
    files = c.get("/api/v1/cases/XF-1/files", headers=bearer).json()
    assert files["count"] == 1 and files["files"][0]["name"] == "来信.pdf"
    got = c.get(f"/api/v1/cases/XF-1/files/{sha}", headers=bearer)
    assert got.content == scan and got.headers["content-disposition"].startswith("attachment")
    bad = c.post("/api/v1/cases/XF-1/files", headers=bearer,
                 files={"file": ("x.pdf", b"<html><script></script></html>", "application/pdf")})
    assert bad.status_code == 422 and "no known type" in bad.json()["detail"]
    gone = c.post(f"/api/v1/cases/XF-1/files/{sha}/withdraw", headers=bearer,
                  json={"reason": "重复上传"})
    assert gone.status_code == 200
    assert c.get("/api/v1/cases/XF-1/files", headers=bearer).json()["count"] == 0
    assert c.get(f"/api/v1/cases/XF-1/files/{sha}", headers=bearer).status_code == 404


def test_a_clerk_attaches_the_letters_scan_at_intake_and_a_bad_file_registers_nothing(site):
    app, _, web = site
    c = login(web, "qian.hui")
    form = c.get("/intake").text
    assert 'enctype="multipart/form-data"' in form and 'name="files"' in form
    fields = {"csrf": csrf_of(form), "name": "刘建军", "channel": "letter",
              "category": "complaint", "subject": "工资未足额发放", "content": "请求补发",
              "concerns_unit": "hr", "file_kind": "letter_scan"}
    refused = c.post("/intake", data=fields, files=[("files", ("来信.pdf", EXE, "x/y"))])
    assert refused.status_code == 422 and "application/x-msdownload" in refused.text
    with app.uow() as uow:
        assert uow.count_cases(open_only=False) == 0
    done = c.post("/intake", data=fields, files=[
        ("files", ("来信第1页.png", image(seed=1), "image/png")),
        ("files", ("来信第2页.png", image(seed=2), "image/png"))])
    assert done.status_code == 200, done.text
    ref = re.search(r'id="new-ref">([^<]+)<', done.text).group(1)  # type: ignore[union-attr]
    assert "来信第1页.png（来信扫描件）" in done.text
    assert [f.name for f in listed(app, ref, "qian.hui").files] == ["来信第1页.png",
                                                                  "来信第2页.png"]


def test_an_outline_reader_sending_a_file_the_case_holds_is_not_told_its_name(site):
    app, _, web = site
    case = cases.register(app, ACCUSATION, registration_no="XF-A", actor="qian.hui")
    cases.route_and_assign(app, case.id, actor="intake")
    attachments.attach(app, "XF-A", io.BytesIO(image()), name="举报人亲笔信.png",
                       actor="xu.jing", kind="letter_scan")
    c = login(web, "qian.hui")  # the petition office sees an accusation's outline
    assert upload(c, "XF-A", image(), "扫描.png").status_code == 303
    page = c.get("/cases/XF-A").text
    assert "该文件已在附件中" in page and "举报人亲笔信" not in page
    token = users.create_token(app, "desk", "qian.hui", actor="test")
    again = client(web).post("/api/v1/cases/XF-A/files",
                             headers={"Authorization": f"Bearer {token}"},
                             files={"file": ("扫描.png", image(), "image/png")})
    assert again.status_code == 200
    assert again.json() == {"already": True, "file": None}
