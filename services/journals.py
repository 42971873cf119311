"""The journals of duties that are not a case's (the practices, the quarterly review): their
names in an office of a tree, their events and their queued messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pendulum

from domain.events import DomainEvent
from domain.events import EventType as E
from domain.offices import SINGLE
from services.bootstrap import App

SYSTEM = "practices"


def message(key: str, subject: str, kind: str, to: str, at: dt.datetime,
            practice: Mapping[str, Any], rows: list[dict[str, Any]] | None = None,
            urgent: bool = False) -> dict[str, Any]:
    payload: dict[str, Any] = {"at": pendulum.instance(at).isoformat(),
                               "practice": dict(practice)}
    if rows is not None:
        payload["rows"] = rows
    return {"key": key, "case_id": subject, "kind": kind, "recipient": to,
            "urgent": int(urgent), "queued_at": at, "payload": payload}


def journal(app: App, name: str) -> str:
    """The journal ``name`` of the office ``app`` acts in: an office of a tree keeps its
    own (``mine-a/zero-report:2026-11-10``); a single office's names stay as they were."""
    return name if app.office.id == SINGLE else f"{app.office.id}/{name}"


def event(type_: E, subject: str, actor: str, now: dt.datetime, **data: Any) -> DomainEvent:
    return DomainEvent(type_, subject, actor, pendulum.instance(now).in_timezone("UTC"),
                       "practice", data)
