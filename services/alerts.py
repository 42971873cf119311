"""Alarms to the office: what the engine could not do by itself (a rung that could not fire,
a petition no rule could route, a lifecycle run that had to be brought back), sent at once
(urgent) to whoever of the office may be told of the case: never anyone it accuses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum

from domain.case import Case
from notifications.privacy import first_allowed
from services.bootstrap import App
from storage.ports import UnitOfWork


def alert_recipient(app: App, case: Case | None) -> str | None:
    """``notifications.alert_to``, or where that person may not be told of ``case``, the
    petition office's head, the confidential letters desk, the mine head or the party
    secretary: the first who may. None when no ``alert_to`` is configured."""
    office = app.office_of(case) if case is not None else app.office
    if not office.notify.alert_to:
        return None
    return first_allowed(case, office.org, [
        office.notify.alert_to, office.org.office_head, office.notify.confidential_letters_to,
        office.org.mine_head, office.org.party_secretary])


def raise_alarm(app: App, uow: UnitOfWork, case: Case, code: str, key: str,
                now: dt.datetime, **facts: Any) -> str | None:
    """Queue the alarm ``code`` about ``case`` (once per ``key``); who was told, if anyone.
    ``facts`` go to the template (``notifications/templates/<lang>/alert.txt``)."""
    to = alert_recipient(app, case)
    if to is None:
        return None
    uow.queue([{"key": f"alert:{case.id}:{key}:{to}", "case_id": case.id, "kind": "alert",
                "recipient": to, "urgent": 1, "queued_at": now,
                "payload": {"at": pendulum.instance(now).isoformat(),
                            "alert": {"code": code, "ref": case.ref, **facts}}}])
    return to
