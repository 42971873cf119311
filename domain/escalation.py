"""Who an escalation rung goes to, resolved up the chain
responder → unit head → owning leader → mine head → party secretary.

A role that resolves to nobody, or to someone barred (the accused, a recused person), is
not dropped: it is recorded and the rung goes one level up. Past the top it goes to the
office's ``beyond_top`` recipients (the discipline office, the superior petition bureau);
when none of them may either, it is an error the sweeper records and alarms on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
from fractions import Fraction

import pendulum

from domain.deadlines import LAPSE, DeadlineState, DeadlineView, fire_time
from domain.errors import NoRecipient
from domain.key_periods import KeyPeriods
from domain.org import OrgChart
from domain.policy import DeadlineKind, DeadlinePolicy, Role, Rung, RungLevel


@dataclass(frozen=True)
class DueRung:
    """A rung (or a window's lapse, ``rung`` None) and when it fires (UTC)."""

    clock: str
    kind: DeadlineKind
    name: str
    rung: Rung | None
    fire_at: pendulum.DateTime
    key_period: str | None = None  # the key period (重点时期) it fires in, if any


def extra_rung_name(at: Fraction) -> str:
    """The name of a key period's extra reminder at ``at`` of the span: ``key-25%``."""
    return f"key-{float(at * 100):g}%"


def pending_rungs(views: Iterable[DeadlineView], policy: DeadlinePolicy,
                  fired: Set[tuple[str, str]],
                  key_periods: KeyPeriods = KeyPeriods()) -> list[DueRung]:
    """Rungs not yet fired on open, running clocks, soonest first. A paused clock fires
    nothing; a window has one rung, its lapse at the due instant. Inside a key period a
    duty gets the period's extra reminders, and its other rungs go one role higher."""
    out: list[DueRung] = []
    for view in views:
        if view.closed_at is not None or view.state is DeadlineState.PAUSED:
            continue
        ladder: list[Rung | None] = (
            [None] if view.kind.is_window else list(policy.ladder(view.kind)))
        if key_periods and not view.kind.is_window and ladder:
            first = ladder[0]
            role = first.role if first is not None else Role.RESPONDER
            ladder += [Rung(extra_rung_name(f), RungLevel.REMINDER, role, at=f)
                       for f in key_periods.extra_fractions()]
        for rung in ladder:
            name = rung.name if rung else LAPSE
            if (view.key, name) in fired:
                continue
            at = fire_time(view, rung)
            period = key_periods.at(at) if key_periods else None
            if rung is not None and name.startswith("key-"):
                if period is None or rung.at not in period.extra_reminders:
                    continue  # an extra reminder exists only inside a period that adds it
            elif rung is not None and period is not None and period.raise_escalation \
                    and rung.level is not RungLevel.REMINDER:
                rung = dataclasses.replace(rung, role=rung.role.above() or rung.role)
            out.append(DueRung(view.key, view.kind, name, rung, at,
                               period.name if period else None))
    return sorted(out, key=lambda d: (d.fire_at, d.clock, d.name))


@dataclass(frozen=True)
class Holders:
    """Who holds the case-bound roles."""

    unit: str | None
    responder: str | None
    leader: str | None


@dataclass(frozen=True)
class Skip:
    role: Role
    reason: str


def holder_of(role: Role, holders: Holders, org: OrgChart) -> str | None:
    """The person holding ``role`` for a case, or None."""
    if role is Role.RESPONDER:
        return holders.responder
    if role is Role.UNIT_HEAD:
        return org.unit(holders.unit).head if holders.unit else None
    if role is Role.OWNING_LEADER:
        return holders.leader
    if role is Role.MINE_HEAD:
        return org.mine_head
    if role is Role.BEYOND_TOP:
        return org.beyond_top[0] if org.beyond_top else None
    return org.party_secretary


def resolve(role: Role, holders: Holders, org: OrgChart,
            bar: Callable[[str], str | None]) -> tuple[str, Role, list[Skip]]:
    """The first person at or above ``role`` who may receive the case's messages.

    ``bar(person_id)`` says why a person may not (or None). Returns the person, the role
    they were reached as, and every role skipped on the way with the reason.
    """
    skips: list[Skip] = []
    current: Role | None = role
    while current is not None:
        person = holder_of(current, holders, org)
        if person is None:
            skips.append(Skip(current, "nobody holds this role"))
        else:
            why = bar(person)
            if why is None:
                return person, current, skips
            skips.append(Skip(current, why))
        current = current.above()
    for person in org.beyond_top:  # past the top of the chain
        why = bar(person)
        if why is None:
            return person, Role.BEYOND_TOP, skips
        skips.append(Skip(Role.BEYOND_TOP, f"{person}: {why}"))
    why = "; ".join(f"{s.role.value}: {s.reason}" for s in skips)
    raise NoRecipient(f"nobody from {role.value} up to the party secretary, nor beyond the "
                      f"top (escalation.beyond_top), may receive this escalation ({why})")
