"""The written notices for the letters desk to print and post (受理告知书, 不予受理告知书,
延期告知书, 处理意见书, 复查意见书): rendered from the case and its timeline on the office's
letterhead, numbered and dated, as PDF (WeasyPrint, a CJK font), each one recorded on the
case's timeline (``NoticePrinted``: its number and the file's SHA-256).

Who may print one: the case's handlers (they see all of it) and its letters desk
(``notifications.letters_to``; for an accusation the confidential desk), from every entrance
the same check (``may_print``). Sight comes first: whoever may see nothing of the case (the
accused, the recused, anyone outside its chain; the desk too) is told there is no such case,
as for an unknown number, so a refusal never confirms that an accusation exists.

Not ``domain.offices.check_in``: printing is no act of the case (no stage, no ``Act``), and
the letters desk holds no relation to it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from domain.case import REGISTRATION_NO, Case
from domain.errors import CaseNotFound, NotPermitted
from domain.instants import local_date
from domain.notices import NoticeKind, due_notices, notice_kind, notice_number
from domain.offices import sight_in
from domain.outcomes import Outcome
from domain.permissions import Sight
from notifications.compose import letters_desk
from services.bootstrap import App
from services.cases import commit
from services.pdf import html_to_pdf
from services.progress import query_code
from storage.chain import AuditRow

FONT = "WenQuanYi Micro Hei"  # fonts-wqy-microhei (README: set up)
_ENV = Environment(loader=PackageLoader("services", "templates"), undefined=StrictUndefined,
                   autoescape=select_autoescape(("html",)), trim_blocks=True,
                   lstrip_blocks=True)


@dataclasses.dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    number: str
    html: str
    pdf: bytes
    key: str  # in the file store (``App.files``): HOME/files or the shared object store
    where: str  # ... as a person finds it (a path, or s3://bucket/key)


def may_print(app: App, case: Case, ref: str, person: str) -> None:
    """The case's handlers and its letters desk may print its notices. ``CaseNotFound``
    (``ref`` as asked for, as for an unknown number) for whoever may see nothing of it,
    then ``NotPermitted`` for anyone else who sees it."""
    seen, desk = sight_in(app.tree, case, person), _desk(app, case)
    if seen is Sight.NONE and person != desk:  # the desk is never of the accused set
        raise CaseNotFound(ref)
    if seen is not Sight.FULL and person != desk:
        raise NotPermitted(case.ref, f"'{person}' may not print its notices: its handlers "
                           "and its letters desk do")


def _desk(app: App, case: Case) -> str | None:
    """Who prints and posts the case's letters (``notifications.compose.letters_desk``)."""
    office = app.office_of(case)
    notify = office.notify
    return letters_desk(case, office.org, notify.letters_to, notify.confidential_letters_to,
                        office.routing.accusation_unit)


def _last(history: list[AuditRow], type_: str) -> dict[str, Any]:
    found = [r for r in history if r.type == type_]
    return dict(found[-1].data) if found else {}


def _day(value: dt.datetime) -> str:
    d = local_date(value)
    return f"{d.year}年{d.month}月{d.day}日"


def render_html(app: App, case: Case, history: list[AuditRow], kind: NoticeKind) -> str:
    """The notice's page (HTML, for WeasyPrint): what the snapshot test compares."""
    office = app.office_of(case)
    now = app.clock.now()
    at = {r.type: r.at for r in history}
    event = _last(history, kind.after.value)
    views = {v.kind.value: v for v in case.deadlines(app.rules_for(case), now)}

    def due(clock: str) -> str:
        v = views.get(clock)
        return f"{v.due_date.year}年{v.due_date.month}月{v.due_date.day}日" if v else ""

    outcome = event.get("outcome")
    unit = office.org.units.get(case.unit or "")
    return _ENV.get_template("notice.html").render(
        font=FONT, office=office.name, title=kind.title, kind=kind.id,
        number=notice_number(case, kind, local_date(now)), date=_day(now),
        name=case.petition.petitioner.name, received=_day(case.petition.received_at),
        subject=case.petition.subject, ref=case.ref, unit=unit.name if unit else "",
        accepted=_day(at[kind.after.value]) if kind.after.value in at else "",
        handling_due=due("handling"), code=query_code(app, case),
        reason=event.get("reason", ""), extended_by=event.get("by", ""),
        summary=event.get("summary", ""),
        outcome=Outcome(outcome).label if outcome else "",
        review_body=_above(app, case.office) or office.name)


def _above(app: App, office: str) -> str | None:
    """The name of the office above ``office`` (a review is decided there), if any."""
    parent = app.tree.nodes[office].parent if office in app.tree.nodes else None
    return app.tree.node(parent).name if parent else None


def print_notice(app: App, ref: str, kind: str, actor: str) -> Notice:
    """Render notice ``kind`` of case ``ref`` as PDF into the file store
    (``notices/<ref>/<kind>.pdf``: every replica reads it) and record it on the timeline;
    ``actor`` must be one who may (``may_print``): nothing is written for anyone else, and
    ``CaseNotFound`` for whoever may not see the case."""
    with app.uow() as uow:
        case = uow.cases.get(ref)
        may_print(app, case, ref, actor)
        history = uow.events_of(case.id)
        found = notice_kind(case, (r.type for r in history), kind)
        html = render_html(app, case, history, found)
        pdf = html_to_pdf(html)  # WeasyPrint: loaded by the first notice printed
        number = notice_number(case, found, local_date(app.clock.now()))
        # The number names the folder; one registered before numbers were checked, by id.
        folder = case.ref if REGISTRATION_NO.fullmatch(case.ref) else case.id
        key = f"notices/{folder}/{found.id}.pdf"
        app.files.put(key, pdf)  # the local store keeps letters its owner's alone (0600)
        case.notice_printed(found.id, number, hashlib.sha256(pdf).hexdigest(), actor=actor,
                            now=app.clock.now())
        commit(app, uow, app.clock.now())
    return Notice(found, number, html, pdf, key, app.files.where(key))


def printable(app: App, ref: str, person: str) -> list[NoticeKind]:
    """The notices ``person`` may print of case ``ref`` now (for its page to offer);
    ``CaseNotFound`` when they may see nothing of it, as for an unknown number."""
    with app.uow() as uow:
        case = uow.cases.get(ref, lock=False)
        try:
            may_print(app, case, ref, person)
        except NotPermitted:
            return []
        return due_notices(r.type for r in uow.events_of(case.id))
