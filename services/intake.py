"""Intake (登记 → 首问负责): a petition registered and routed in the caller's own process,
whatever the entrance — the CLI, the web, the API, a promoted signal, the demo — and only
then its lifecycle run started, by case id. Nothing of the petition is handed to Prefect:
its runs carry references (``flows.engine``), never a petitioner's name or the content.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.case import Case, CaseRules
from domain.deadlines import DeadlineView
from domain.petition import Petition, petition_from_mapping
from domain.policy import DeadlinePolicy
from domain.routing import RoutingDecision, route
from services.bootstrap import App
from services.cases import register, route_and_assign
from services.config import Office


def intake(app: App, data: Mapping[str, Any], *, registration_no: str, actor: str,
           via: str = "", signal: str | None = None) -> Case:
    """Register (登记) ``data`` as ``actor``, then route it and assign its first responder
    (and the owning leader the rules require): two commits, each whole. A caller cut short
    between them leaves a registered case, which the lifecycle run routes first (its
    ``next_step``) once the reconciler starts it. Bad input, a number another petitioner's
    case holds, or a registrar who may not register it: refused, nothing stored."""
    case = register(app, data, registration_no=registration_no, actor=actor, signal=signal,
                    via=via)
    pause = app.settings.intake_pause_seconds
    if pause:  # fault injection for the reliability tests only
        time.sleep(pause)
    return route_and_assign(app, case.id, actor="intake")


@dataclass(frozen=True)
class RoutePreview:
    """Where a petition would go if registered now, and the deadlines that would start."""

    petition: Petition
    decision: RoutingDecision
    policy: DeadlinePolicy
    deadlines: list[DeadlineView]


def preview_route(office: Office, data: Mapping[str, Any], now: dt.datetime,
                  workload: Mapping[str, int], *, repeat: bool = False) -> RoutePreview:
    """Route a petition as registering it at ``now`` would, storing nothing."""
    petition = petition_from_mapping(data, received_at=now)
    decision = route(petition, office.routing, office.org, workload,
                     is_repeat=repeat or petition.repeat_of is not None)
    policy = office.policies.in_force(petition.received_at.date())
    rules = CaseRules(policy, office.calendar, office.org, office.practices.key_periods)
    at = max(now, petition.received_at)
    case = Case.register(case_id="preview", registration_no="preview", petition=petition,
                         policy=policy, actor="preview", now=at)
    case.assign(decision, actor="preview", now=at, rules=rules)
    return RoutePreview(petition, decision, policy, case.deadlines(rules, now))


