"""The written notices, each one a case reaches (受理告知书, 延期告知书, 处理意见书, 复查意见书;
不予受理告知书 on a declined one): the text compared with its snapshot
(``tests/snapshots/notices``), the PDF rendered and read back, the print recorded on the
timeline with the file's hash; only the handlers and the letters desk may print one. On the
web case page too. Both databases."""

from __future__ import annotations

import hashlib
import io
import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from domain.acts import Act
from domain.errors import NotPermitted, RuleViolation
from domain.notices import KINDS
from services import cases
from services.bootstrap import App
from services.notices import print_notice, render_html
from tests.conftest import WAGE
from tests.integration.test_web import csrf_of, login, site  # noqa: F401 (the fixture)

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "notices"

try:  # WeasyPrint needs Pango (Debian: libpango-1.0-0, libpangoft2-1.0-0)
    import weasyprint  # noqa: F401
except OSError as e:  # in CI (.ci/run installs it) its absence fails instead
    if os.environ.get("CI") == "true":
        raise
    pytest.skip(f"WeasyPrint cannot load Pango here: {e}", allow_module_level=True)


def _do(app: App, ref: str, act: Act, actor: str, **fields: object) -> None:
    cases.act(app, ref, cases.ActRequest(act, actor, **fields))


def _through_review(app: App) -> tuple[str, str]:
    """The sample wage complaint accepted, extended, decided, rated not satisfied and its
    review decided; (case id, its responder)."""
    case = cases.register(app, WAGE, registration_no="XF-N-1", actor="qian.hui")
    case = cases.route_and_assign(app, case.id, actor="intake")
    who = str(case.responder)
    unit = app.office.org.units[str(case.unit)]
    _do(app, case.id, Act.ACK, who)
    _do(app, case.id, Act.ACCEPT, who, reason="受理告知书已邮寄")
    _do(app, case.id, Act.EXTEND, who, days=30, approver=str(unit.head),
        reason="需调取两年工资台账")
    _do(app, case.id, Act.REPORT, who, summary="已核实考勤与工资表")
    _do(app, case.id, Act.CLOSE, who, outcome="support", resolution="resolved",
        summary="补发9月、10月绩效工资差额1280元")
    _do(app, case.id, Act.RATE, "qian.hui", rating="not_satisfied")
    _do(app, case.id, Act.REQUEST_REVIEW, "qian.hui", reason="补发金额未含夜班津贴")
    _do(app, case.id, Act.REPORT, who, summary="已复核夜班考勤")
    _do(app, case.id, Act.DECIDE_REVIEW, str(unit.leader), outcome="support",
        summary="补发夜班津贴640元", resolution="resolved")
    return case.id, who


def _text(html: str) -> str:
    """The notice's words, one paragraph a line, the query code masked (it is the
    installation key's)."""
    body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    text = re.sub(r"<br>|</p>|</div>|</h1>", "\n", body)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"查询码 \d{8}", "查询码 ########", text)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip()) + "\n"


@pytest.mark.parametrize("kind", ["acceptance", "extension", "decision", "review"])
def test_each_notice_reads_as_its_snapshot_and_prints_to_a_pdf_that_reads_back(
        app, kind, monkeypatch):
    case_id, who = _through_review(app)
    with app.uow() as uow:
        case, history = uow.cases.get(case_id), uow.events_of(case_id)
    text = _text(render_html(app, case, history, KINDS[kind]))
    snapshot = SNAPSHOTS / f"{kind}.txt"
    if os.environ.get("PETITIONS_UPDATE_SNAPSHOTS") == "1":  # after a deliberate change
        snapshot.write_text(text, encoding="utf-8")
    assert text == snapshot.read_text(encoding="utf-8"), f"changed: {kind}\n{text}"
    notice = print_notice(app, "XF-N-1", kind, who)
    read = "".join(page.extract_text() for page in PdfReader(io.BytesIO(notice.pdf)).pages)
    flat = re.sub(r"\s+", "", read)
    assert KINDS[kind].title in flat and notice.number.replace(" ", "") in flat
    assert "示范煤矿信访办公室" in flat and "刘建军" in flat
    assert notice.path.read_bytes() == notice.pdf
    with app.uow() as uow:
        printed = [r for r in uow.events_of(case_id) if r.type == "NoticePrinted"]
    assert [(r.data["kind"], r.data["number"], r.data["sha256"], r.actor) for r in printed] \
        == [(kind, notice.number, hashlib.sha256(notice.pdf).hexdigest(), who)]


def test_a_declined_petition_has_only_the_decline_notice(app):
    case = cases.register(app, WAGE, registration_no="XF-N-2", actor="qian.hui")
    case = cases.route_and_assign(app, case.id, actor="intake")
    who = str(case.responder)
    _do(app, case.id, Act.ACK, who)
    _do(app, case.id, Act.DECLINE, who, reason="已经通过诉讼程序处理")
    with pytest.raises(RuleViolation, match=r"no acceptance notice .*\(it has: decline\)"):
        print_notice(app, "XF-N-2", "acceptance", who)
    notice = print_notice(app, "XF-N-2", "decline", "li.ming")  # the letters desk
    flat = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(
        io.BytesIO(notice.pdf)).pages))
    assert "不予受理" in flat and "已经通过诉讼程序处理" in flat


def test_only_the_handlers_and_the_letters_desk_may_print(app):
    _through_review(app)
    with pytest.raises(NotPermitted, match="may not print its notices"):
        print_notice(app, "XF-N-1", "decision", "yang.fan")  # finance: not the case's
    with app.uow() as uow:
        case = uow.cases.get("XF-N-1")
        assert not [r for r in uow.events_of(case.id) if r.type == "NoticePrinted"]


def test_the_case_page_offers_the_notices_to_those_who_may_print_them(site):  # noqa: F811
    app, _, web = site
    _, who = _through_review(app)
    handler = login(web, who)
    page = handler.get("/cases/XF-N-1")
    assert 'id="notice-decision"' in page.text and 'id="notice-review"' in page.text
    pdf = handler.post("/cases/XF-N-1/notices/decision.pdf",
                       data={"csrf": csrf_of(page.text)})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "信访事项处理意见书" in "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).replace(" ", "")
    clerk = login(web, "qian.hui")  # the office's clerk sees the case, but prints nothing
    seen = clerk.get("/cases/XF-N-1")
    assert seen.status_code == 200 and 'id="notices"' not in seen.text
    refused = clerk.post("/cases/XF-N-1/notices/decision.pdf",
                         data={"csrf": csrf_of(seen.text)})
    assert refused.status_code == 403 and "may not print" in refused.text
    no_csrf = handler.post("/cases/XF-N-1/notices/decision.pdf", data={})
    assert no_csrf.status_code == 403
