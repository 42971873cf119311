"""Deadline policy as versioned data: time limits, the extension rule and escalation ladders.

A policy is plain data (built in, or a unit's YAML file); each case keeps the id of the
policy in force when it was registered, so a later change of rules never moves its dates.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from domain import labels
from domain.errors import ConfigError, UnknownName
from domain.fields import Fields, parse_enum
from domain.periods import Period
from domain.periods import Unit as PeriodUnit


class DeadlineKind(enum.Enum):
    """Every time limit a case can run against."""

    ACCEPTANCE_NOTICE = "acceptance_notice"
    FIRST_RESPONSE = "first_response"
    ROUTING_OBJECTION = "routing_objection"
    LEADER_ACCEPTANCE = "leader_acceptance"
    HANDLING = "handling"
    RATING = "rating"
    REVIEW_REQUEST = "review_request"
    REVIEW_DECISION = "review_decision"
    RE_REVIEW_REQUEST = "re_review_request"
    RE_REVIEW_DECISION = "re_review_decision"
    # 挂牌督办: the date a higher body requires the case done by, and the next report due to
    # it. Their due dates are set when listed (``Clock.due``), not by a policy's limit.
    LISTED = "listed"
    LISTING_REPORT = "listing_report"

    @property
    def label(self) -> str:
        return labels.DEADLINE_KINDS[self.value]

    @property
    def is_fixed(self) -> bool:
        """A due date a body outside the office sets (挂牌督办): no policy limit; its
        ladder is the policy's own if it names one, else ``FIXED_LADDERS``."""
        return self in (DeadlineKind.LISTED, DeadlineKind.LISTING_REPORT)

    @property
    def is_window(self) -> bool:
        """A window is the other party's chance (to object, rate, ask for review); when it
        ends it lapses. Every other kind is a duty of the office, and can be breached."""
        return self in _WINDOWS

    @property
    def pausable(self) -> bool:
        """Clocks that a hearing or missing material may stop (第三十四、三十六条)."""
        return self in (DeadlineKind.HANDLING, DeadlineKind.REVIEW_DECISION,
                        DeadlineKind.RE_REVIEW_DECISION)


_WINDOWS = frozenset({DeadlineKind.ROUTING_OBJECTION, DeadlineKind.RATING,
                      DeadlineKind.REVIEW_REQUEST, DeadlineKind.RE_REVIEW_REQUEST})


class Role(enum.Enum):
    """Rungs of the chain of responsibility, lowest first."""

    RESPONDER = "responder"
    UNIT_HEAD = "unit_head"
    OWNING_LEADER = "owning_leader"
    MINE_HEAD = "mine_head"
    PARTY_SECRETARY = "party_secretary"
    # Past the top of the chain: the recipients an office names for an escalation nobody in
    # the chain may receive (org.yaml ``escalation.beyond_top``: the discipline office, the
    # superior petition bureau 上级信访部门). Not itself a rung of the chain.
    BEYOND_TOP = "beyond_top"

    @property
    def label(self) -> str:
        return labels.ROLES[self.value]

    def above(self) -> Role | None:
        """The next role up the chain, or None at the top (the party secretary)."""
        chain = [r for r in Role if r is not Role.BEYOND_TOP]
        if self not in chain:
            return None
        i = chain.index(self)
        return chain[i + 1] if i + 1 < len(chain) else None


class RungLevel(enum.Enum):
    """What a rung says; it decides the event type and the message template."""

    REMINDER = "reminder"
    WARNING = "warning"
    BREACH = "breach"
    ESCALATION = "escalation"

    @property
    def label(self) -> str:
        return labels.RUNG_LEVELS[self.value]


@dataclass(frozen=True)
class Rung:
    """One step of an escalation ladder.

    Fires at ``at`` (a fraction of the period, 1 = the due instant) or ``after_due``
    (elapsed time after the due instant); goes to ``role``.
    """

    name: str
    level: RungLevel
    role: Role
    at: Fraction | None = None
    after_due: Period | None = None

    def __post_init__(self) -> None:
        if (self.at is None) == (self.after_due is None):
            raise ConfigError("a rung has exactly one of 'at' or 'after_due'", field=self.name)
        if self.at is not None and not 0 < self.at <= 1:
            raise ConfigError(f"'at' must be within (0%, 100%], got {float(self.at):.0%}",
                              field=self.name)

    def sort_key(self) -> tuple[int, Fraction, float]:
        if self.at is not None:
            return (0, self.at, 0.0)
        assert self.after_due is not None
        return (1, Fraction(1), self.after_due.as_timedelta.total_seconds())


@dataclass(frozen=True)
class Limit:
    """A time limit and where it comes from (article, or the unit's own rule)."""

    period: Period
    basis: str


@dataclass(frozen=True)
class ExtensionRule:
    """How far, how often and by whom a limit may be extended (第三十四条)."""

    applies_to: frozenset[DeadlineKind]
    max_count: int
    max_period: Period
    approver_role: Role
    basis: str


