"""Offices as a tree, the use cases' side (``domain.offices``): a review (复查) requested of
an office's decision becomes a case of the office above (linked both ways, on its own
clocks), and that case's decision comes back as the review opinion of the case below, in
the same transaction. A re-review (复核) goes one level further up; past the root the
request is refused as beyond the last internal level."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from domain.acts import Act
from domain.case import Case
from domain.offices import review_office
from domain.outcomes import Outcome, Resolution
from services.bootstrap import App
from storage.ports import UnitOfWork

_SUFFIX = {Act.REQUEST_REVIEW: ("FC", "复查申请"), Act.REQUEST_RE_REVIEW: ("FH", "复核申请")}


def refer_up(app: App, uow: UnitOfWork, case: Case, act: Act, actor: str,
             now: dt.datetime) -> tuple[str, str] | None:
    """For a review or re-review request of ``case``: the (office, case id) of the case
    opened for it a level up, or None when it is decided inside the case's office."""
    office_id = review_office(app.tree, case, act)
    if office_id is None:
        return None
    office = app.offices.office(office_id)
    suffix, title = _SUFFIX[act]
    # The office above has none of the units below: what the petition concerns is in its
    # content and in the linked case; the clocks run from the request, not the first visit.
    petition = dataclasses.replace(case.petition, received_at=now, concerns_unit=None,
                                   repeat_of=None,
                                   subject=f"{title}：{case.petition.subject}"[:200])
    opened = Case.register(case_id=f"p-{uuid.uuid4().hex[:12]}",
                           registration_no=f"{case.registration_no}-{suffix}",
                           petition=petition, policy=office.policies.in_force(now.date()),
                           actor=actor, now=now)
    opened.office = office_id
    opened.open_for_review((case.office, case.id, case.ref), actor=actor, now=now,
                           re_review=act is Act.REQUEST_RE_REVIEW)
    uow.cases.add(opened)
    return office_id, opened.id


def decided_up(uow: UnitOfWork, case: Case, outcome: Outcome, summary: str,
               resolution: Resolution | None, actor: str, now: dt.datetime) -> str | None:
    """``case`` was just decided: if it is a review (or re-review) of a case below, that
    case gets the opinion. Returns that case's id, or None."""
    for link, decide in (("review_of", Case.decide_review),
                         ("re_review_of", Case.decide_re_review)):
        origin_id = case.links.get(link)
        if origin_id:
            origin = uow.cases.get(origin_id)
            decide(origin, outcome, summary=summary, actor=actor, now=now,
                   resolution=resolution, above=(case.office, case.id))
            return origin.id
    return None
