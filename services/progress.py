"""办理进度查询: a petitioner looks up their case with its registration number and the query
code they were given at intake (on the acceptance notice and its SMS too), on a public page.

The code is derived, not stored: eight digits of an HMAC of the case's id under the
installation's key (``PETITIONS_QUERY_KEY``, else ``HOME/query-key``), so the notices sent
days later carry the same code and the database holds nothing to steal. A look-up shows the
case's stage and the dates that concern the petitioner, nothing else: no unit, no staff
name, no content; of an accusation (检举控告) only its stage. A wrong number and a wrong code
get the same answer. After ``PER_CASE`` failures for one number, or ``PER_CLIENT`` from one
address, within ``WINDOW``, every look-up under it is refused until the window has passed,
the right code included: eight digits are not guessed at five a quarter-hour.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from dataclasses import dataclass

from domain.case import Case
from domain.errors import CaseNotFound, PetitionError
from domain.instants import local_date
from services.bootstrap import App
from storage.audit import installation_key

KEY_ENV, KEY_FILE = "PETITIONS_QUERY_KEY", "query-key"
PER_CASE, PER_CLIENT = 5, 20
WINDOW = dt.timedelta(minutes=15)
# The deadlines a petitioner is told of (their own clocks), in the order of a case.
SHOWN = {"acceptance_notice": "受理告知", "handling": "办理（答复）", "review_request": "申请复查",
         "review_decision": "复查答复", "re_review_request": "申请复核",
         "re_review_decision": "复核答复"}


class TooManyLookups(PetitionError):
    """Refused for a while: too many wrong codes for this number or from this address."""


@dataclass(frozen=True)
class Progress:
    ref: str
    stage: str
    received: str  # local date
    dates: list[tuple[str, str, str]]  # (what, due date, done date or "")


def query_code(app: App, case: Case) -> str:
    """The case's eight-digit query code (see the module)."""
    key = installation_key(app.settings.home, os.environ, KEY_ENV, KEY_FILE)
    digest = hmac.new(key, f"query-code:{case.id}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**8:08d}"


def look_up(app: App, ref: str, code: str, client: str) -> Progress:
    """The progress of case ``ref`` for whoever holds its ``code``. ``CaseNotFound`` for a
    wrong number or code alike; ``TooManyLookups`` while refused (see the module)."""
    now = app.clock.now()
    ref, code = ref.strip()[:64], code.strip()[:16]
    keys = [f"ref:{ref}", f"ip:{client}"[:128]]
    with app.uow() as uow:
        if (uow.lookup_failures(keys[0], now - WINDOW) >= PER_CASE
                or uow.lookup_failures(keys[1], now - WINDOW) >= PER_CLIENT):
            raise TooManyLookups(ref, "too many wrong codes: try again in 15 minutes")
        try:
            case = uow.cases.get(ref, lock=False) if ref else None
        except CaseNotFound:
            case = None
        ok = case is not None and case.registration_no == ref and hmac.compare_digest(
            query_code(app, case), code)
        uow.record_lookup(keys, now, ok)
        uow.commit()
    if not ok or case is None:
        raise CaseNotFound(ref or "?")
    return _progress(app, case, now)


def _progress(app: App, case: Case, now: dt.datetime) -> Progress:
    received = local_date(case.petition.received_at).isoformat()
    if case.petition.is_accusation:  # its stage, nothing more
        return Progress(case.ref, case.stage.label, received, [])
    views = {v.kind.value: v for v in case.deadlines(app.rules_for(case), now)}
    dates = []
    for kind, label in SHOWN.items():
        view = views.get(kind)
        if view is not None:
            done = local_date(view.closed_at).isoformat() if view.closed_at else ""
            dates.append((label, view.due_date.isoformat(), done))
    return Progress(case.ref, case.stage.label, received, dates)