@dataclass(frozen=True)
class DeadlinePolicy:
    """One version of the time limits a case is handled under."""

    id: str
    title: str
    effective_from: dt.date
    limits: Mapping[DeadlineKind, Limit]
    extension: ExtensionRule
    ladders: Mapping[DeadlineKind, tuple[Rung, ...]]
    notes: tuple[str, ...] = field(default=())

    def limit(self, kind: DeadlineKind) -> Limit:
        return self.limits[kind]

    def ladder(self, kind: DeadlineKind) -> tuple[Rung, ...]:
        """The rungs of ``kind``; a window has none (it lapses instead)."""
        if kind.is_window:
            return ()
        return self.ladders.get(kind) or FIXED_LADDERS.get(kind, ())


def _fixed_ladders() -> dict[DeadlineKind, tuple[Rung, ...]]:
    # A listing body's date is not the office's to move: remind early, warn the unit head,
    # and past the date tell the owning leader, then the mine head.
    d = DeadlineKind
    return {
        d.LISTED: (Rung("listed-remind", RungLevel.REMINDER, Role.RESPONDER, at=Fraction(1, 2)),
                   Rung("listed-warn", RungLevel.WARNING, Role.UNIT_HEAD, at=Fraction(4, 5)),
                   Rung("listed-breach", RungLevel.BREACH, Role.OWNING_LEADER, at=Fraction(1)),
                   Rung("listed-escalate", RungLevel.ESCALATION, Role.MINE_HEAD,
                        after_due=Period(1, PeriodUnit.DAYS))),
        d.LISTING_REPORT: (
            Rung("report-remind", RungLevel.REMINDER, Role.RESPONDER, at=Fraction(4, 5)),
            Rung("report-breach", RungLevel.BREACH, Role.UNIT_HEAD, at=Fraction(1))),
    }


# The ladders of the fixed-date clocks when a policy names none (``escalation.listed``).
FIXED_LADDERS: Mapping[DeadlineKind, tuple[Rung, ...]] = _fixed_ladders()


# --- reading policies from data ---------------------------------------------------------

_POLICY_FIELDS = ("id", "title", "extends", "effective_from", "limits", "extension",
                  "escalation", "notes")


def _parse_at(value: object, where: str) -> Fraction:
    text = str(value).strip()
    try:
        if text.endswith("%"):
            return Fraction(text[:-1].strip()) / 100
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ConfigError(f"expected a percentage such as '80%', got {value!r}",
                          field=where) from None


def _parse_rung(path: str, data: object) -> Rung:
    f = Fields(data, path, ("name", "level", "to", "at", "after_due"))
    at = _parse_at(f.raw("at"), f.at("at")) if f.has("at") else None
    after = Period.parse(f.raw("after_due"), f.at("after_due")) if f.has("after_due") else None
    if at is None and after is None:
        raise ConfigError("a rung needs 'at' (e.g. '80%') or 'after_due' (e.g. {days: 3})",
                          field=path)
    try:
        return Rung(name=f.text("name"), level=parse_enum(RungLevel, f.raw("level"), f.at("level")),
                    role=parse_enum(Role, f.raw("to"), f.at("to")), at=at, after_due=after)
    except ConfigError as e:
        raise ConfigError(e.reason, field=path) from None


def _parse_ladder(path: str, data: object) -> tuple[Rung, ...]:
    if not isinstance(data, list) or not data:
        raise ConfigError("expected a non-empty list of rungs", field=path)
    rungs = tuple(sorted((_parse_rung(f"{path}[{i}]", r) for i, r in enumerate(data)),
                         key=Rung.sort_key))
    names = [r.name for r in rungs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"rung name '{dupes[0]}' is used twice", field=path)
    return rungs


def _kind(value: str, where: str) -> DeadlineKind:
    return parse_enum(DeadlineKind, value, where)


