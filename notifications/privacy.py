"""Who may read what: the handling chain, accusation secrecy and masked personal data."""

from __future__ import annotations

from collections.abc import Iterable

from domain.accused import accused_set
from domain.case import Case
from domain.org import OrgChart


def mask_phone(phone: str | None) -> str:
    """``13812341234`` → ``138****1234``."""
    if not phone:
        return ""
    digits = phone.strip()
    return digits[:3] + "*" * max(len(digits) - 7, 0) + digits[-4:] if len(digits) > 7 \
        else "*" * len(digits)


def mask_id(id_number: str | None) -> str:
    """``142601198001011234`` → ``1426**********1234``."""
    if not id_number:
        return ""
    s = id_number.strip()
    return s[:4] + "*" * (len(s) - 8) + s[-4:] if len(s) > 8 else "*" * len(s)


def handling_chain(case: Case, org: OrgChart) -> set[str]:
    """Who handles the case: its first responder and owning leader, and the handling unit's
    head and in-charge leader. Never anyone in the accused set (``domain.accused``)."""
    chain: set[str] = {p for p in (case.responder, case.leader) if p}
    if case.unit and case.unit in org.units:
        unit = org.units[case.unit]
        chain |= {p for p in (unit.head, unit.leader) if p}
    return chain - accused_set(org, case.petition).persons


def first_allowed(case: Case | None, org: OrgChart, candidates: Iterable[str | None]
                  ) -> str | None:
    """The first of ``candidates`` who exists and may be told of ``case`` (not in its
    accused set), or None."""
    barred = accused_set(org, case.petition).persons if case is not None else frozenset()
    return next((p for p in candidates if p and p in org.people and p not in barred), None)
