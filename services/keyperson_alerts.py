"""The office's alert that a holder of a key person (四包一) is barred: in the accused set
of an accusation among the person's matters, so they see nothing of the one they hold
(``domain.keypersons``). Raised when the person is named with such a holder (chosen by
who may not read that accusation, so not refused: see ``domain.keypersons``), and when
the petition office next loads the register after a holder became barred; once per
holder and barring matters.

The alert goes to the first of the office's ``alert_to``, its head, the confidential
letters desk, the mine head and the party secretary who may see the material of every
matter of the person: told who is barred, they can have the holders reassigned. When
nobody of them may, the first who may be told of the barring matters is told only that
the holders must be reassigned, naming no holder (who is barred would say whom the
person accused)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

import pendulum

from domain.case import Case
from domain.keypersons import KeyPerson, barred_holders
from domain.offices import sight_in
from domain.permissions import Sight
from notifications.privacy import first_allowed
from services.bootstrap import App
from storage.ports import UnitOfWork

CODE = "KeyPersonHolderBarred"
log = logging.getLogger(__name__)


def alert_barred(app: App, uow: UnitOfWork, kp: KeyPerson, matters: list[Case],
                 now: dt.datetime, actor: str) -> str | None:
    """Queue the alert that a holder of ``kp`` is barred by one of ``matters`` (every
    matter of the person), if one is and it was not queued already; who is told (never
    ``actor``, who named the holders or loaded the register, unless they may read every
    matter: then they read the accusation anyway)."""
    org = app.tree.org(kp.office)
    barred = barred_holders(org, kp.holders, matters)
    if not barred:
        return None
    office = app.offices.offices.get(kp.office, app.office)
    candidates = [office.notify.alert_to, org.office_head, office.notify.confidential_letters_to,
                  org.mine_head, org.party_secretary]
    to = next((p for p in candidates if p and p in org.people and all(
        sight_in(app.tree, c, p) >= Sight.MATERIAL for c in matters)), None)
    cases = sorted({c.id for cs in barred.values() for c in cs})
    if to is not None:
        names = "、".join(org.person(p).name for p in sorted(barred))
        reason = (f"重点人员{kp.petitioner.name}的包案人员{names}涉及其信访事项，"
                  "不能包保此人，也已看不到此重点人员。请核定后由信访办重新指定包案人员。")
    else:
        everyone = [c for cs in barred.values() for c in cs]
        to = next((p for p in candidates if p and p != actor and all(
            first_allowed(c, org, [p]) for c in everyone)), None)
        reason = (f"重点人员{kp.petitioner.name}的包案人员须重新核定，请由能查看其全部"
                  "信访事项的领导指定。")
    if to is None:
        log.warning("key person %s: a holder is barred and nobody may be told", kp.id)
        return None
    # once per holders and matters barring them; the key names neither (the outbox lists)
    what = hashlib.sha256(f"{sorted(barred)}{cases}".encode()).hexdigest()[:16]
    key = f"alert:keyperson:{kp.id}:barred:{what}:{to}"
    uow.queue([{"key": key, "case_id": f"keyperson:{kp.id}", "kind": "alert",
                "recipient": to, "urgent": 1, "queued_at": now,
                "payload": {"at": pendulum.instance(now).isoformat(),
                            "alert": {"code": CODE, "ref": "", "reason": reason}}}])
    return to
