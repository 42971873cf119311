"""The petitioner's own door (网上信访): submitting a petition online, and seeing and acting
on one's own cases, as the petitioner who proved their mobile number (``door_codes``).

Submitting registers the petition as channel ``online`` by the door's system actor
(``domain.permissions.ONLINE_REGISTRAR``, 网上信访: it may register and nothing else), then
routes it like any other (or into the triage queue) through the same ``intake``; its scans
are attached as the petitioner (``domain.door``) under the office's smaller cap. The same
matter sent again (the same number, the same subject, the same day, China time) is the same
registration number, so it is answered with the case already there, never a second one,
also when both arrive at once (the number's unique constraint decides).

The petitioner's cases are those whose petitioner gave the verified number
(``domain.door.is_theirs``); an accusation shows its stage only. Rating and asking for a
review are the counter's use case (``services.cases.act_and_wake``) with the petitioner as
actor and channel ``online``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from domain.acts import Act, acts_in
from domain.attachments import MB
from domain.case import REGISTRATION_NO, Case
from domain.door import ONLINE_REGISTRAR, PETITIONER_ACTOR, is_theirs
from domain.errors import CaseNotFound, DuplicateRegistration, PetitionError
from domain.instants import local, local_date
from domain.notices import KINDS
from domain.persons import normal_text
from services import attachments
from services.bootstrap import App
from services.cases import Acted, ActRequest, act_and_wake
from services.door_codes import DoorClosed
from services.intake import intake
from services.ports import Runs
from services.progress import installation_mac_key, query_code, shown_dates

VIA = "online"
MAX_FILES = 5
OWN_ACTS = (Act.RATE, Act.REQUEST_REVIEW, Act.REQUEST_RE_REVIEW)
# The written answers, latest last: the one the petitioner reads is the last printed.
DECISIONS = ("decision", "review", "re_review")


class Refused(PetitionError):
    """A submission refused as it stands (one line, in Chinese, naming what to put right)."""


@dataclass(frozen=True)
class Upload:
    name: str
    stream: BinaryIO


@dataclass(frozen=True)
class Submitted:
    ref: str
    code: str
    linked: bool  # the same matter was already there: no second case
    stage: str
    files: int


def door_ref(app: App, number: str, subject: str) -> str:
    """The registration number of a matter sent online: the day (China time) and an HMAC
    of the number and the subject, so the same matter the same day is the same number."""
    now = app.clock.now()
    day = local(now).format("YYYYMMDD")
    matter = f"door:{number}:{normal_text(subject)}:{day}"
    mac = hmac.new(installation_mac_key(app), matter.encode(),
                   hashlib.sha256).hexdigest()[:10].upper()
    return f"XF-{day}-W{mac}"


def _data(app: App, number: str, form: Mapping[str, str]) -> dict[str, object]:
    def text(name: str) -> str:
        return form.get(name, "").strip()

    online = app.office.online
    missing = [label for name, label in (("name", "姓名"), ("category", "类别"),
                                        ("subject", "事项标题"), ("content", "具体内容"))
               if not text(name)]
    if online.id_number_required and not text("id_number"):
        missing.append("身份证号码")
    if missing:
        raise Refused(f"请填写：{'、'.join(missing)}")
    petitioner = {"name": text("name"), "phone": number}
    if text("id_number"):
        petitioner["id_number"] = text("id_number")
    data: dict[str, object] = {"petitioner": petitioner, "channel": VIA,
                               "category": text("category"), "subject": text("subject"),
                               "content": text("content")}
    if text("concerns_unit"):
        data["concerns_unit"] = text("concerns_unit")
    if data["category"] == "accusation":  # whom it accuses, by name: kept from them
        named = text("accused_persons").replace("，", ",").replace("、", ",")
        data["accused_persons"] = [n.strip() for n in named.split(",") if n.strip()]
    return data


def precheck(app: App, uploads: Sequence[Upload]) -> None:
    """Refuse the files before anything is registered: too many, or one the office would
    not take online (type by content; its smaller cap, ``online.max_mb``)."""
    if len(uploads) > MAX_FILES:
        raise Refused(f"附件最多 {MAX_FILES} 个")
    files = app.office.files
    policy = dataclasses.replace(files, max_bytes=min(files.max_bytes,
                                                      app.office.online.max_mb * MB))
    for u in uploads:
        attachments.judge(policy, u.stream, f"online ({u.name})")
        u.stream.seek(0)


def submit(app: App, number: str, form: Mapping[str, str], uploads: Sequence[Upload]
           ) -> tuple[Case, Submitted]:
    """Register the petition of ``form`` for the petitioner who verified ``number``
    (see the module); ``Refused``/``PetitionError`` naming what is wrong, nothing stored."""
    if not app.office.online.enabled:
        raise DoorClosed("this office takes no petitions online")
    data = _data(app, number, form)
    precheck(app, uploads)
    ref = door_ref(app, number, str(data["subject"]))
    linked = _existing(app, ref) is not None
    try:
        case = intake(app, data, registration_no=ref, actor=ONLINE_REGISTRAR, via=VIA)
    except DuplicateRegistration:  # sent twice at once, or under another name
        case = _existing(app, ref)  # type: ignore[assignment]
        if case is None or not is_theirs(case, number):
            raise
        linked = True
    files = [attachments.attach(app, case.id, u.stream, name=u.name, actor=PETITIONER_ACTOR,
                                via=VIA, petitioner_phone=number) for u in uploads]
    return case, Submitted(case.ref, query_code(app, case), linked, case.stage.label,
                           sum(not f.already for f in files))


def _existing(app: App, ref: str) -> Case | None:
    with app.uow() as uow:
        try:
            return uow.cases.get(ref, lock=False)
        except CaseNotFound:
            return None


@dataclass(frozen=True)
class MyCase:
    ref: str
    stage: str
    accusation: bool
    category: str
    subject: str          # "" for an accusation
    received: str         # local date
    dates: list[tuple[str, str, str]]  # (what, due date, done date or "")
    acts: list[tuple[str, str]]        # (act id, label) they may take now
    decision: str         # the printed answer's notice kind ("": none printed yet)


def my_cases(app: App, number: str) -> list[MyCase]:
    """The verified petitioner's cases, the latest first (see the module)."""
    with app.uow() as uow:
        found = [c for c in uow.phone_cases(number) if is_theirs(c, number)]
    return [_mine(app, c) for c in found]


