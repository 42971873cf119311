"""办理进度查询: a petitioner looks up their case with its registration number and the query
code they were given at intake (on the acceptance notice and its SMS too), on a public page.

The code is derived, not stored: eight digits of an HMAC of the case's id under the
installation's key (``PETITIONS_QUERY_KEY``, else ``HOME/query-key``; on PostgreSQL the
variable is required, ``services.bootstrap``, so every replica and worker derives the same
codes). A look-up shows the case's stage and the dates that concern the petitioner, nothing
else: no unit, no staff name, no content; of an accusation (检举控告) only its stage.

A wrong number and a wrong code get the same answer, in the same time: the number is looked
up by an index either way and an HMAC is computed either way. Anything but eight ASCII
digits is a wrong code, and anything but a registration number's characters no number.
Failures are counted under the number (``PER_CASE``), the client's address (``PER_CLIENT``;
an IPv6 client's /64; as the web server sees it: behind a proxy, only the proxy's
X-Forwarded-For is believed, ``PETITIONS_PROXY_IPS``) and all look-ups together
(``PER_ALL``). Past the number's or the address's cap, every look-up under it is refused
until ``WINDOW`` has passed, the right code included: eight digits are not guessed at five
a quarter-hour. Past the cap in all (many addresses guessing across many numbers), an
address that has failed once is refused, and one that has not keeps its look-ups: a
guesser gets no second try, and a crowd of guessers does not lock the page for every
petitioner. The count and the record are one step (``gate``), so parallel guesses cannot
slip past the count. The price: anyone may lock one number's look-up for a quarter-hour
with five wrong codes (the petitioner is told to try later; their case is untouched), and
N guessing addresses get N more guesses a quarter-hour past the cap in all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

from domain.case import REGISTRATION_NO, Case
from domain.errors import CaseNotFound, PetitionError
from domain.instants import local_date
from services.bootstrap import QUERY_KEY_ENV, App
from storage.audit import installation_key

KEY_ENV, KEY_FILE = QUERY_KEY_ENV, "query-key"
PER_CASE, PER_CLIENT, PER_ALL = 5, 20, 500
WINDOW = dt.timedelta(minutes=15)
CODE = re.compile(r"[0-9]{8}")
# The deadlines a petitioner is told of (their own clocks), in the order of a case.
SHOWN = {"acceptance_notice": "受理告知", "handling": "办理（答复）", "review_request": "申请复查",
         "review_decision": "复查答复", "re_review_request": "申请复核",
         "re_review_decision": "复核答复"}
_KEYS: dict[tuple[Path, str], bytes] = {}


class TooManyLookups(PetitionError):
    """Refused for a while: too many wrong codes for this number, from this address, or
    in all."""


@dataclass(frozen=True)
class Progress:
    ref: str
    stage: str
    received: str  # local date ("" for an accusation: its stage alone)
    dates: list[tuple[str, str, str]]  # (what, due date, done date or "")


def installation_mac_key(app: App) -> bytes:
    """The installation's query key, read once per process."""
    cached = (app.settings.home, os.environ.get(KEY_ENV, ""))
    if cached not in _KEYS:
        _KEYS[cached] = installation_key(app.settings.home, os.environ, KEY_ENV, KEY_FILE)
    return _KEYS[cached]


def _code_of(key: bytes, case_id: str) -> str:
    digest = hmac.new(key, f"query-code:{case_id}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**8:08d}"


def query_code(app: App, case: Case) -> str:
    """The case's eight-digit query code (see the module)."""
    return _code_of(installation_mac_key(app), case.id)


def look_up(app: App, ref: str, code: str, client: str) -> Progress:
    """The progress of case ``ref`` for whoever holds its ``code``. ``CaseNotFound`` for a
    wrong number or code alike; ``TooManyLookups`` while refused (see the module)."""
    now = app.clock.now()
    ref, code = ref.strip(), code.strip()
    number = ref if REGISTRATION_NO.fullmatch(ref) else ""  # NUL, '/', 200 characters: none
    keys = [f"ref:{number or '?'}", f"ip:{client_of(client)}"[:128], "all"]
    key = installation_mac_key(app)
    with app.uow() as uow:
        uow.lookups.gate()
        failed = uow.lookups.failures(keys, now - WINDOW)
        by_number, by_client, in_all = (failed.get(k, 0) for k in keys)
        if by_number >= PER_CASE or by_client >= PER_CLIENT \
                or (in_all >= PER_ALL and by_client > 0):
            raise TooManyLookups(ref[:64], "too many wrong codes: try again in 15 minutes")
        case_id = uow.lookups.case_id(number) if number else None
        expected = _code_of(key, case_id or f"no such case {ref}")  # the same work either way
        ok = hmac.compare_digest(expected.encode(), code.encode()) \
            if case_id is not None and CODE.fullmatch(code) else False
        case = uow.cases.get(case_id, lock=False) if ok and case_id is not None else None
        uow.lookups.record(keys, now, ok)
        uow.commit()
    if case is None:
        raise CaseNotFound(number or "?")
    return _progress(app, case, now)


def client_of(address: str) -> str:
    """Whom a look-up is counted against: an IPv4 address, or an IPv6 address's /64 (one
    subscriber's network holds millions of addresses)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def shown_dates(app: App, case: Case, now: dt.datetime) -> list[tuple[str, str, str]]:
    """What a petitioner is told of ``case``'s deadlines (``SHOWN``): each one's label, due
    date and the date it was met ("" while open) — local dates, ISO."""
    views = {v.kind.value: v for v in case.deadlines(app.rules_for(case), now)}
    dates = []
    for kind, label in SHOWN.items():
        view = views.get(kind)
        if view is not None:
            done = local_date(view.closed_at).isoformat() if view.closed_at else ""
            dates.append((label, view.due_date.isoformat(), done))
    return dates


def _progress(app: App, case: Case, now: dt.datetime) -> Progress:
    received = local_date(case.petition.received_at).isoformat()
    if case.petition.is_accusation:  # its stage, nothing more
        return Progress(case.ref, case.stage.label, "", [])
    return Progress(case.ref, case.stage.label, received, shown_dates(app, case, now))
