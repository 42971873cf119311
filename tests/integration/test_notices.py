"""The written notices, each one a case reaches (受理告知书, 延期告知书, 处理意见书, 复查意见书;
不予受理告知书 on a declined one): the text compared with its snapshot
(``tests/snapshots/notices``), the PDF rendered and read back, the print recorded on the
timeline with the file's hash; only the handlers and the letters desk may print one, and
whoever may not see the case (the accused) is answered as for an unknown number, from the
service, the CLI and the web alike. On the web case page too. Both databases."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
from pypdf import PdfReader

from cli import notice as notice_cli
from domain.acts import Act
from domain.errors import CaseNotFound, NotPermitted, RuleViolation
from domain.notices import KINDS
from domain.offices import sight_in
from domain.permissions import Sight
from services import cases
from services.bootstrap import App
from services.notices import FONT, print_notice, printable, render_html
from services.pdf import unavailable
from tests.conftest import WAGE
from tests.integration.test_web import (  # noqa: F401 (site: the fixture)
    ACCUSATION,
    csrf_of,
    login,
    site,
)

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "notices"
WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # Debian's fonts-wqy-microhei


def _cjk_font() -> bool:
    """Whether fontconfig finds the notices' font (without ``fc-list``: its Debian file)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return WQY.exists()
    found = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True,
                           timeout=60, check=False)
    return FONT in found.stdout


def _cannot_print() -> str | None:
    """Why notices cannot be printed here, if they cannot."""
    missing = unavailable()  # WeasyPrint needs Pango (Debian: libpango-1.0-0, libpangoft2-1.0-0)
    if missing is not None:
        return missing
    if not _cjk_font():
        return f"no CJK font '{FONT}' here (Debian: fonts-wqy-microhei)"
    return None


