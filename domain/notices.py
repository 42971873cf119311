"""The written notices the regulation requires a petitioner be sent (第二十二、三十二、三十五条):
which of them a case has reached, their titles and numbers. Pure; rendering them (PDF) is
``services/notices.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from domain.case import Case
from domain.errors import RuleViolation
from domain.events import EventType as E


@dataclass(frozen=True)
class NoticeKind:
    id: str
    title: str
    short: str  # in the number: 〔2026〕受字 XF-… 号
    after: E    # the event that calls for it


KINDS = {k.id: k for k in (
    NoticeKind("acceptance", "信访事项受理告知书", "受", E.CASE_ACCEPTED),
    NoticeKind("decline", "信访事项不予受理告知书", "不受", E.CASE_DECLINED),
    NoticeKind("extension", "信访事项延期办理告知书", "延", E.DEADLINE_EXTENDED),
    NoticeKind("decision", "信访事项处理意见书", "处", E.DECISION_ISSUED),
    NoticeKind("review", "信访事项复查意见书", "复", E.REVIEW_DECIDED),
)}


def due_notices(happened: Iterable[str]) -> list[NoticeKind]:
    """The notices a case whose events were ``happened`` (their type names) has reached,
    in the order of a case."""
    seen = set(happened)
    return [k for k in KINDS.values() if k.after.value in seen]


def notice_kind(case: Case, happened: Iterable[str], kind: str) -> NoticeKind:
    """``kind`` as a notice ``case`` has reached; else a one-line refusal naming them."""
    found = KINDS.get(kind)
    due = due_notices(happened)
    if found is None or found not in due:
        names = ", ".join(k.id for k in due) or "none yet"
        raise RuleViolation(case.ref, f"no {kind} notice for this case (it has: {names})")
    return found


def notice_number(case: Case, kind: NoticeKind, on: dt.date) -> str:
    """The notice's number (文号): the year, the kind and the case's registration number."""
    return f"〔{on.year}〕{kind.short}字 {case.ref} 号"
