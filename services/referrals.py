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
from domain.errors import RuleViolation
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


def hand_down(app: App, uow: UnitOfWork, case: Case, office_id: str, actor: str,
              now: dt.datetime) -> str:
    """交办: ``case`` handed down to ``office_id``, an office below its own, as a case
    there (registered now, routed by that office's rules). Returns its id."""
    below = app.tree.subtree(case.office)
    if office_id == case.office or office_id not in below:
        raise RuleViolation(case.ref, f"office '{office_id}' is not below office "
                            f"'{case.office}' (below it: "
                            f"{', '.join(o for o in below if o != case.office) or 'none'})")
    office = app.offices.office(office_id)
    petition = dataclasses.replace(case.petition, received_at=now, concerns_unit=None,
                                   repeat_of=None, subject=f"交办：{case.petition.subject}"[:200])
    opened = Case.register(case_id=f"p-{uuid.uuid4().hex[:12]}",
                           registration_no=f"{case.registration_no}-JB-{office_id}"[:64],
                           petition=petition, policy=office.policies.in_force(now.date()),
                           actor=actor, now=now)
    opened.office = office_id
    opened.open_handed_down((case.office, case.id, case.ref), actor=actor, now=now)
    case.hand_down((office_id, opened.id), actor=actor, now=now)
    uow.cases.add(opened)
    return opened.id


def decided_up(uow: UnitOfWork, case: Case, outcome: Outcome, summary: str,
               resolution: Resolution | None, actor: str, now: dt.datetime) -> str | None:
    """``case`` was just decided: if it is a review (or re-review) of a case below, that
    case gets the opinion; if it was handed down from above, the case above hears of the
    decision. Returns that case's id, or None."""
    upper = case.links.get("handed_down_from")
    if upper:
        above = uow.cases.get(upper)
        above.came_back(outcome, summary=summary, actor=actor, now=now,
                        below=(case.office, case.id))
        return above.id
    for link, decide in (("review_of", Case.decide_review),
                         ("re_review_of", Case.decide_re_review)):
        origin_id = case.links.get(link)
        if origin_id:
            origin = uow.cases.get(origin_id)
            decide(origin, outcome, summary=summary, actor=actor, now=now,
                   resolution=resolution, above=(case.office, case.id))
            return origin.id
    return None