if (_missing := _cannot_print()) is not None:
    if os.environ.get("CI") == "true":  # .ci/run installs both: their absence fails there
        pytest.fail(_missing, pytrace=False)
    pytest.skip(_missing, allow_module_level=True)


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
    _do(app, case.id, Act.EXTEND, str(unit.head), days=30,
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
    assert app.files.get(notice.key) == notice.pdf
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


# Accusations (检举控告) and whom each accuses, registered by one who may register it: the
# team head; the head of the discipline office (the confidential letters desk of the
# others); the petition office's head (the letters desk of every other petition).
ACCUSED = {
    "zhang.hua": (ACCUSATION, "qian.hui"),
    "xu.jing": ({**ACCUSATION, "accused_persons": ["xu.jing"], "concerns_unit": None},
                "qian.hui"),
    "li.ming": ({**ACCUSATION, "accused_persons": ["li.ming"], "concerns_unit": None},
                "xu.jing"),
}


def _accusation(app: App, accused: str = "zhang.hua") -> str:
    """The accusation against ``accused`` as XF-A, accepted (its acceptance notice due);
    its case id."""
    data, clerk = ACCUSED[accused]
    case = cases.register(app, data, registration_no="XF-A", actor=clerk)
    case = cases.route_and_assign(app, case.id, actor="intake")
    _do(app, case.id, Act.ACK, str(case.responder))
    _do(app, case.id, Act.ACCEPT, str(case.responder), reason="")
    return case.id


def _case(app: App, case_id: str) -> Any:
    with app.uow() as uow:
        return uow.cases.get(case_id, lock=False)


def _nothing_printed(app: App, *case_ids: str) -> None:
    """No print recorded on the cases' timelines, and no file written."""
    with app.uow() as uow:
        for case_id in case_ids:
            assert not [r for r in uow.events_of(case_id) if r.type == "NoticePrinted"]
    assert not (app.settings.home / "files" / "notices").exists()


def _refusal(app: App, ref: str, actor: str) -> CaseNotFound:
    with pytest.raises(CaseNotFound) as refused:
        print_notice(app, ref, "acceptance", actor)
    return refused.value


@pytest.mark.parametrize("accused", sorted(ACCUSED))
def test_the_accused_are_answered_as_for_an_unknown_number(app, accused):
    case_id = _accusation(app, accused)
    unknown = _refusal(app, "XF-NONE", accused)
    for ref in ("XF-A", case_id):  # by its number, by its id: the one asked for, named
        assert str(_refusal(app, ref, accused)) == str(unknown).replace("XF-NONE", ref)
    with pytest.raises(CaseNotFound):
        printable(app, "XF-A", accused)
    _nothing_printed(app, case_id)


def test_anyone_outside_the_case_is_answered_as_for_an_unknown_number(app):
    case_id, _ = _through_review(app)
    unknown = _refusal(app, "XF-NONE", "yang.fan")
    outside = _refusal(app, "XF-N-1", "yang.fan")  # finance: not the case's
    assert str(outside) == str(unknown).replace("XF-NONE", "XF-N-1")
    _nothing_printed(app, case_id)


@pytest.mark.skipif(_cannot_print() is not None, reason=str(_cannot_print()))
def test_a_confidential_desk_outside_the_cases_chain_still_prints_its_letters(app):
    """The desk an office names for accusations' letters (here a discipline clerk who is
    not in the case's chain) prints them, as the outbox sends it the letters to post."""
    notify = dataclasses.replace(app.office.notify, confidential_letters_to="dong.xin")
    desk = dataclasses.replace(app, office=dataclasses.replace(app.office, notify=notify),
                               installation=None, _rules={})
    case_id = _accusation(desk)
    assert sight_in(desk.tree, _case(desk, case_id), "dong.xin") is Sight.NONE
    printed = print_notice(desk, "XF-A", "acceptance", "dong.xin")
    assert desk.files.exists(printed.key) and printed.number.startswith("〔")


def test_who_sees_the_case_but_neither_handles_it_nor_posts_its_letters_is_refused(app):
    wage, _ = _through_review(app)
    accusation = _accusation(app)
    for ref, who in (("XF-N-1", "qian.hui"), ("XF-A", "li.ming")):  # the office sees them
        with pytest.raises(NotPermitted, match=f"'{who}' may not print its notices"):
            print_notice(app, ref, "acceptance", who)
        assert printable(app, ref, who) == []
    _nothing_printed(app, wage, accusation)


def test_the_cli_answers_the_accused_as_for_an_unknown_number(app, monkeypatch, capsys):
    case_id = _accusation(app)
    monkeypatch.setattr(notice_cli, "make_app", lambda: app)
    answers: list[tuple[Any, str]] = []
    for ref in ("XF-NONE", "XF-A"):
        with pytest.raises(typer.Exit) as done:
            notice_cli.print_cmd(ref, "acceptance", actor="zhang.hua")
        answers.append((done.value.exit_code, capsys.readouterr().err.replace(ref, "REF")))
    assert answers[0] == answers[1] == (2, "error: no case 'REF'\n")
    _nothing_printed(app, case_id)


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


def test_the_web_answers_the_accused_as_for_an_unknown_number(site):  # noqa: F811
    app, _, web = site
    case_id = _accusation(app)
    accused = login(web, "zhang.hua")
    token = csrf_of(accused.get("/").text)
    unknown = accused.post("/cases/XF-NONE/notices/acceptance.pdf", data={"csrf": token})
    hidden = accused.post("/cases/XF-A/notices/acceptance.pdf", data={"csrf": token})
    assert unknown.status_code == hidden.status_code == 404
    assert hidden.text == unknown.text.replace("XF-NONE", "XF-A") and "截留" not in hidden.text
    office = login(web, "li.ming")  # the office's head sees its outline, and prints nothing
    seen = office.get("/cases/XF-A")
    assert seen.status_code == 200 and 'id="notices"' not in seen.text
    refused = office.post("/cases/XF-A/notices/acceptance.pdf", data={"csrf": csrf_of(seen.text)})
    assert refused.status_code == 403 and "may not print" in refused.text
    _nothing_printed(app, case_id)