def _mine(app: App, case: Case) -> MyCase:
    received = local_date(case.petition.received_at).isoformat()
    p = case.petition
    if p.is_accusation:
        return MyCase(case.ref, case.stage.label, True, p.category.label, "", "", [], [], "")
    dates = shown_dates(app, case, app.clock.now())
    acts = [(a.value, a.label) for a in acts_in([case.stage]) if a in OWN_ACTS]
    printed = [k for k in DECISIONS if app.files.exists(_notice_key(case, k))]
    return MyCase(case.ref, case.stage.label, False, p.category.label, p.subject, received,
                  dates, acts, printed[-1] if printed else "")


def _notice_key(case: Case, kind: str) -> str:
    """Where ``services.notices`` keeps the printed notice (by number, else by id)."""
    folder = case.ref if REGISTRATION_NO.fullmatch(case.ref) else case.id
    return f"notices/{folder}/{kind}.pdf"


def decision_pdf(app: App, number: str, ref: str) -> tuple[str, bytes]:
    """The written answer the office printed for the petitioner's case ``ref`` (its title
    and PDF); ``CaseNotFound`` when the case is not theirs, is an accusation or has no
    printed answer yet."""
    with app.uow() as uow:
        case = uow.cases.get(ref, lock=False)
    if not is_theirs(case, number) or case.petition.is_accusation:
        raise CaseNotFound(ref)
    mine = _mine(app, case)
    if not mine.decision:
        raise CaseNotFound(ref)
    return KINDS[mine.decision].title, app.files.get(_notice_key(case, mine.decision))


def take(app: App, runs: Runs, number: str, ref: str, act: str, *, rating: str = "",
         reason: str = "") -> Acted:
    """The petitioner's own act (``rate``, ``request_review``, ``request_re_review``) on
    their case ``ref``, through the counter's use case (committed, the case's run woken)."""
    chosen = next((a for a in OWN_ACTS if a.value == act), None)
    if chosen is None:
        raise Refused("不能办理此项")
    req = ActRequest(chosen, PETITIONER_ACTOR, reason=reason.strip(),
                     rating=rating or None, via=VIA, petitioner_phone=number)
    return act_and_wake(app, ref, req, runs)
