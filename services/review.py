"""The quarterly risk review (每季不稳定因素分析排查例会) as use cases: record the meeting
and its measures (措施/预案), mark a measure done, and remind and escalate the measures as
the practices do their duties (``check_measures``, run by the ``office-practices`` flow and
``petitions practices tick`` beside ``services.practices.tick``).

Each writes its rows, its journal ``review:<quarter>`` and its messages in one transaction,
and reads the journal first: a reminder or breach goes once however often the check runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from domain.errors import RuleViolation
from domain.events import EventType as E
from domain.instants import format_local, local_date
from domain.quarters import Quarter
from domain.review import (
    Due,
    MeasureInput,
    Meeting,
    ReviewMeasure,
    due_alerts,
    hold_meeting,
    mark_done,
)
from notifications.compose import person_name
from services.bootstrap import App
from services.journals import SYSTEM
from services.journals import event as _event
from services.journals import journal as _journal
from services.journals import message as _message
from services.supervision import check_supervisor

KIND = "review"


def subject_of(app: App, quarter: Quarter) -> str:
    """The journal (and the record's key) of ``quarter``'s review in the app's office."""
    return _journal(app, f"review:{quarter.key}")


def record_review(app: App, *, quarter: Quarter, actor: str, chair: str,
                  attendees: Sequence[str], issues: Sequence[str],
                  measures: Sequence[MeasureInput], held_on: dt.date | None = None
                  ) -> Meeting:
    """Record ``quarter``'s review: by a supervisor (the petition office, the mine's top
    team), once per quarter."""
    check_supervisor(app, actor)
    now = app.clock.now()
    subject = subject_of(app, quarter)
    stamp = local_date(now).strftime("%Y%m%d")
    ids = [f"m-{quarter.key}-{stamp}-{uuid.uuid4().hex[:4]}" for _ in measures]
    with app.uow() as uow:
        meeting = hold_meeting(app.office.org, quarter=quarter, chair=chair,
                               attendees=attendees, held_on=held_on or local_date(now),
                               issues=issues, measures=measures, recorded_by=actor, now=now,
                               ids=ids, existing=uow.reviews.meeting(subject))
        uow.reviews.add(subject, meeting)
        uow.practices.append(subject, KIND, [_event(
            E.REVIEW_RECORDED, subject, actor, now, quarter=quarter.key, chair=chair,
            attendees=list(meeting.attendees), held_on=meeting.held_on.isoformat(),
            issues=list(meeting.issues),
            measures=[{"id": m.id, "text": m.text, "kind": m.kind.value, "owner": m.owner,
                       "due": m.due.isoformat()} for m in meeting.measures])])
        uow.commit()
    return meeting


def measure_done(app: App, measure_id: str, *, by: str, note: str = "") -> ReviewMeasure:
    """Mark a measure done: by its owner or the meeting's chair, once."""
    now = app.clock.now()
    with app.uow() as uow:
        found = uow.reviews.measure(measure_id, lock=True)
        if found is None:
            raise RuleViolation(f"measure:{measure_id}", "no such review measure")
        subject, measure = found
        meeting = uow.reviews.meeting(subject)
        assert meeting is not None  # a measure is stored with its meeting
        done = mark_done(measure, meeting, by=by, note=note, now=now)
        uow.reviews.done(done)
        uow.practices.append(subject, KIND, [_event(
            E.REVIEW_MEASURE_DONE, subject, by, now, measure=done.id, note=done.note,
            due=done.due.isoformat(), state=done.state(now).value)])
        uow.commit()
    return done


def _facts(app: App, meeting: Meeting, m: ReviewMeasure) -> dict[str, Any]:
    org = app.office.org
    return {"quarter": Quarter.parse(m.quarter).label, "held_on": meeting.held_on.isoformat(),
            "chair": person_name(org, meeting.chair), "measure": m.id, "text": m.text,
            "kind": m.kind.label, "owner": person_name(org, m.owner), "due": m.due.isoformat()}


def check_measures(app: App) -> list[Due]:
    """Remind each open measure's owner ``REMIND_DAYS`` before its due date, and tell the
    owner's superior when it is still not done on it; each once (the journal says)."""
    now = app.clock.now()
    out: list[Due] = []
    prefix = _journal(app, "review:")
    with app.uow() as uow:
        open_ = [(s, m) for s, m in uow.reviews.open_measures() if s.startswith(prefix)]
        subjects = {m.id: s for s, m in open_}
        sent = [(r.data["measure"], "remind" if r.type == E.REVIEW_MEASURE_REMINDED.value
                 else "breach")
                for s in set(subjects.values()) for r in uow.practices.events(s)
                if r.type in (E.REVIEW_MEASURE_REMINDED.value, E.REVIEW_MEASURE_BREACHED.value)]
        meetings: dict[str, Meeting] = {}
        for due in due_alerts(app.office.org, [m for _, m in open_], now, sent):
            subject = subjects[due.measure.id]
            meeting = meetings.get(subject) or uow.reviews.meeting(subject)
            assert meeting is not None
            meetings[subject] = meeting
            breach = due.what == "breach"
            if not due.to:  # nobody above the owner: the chair answers for the measure
                due = dataclasses.replace(due, to=meeting.chair)
            type_ = E.REVIEW_MEASURE_BREACHED if breach else E.REVIEW_MEASURE_REMINDED
            uow.practices.append(subject, KIND, [_event(
                type_, subject, SYSTEM, now, measure=due.measure.id, recipient=due.to,
                owner=due.measure.owner, due=due.measure.due.isoformat())])
            kind = "review_measure_breach" if breach else "review_measure_reminder"
            uow.queue([_message(f"{subject}:{due.measure.id}:{due.what}", subject, kind,
                                due.to, now, _facts(app, meeting, due.measure),
                                urgent=breach)])
            out.append(due)
        uow.commit()
    return out


def meeting_of(app: App, quarter: Quarter) -> Meeting | None:
    with app.uow() as uow:
        return uow.reviews.meeting(subject_of(app, quarter))


def measure_rows(app: App, meeting: Meeting | None) -> list[dict[str, Any]]:
    """A meeting's measures as they stand now: owner, due date, done on time / late / not."""
    if meeting is None:
        return []
    now = app.clock.now()
    org = app.office.org
    return [{"id": m.id, "kind": m.kind.label, "text": m.text, "owner": m.owner,
             "owner_name": person_name(org, m.owner), "due": m.due.isoformat(),
             "state": m.state(now).value, "state_label": m.state(now).label,
             "done_at": format_local(m.done_at) if m.done_at else "",
             "done_by": person_name(org, m.done_by), "note": m.note}
            for m in meeting.measures]