def policy_from_mapping(data: object, base: DeadlinePolicy | None = None) -> DeadlinePolicy:
    """Build a policy from plain data; with ``base``, fields not given are inherited.

    Raises ``ConfigError`` naming the dotted field path of the first problem.
    """
    f = Fields(data, "", _POLICY_FIELDS)
    limits: dict[DeadlineKind, Limit] = dict(base.limits) if base else {}
    if f.has("limits"):
        lf = Fields(f.raw("limits"), "limits", [k.value for k in DeadlineKind])
        for key, value in lf.data.items():
            kind = _kind(key, lf.at(key))
            one = Fields(value, lf.at(key), ("period", "basis"))
            limits[kind] = Limit(Period.parse(one.raw("period"), one.at("period")),
                                 one.text("basis", limits[kind].basis if kind in limits else None))
    missing = [k.value for k in DeadlineKind if k not in limits and not k.is_fixed]
    if missing:
        raise ConfigError(f"no time limit for {', '.join(missing)}", field="limits")

    extension = base.extension if base else None
    if f.has("extension"):
        ef = Fields(f.raw("extension"), "extension",
                    ("applies_to", "max_count", "max", "approver", "basis"))
        applies = (frozenset(_kind(k, ef.at("applies_to")) for k in ef.text_list("applies_to"))
                   if ef.has("applies_to") else extension.applies_to if extension else None)
        max_period = (Period.parse(ef.raw("max"), ef.at("max")) if ef.has("max")
                      else extension.max_period if extension else None)
        if applies is None or max_period is None:
            raise ConfigError("an extension rule needs 'applies_to' and 'max'", field="extension")
        max_count = ef.typed("max_count", int, extension.max_count if extension else 1)
        if max_count < 0:
            raise ConfigError("must be 0 or more", field="extension.max_count")
        approver = (parse_enum(Role, ef.raw("approver"), ef.at("approver"))
                    if ef.has("approver") else extension.approver_role if extension
                    else Role.UNIT_HEAD)
        extension = ExtensionRule(applies, max_count, max_period, approver,
                                  ef.text("basis", extension.basis if extension else "unit rule"))
    if extension is None:
        raise ConfigError("required field is missing", field="extension")
    for kind in extension.applies_to:
        if limits[kind].period.unit is not extension.max_period.unit:
            raise ConfigError(f"the extension is in {extension.max_period.unit.value} but the "
                              f"{kind.value} limit is in {limits[kind].period.unit.value}",
                              field="extension.max")

    ladders: dict[DeadlineKind, tuple[Rung, ...]] = dict(base.ladders) if base else {}
    if f.has("escalation"):
        esc = Fields(f.raw("escalation"), "escalation",
                     ["default", *(k.value for k in DeadlineKind if not k.is_window)])
        default = (_parse_ladder(esc.at("default"), esc.raw("default"))
                   if esc.has("default") else None)
        if default is not None:
            ladders = {k: default for k in DeadlineKind
                       if not k.is_window and not k.is_fixed}
        for key, value in esc.data.items():
            if key != "default":
                ladders[_kind(key, esc.at(key))] = _parse_ladder(esc.at(key), value)
    no_ladder = [k.value for k in DeadlineKind
                 if not k.is_window and not k.is_fixed and k not in ladders]
    if no_ladder:
        raise ConfigError(f"no escalation ladder for {', '.join(no_ladder)}; give "
                          "'escalation.default'", field="escalation")

    return DeadlinePolicy(
        id=f.text("id"),
        title=f.text("title", base.title if base else None),
        effective_from=f.date("effective_from") if f.has("effective_from")
        else (base.effective_from if base else f.date("effective_from")),
        limits=limits, extension=extension, ladders=ladders,
        notes=f.text_list("notes") or (base.notes if base else ()),
    )


class PolicyRegistry:
    """The policies a deployment knows, by id; built-ins plus the unit's own files."""

    def __init__(self, policies: Mapping[str, DeadlinePolicy], default_id: str) -> None:
        self._policies = dict(policies)
        if default_id not in self._policies:
            raise UnknownName("policy", default_id, list(self._policies))
        self.default_id = default_id

    def get(self, policy_id: str) -> DeadlinePolicy:
        try:
            return self._policies[policy_id]
        except KeyError:
            raise UnknownName("policy", policy_id, list(self._policies)) from None

    def ids(self) -> list[str]:
        return sorted(self._policies)

    def with_policy(self, data: object) -> PolicyRegistry:
        """A registry that also knows the policy in ``data`` (which may ``extends`` one)."""
        base = None
        if isinstance(data, Mapping) and data.get("extends") is not None:
            parent = str(data["extends"])
            if parent not in self._policies:
                raise ConfigError(f"unknown policy '{parent}'; known: {', '.join(self.ids())}",
                                  field="extends")
            base = self._policies[parent]
        policy = policy_from_mapping(data, base)
        if policy.id in self._policies:
            raise ConfigError(f"policy '{policy.id}' is already defined", field="id")
        return PolicyRegistry({**self._policies, policy.id: policy}, self.default_id)

    def select_default(self, policy_id: str) -> PolicyRegistry:
        """The same registry with another default policy."""
        return PolicyRegistry(self._policies, policy_id)

    def in_force(self, on: dt.date) -> DeadlinePolicy:
        """The default policy if it was in force ``on``; else the newest earlier built-in
        of the same lineage that was (a case registered in 2021 keeps the 2005 rules)."""
        chosen = self.get(self.default_id)
        if chosen.effective_from <= on:
            return chosen
        earlier = [p for p in self._policies.values() if p.effective_from <= on]
        if not earlier:
            raise UnknownName("policy in force on", on.isoformat(), list(self._policies))
        return max(earlier, key=lambda p: p.effective_from)
