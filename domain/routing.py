"""Routing (首问负责): which unit and which first responder take a petition, whether a leader
must own it (领导包案), and whether it repeats an earlier one (重复信访).

Confidentiality is decided here and again wherever a person is resolved: an accusation
(检举控告) never goes to the accused unit or person (第三十条第三款), and anyone with a
declared interest is recused (回避, 第二十八条).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from domain.accused import accused_set
from domain.errors import ConfidentialityViolation, ConfigError, RoutingError
from domain.fields import Fields, parse_enum
from domain.org import OrgChart, Person
from domain.persons import same_person
from domain.petition import Category, Channel, Petition, Petitioner


@dataclass(frozen=True)
class Bar:
    """Why a person or unit may not see or handle a case."""

    who: str
    reason: str  # "accused" or "recused: <interest>"


def barred_person(org: OrgChart, petition: Petition, person_id: str,
                  recused: Iterable[str] = ()) -> Bar | None:
    """Why ``person_id`` may not handle or be told about ``petition``, or None: in the
    accusation's accused set (``domain.accused``), recused, or with a declared interest."""
    person = org.person(person_id)
    if person_id in accused_set(org, petition):
        return Bar(person_id, "accused")
    if person_id in recused:
        return Bar(person_id, "recused")
    interest = _interest(person, petition)
    return Bar(person_id, f"recused: {interest}") if interest else None


def _interest(person: Person, petition: Petition) -> str | None:
    facts = {petition.petitioner.name, petition.petitioner.id_number or "",
             petition.concerns_unit or "", *petition.accused_persons} - {""}
    hits = sorted(person.interests & facts)
    return hits[0] if hits else None


def barred_unit(org: OrgChart, petition: Petition, unit_id: str) -> bool:
    """Whether the unit is in the accusation's accused set (the accused unit, an accused
    person's own unit, or inside one of them)."""
    return accused_set(org, petition).bars_unit(unit_id)


@dataclass(frozen=True)
class RoutingRule:
    """Send matching petitions to ``unit``. Empty criteria match anything."""

    id: str
    unit: str
    categories: frozenset[Category] = frozenset()
    channels: frozenset[Channel] = frozenset()
    keywords: tuple[str, ...] = ()
    concerns: frozenset[str] = frozenset()

    def criteria(self) -> str:
        """What the rule matches, in Chinese: ``申诉求决类，含"工资""欠薪"``."""
        parts = ["、".join(c.label for c in sorted(self.categories, key=lambda c: c.value)),
                 "、".join(c.label for c in sorted(self.channels, key=lambda c: c.value)),
                 "含" + "".join(f"“{k}”" for k in self.keywords) if self.keywords else "",
                 "涉及指定单位" if self.concerns else ""]
        return "，".join(p for p in parts if p) or "任何信访件"

    def matches(self, petition: Petition) -> bool:
        return ((not self.categories or petition.category in self.categories)
                and (not self.channels or petition.channel in self.channels)
                and (not self.keywords or any(k in petition.text for k in self.keywords))
                and (not self.concerns or petition.concerns_unit in self.concerns))


@dataclass(frozen=True)
class LeaderRules:
    """When a leader must own a case (领导包案, 第十八条)."""

    group_min_headcount: int = 5
    repeat: bool = True
    key_person: bool = True
    categories: frozenset[Category] = frozenset()
    keywords: tuple[str, ...] = ()

    def reasons(self, petition: Petition, is_repeat: bool) -> tuple[str, ...]:
        """Why a leader must own this petition; empty when none is needed."""
        out = []
        if petition.headcount >= self.group_min_headcount:
            out.append(f"集体访（{petition.headcount}人）")
        if self.repeat and is_repeat:
            out.append("重复信访")
        if self.key_person and petition.key_person:
            out.append("重点人员")
        if petition.category in self.categories:
            out.append(petition.category.label)
        out.extend(f"关键词：{k}" for k in self.keywords if k in petition.text)
        return tuple(out)


@dataclass(frozen=True)
class RoutingRules:
    rules: tuple[RoutingRule, ...]
    default_unit: str
    accusation_unit: str | None = None
    leader: LeaderRules = LeaderRules()
    repeat_similarity: float = 0.6

    def explain(self, rule: str, unit_name: Callable[[str], str]) -> str:
        """A routing decision's ``rule`` for people: what the rule matches and where it
        sends, in Chinese (``rule`` is a rule's id, ``default``, ``… → accusation
        fallback`` or ``assigned by hand``)."""
        base, fallback = rule.split(" → ", 1) if " → " in rule else (rule, "")
        if base == "assigned by hand":
            text = "信访办人工分办"
        elif base == "default":
            text = f"未匹配分办规则，交默认单位{unit_name(self.default_unit)}"
        else:
            found = next((r for r in self.rules if r.id == base), None)
            text = f"{found.criteria()}，交{unit_name(found.unit)}" if found else "按分办规则"
        if fallback:
            text += "；检举控告不交被检举单位，改交受理单位"
        return text


@dataclass(frozen=True)
class RoutingDecision:
    """Where a petition goes and why: the audit trail records all of it."""

    unit: str
    responder: str
    rule: str
    leader: str | None
    leader_reasons: tuple[str, ...]
    bars: tuple[Bar, ...]


def route(petition: Petition, rules: RoutingRules, org: OrgChart,
          workload: Mapping[str, int], *, is_repeat: bool = False) -> RoutingDecision:
    """Choose unit, first responder (the least loaded eligible person), and owning leader.

    ``workload`` maps person id to open cases held. Raises ``UnknownName`` for an unknown
    concerned unit and ``RoutingError`` when nobody eligible is left.
    """
    if petition.concerns_unit is not None:
        org.unit(petition.concerns_unit)
    rule = next((r for r in rules.rules if r.matches(petition)), None)
    unit, rule_id = (rule.unit, rule.id) if rule else (rules.default_unit, "default")
    bars: list[Bar] = []
    if barred_unit(org, petition, unit):
        bars.append(Bar(unit, "accused unit"))
        fallbacks = [u for u in (rules.accusation_unit, rules.default_unit, org.office) if u]
        unit = next((u for u in fallbacks if not barred_unit(org, petition, u)), "")
        rule_id = f"{rule_id} → accusation fallback"
        if not unit:
            raise RoutingError("the accusation concerns every unit that could take it (the "
                               "accusation unit, the default unit and the petition office)")
    responder = _least_loaded(org, petition, unit, workload, bars)
    reasons = rules.leader.reasons(petition, is_repeat)
    leader = _leader_for(org, petition, unit, bars) if reasons else None
    return RoutingDecision(unit, responder, rule_id, leader, reasons, tuple(bars))


def assign_by_hand(petition: Petition, unit: str, responder: str | None, rules: RoutingRules,
                   org: OrgChart, workload: Mapping[str, int], *,
                   is_repeat: bool = False) -> RoutingDecision:
    """The office's own routing of a petition from the triage queue: ``unit`` (never one in
    the accused set), its first responder (``responder``, a member of it, or the least
    loaded), and the owning leader the rules require when one may (else none yet: the
    office names one before acceptance)."""
    org.unit(unit)
    if barred_unit(org, petition, unit):
        raise ConfidentialityViolation("triage", f"unit '{unit}' is in the accusation's "
                                       "accused set")
    bars: list[Bar] = []
    if responder is None:
        responder = _least_loaded(org, petition, unit, workload, bars)
    elif org.person(responder).unit != unit:
        raise RoutingError(f"'{responder}' is not of unit '{unit}'")
    elif not org.person(responder).responder:  # the org chart says they take none
        raise RoutingError(f"'{responder}' is not a first responder (responder: false in "
                           "org.yaml)")
    elif (bar := barred_person(org, petition, responder)) is not None:
        raise ConfidentialityViolation("triage", f"'{responder}' may not handle it "
                                       f"({bar.reason})")
    reasons = rules.leader.reasons(petition, is_repeat)
    try:
        leader = _leader_for(org, petition, unit, bars) if reasons else None
    except RoutingError:
        leader = None
    return RoutingDecision(unit, responder, "assigned by hand", leader, reasons, tuple(bars))


def _least_loaded(org: OrgChart, petition: Petition, unit: str, workload: Mapping[str, int],
                  bars: list[Bar]) -> str:
    eligible = []
    for person in org.members(unit):
        if not person.responder:
            continue
        bar = barred_person(org, petition, person.id)
        if bar:
            bars.append(bar)
        else:
            eligible.append(person.id)
    if not eligible:
        raise RoutingError(f"unit '{unit}' has no eligible first responder "
                           f"(barred: {', '.join(b.who for b in bars) or 'none'})")
    return min(eligible, key=lambda pid: (workload.get(pid, 0), pid))


def _leader_for(org: OrgChart, petition: Petition, unit: str, bars: list[Bar]) -> str:
    """The leader in charge of the unit (or of its nearest parent), else the mine head,
    else the party secretary, skipping anyone barred."""
    chain = [u.leader for u in (org.unit(unit), *org.ancestors(unit))]
    for candidate in [*chain, org.mine_head, org.party_secretary]:
        if candidate is None:
            continue
        bar = barred_person(org, petition, candidate)
        if bar is None:
            return candidate
        if bar not in bars:
            bars.append(bar)
    raise RoutingError("no leader may own this case: every leader in the chain is barred")


@dataclass(frozen=True)
class PriorCase:
    """What repeat detection needs of an earlier case."""

    case_id: str
    petitioner_identity: str
    category: Category
    concerns_unit: str | None
    subject: str
    content: str = ""
    petitioner: Petitioner | None = None  # when known: matched by ``same_person``


def same_matter(a_subject: str, a_content: str, b_subject: str, b_content: str) -> float:
    """How alike two petitions' matters are, 0 to 1: the likeness (difflib's ratio) of
    their subjects, or of subject and content together, whichever is higher."""
    subjects = difflib.SequenceMatcher(None, a_subject, b_subject).ratio()
    if not (a_content and b_content):
        return subjects
    whole = difflib.SequenceMatcher(None, f"{a_subject}\n{a_content}",
                                    f"{b_subject}\n{b_content}").ratio()
    return max(subjects, whole)


def find_repeat(petition: Petition, earlier: Iterable[PriorCase],
                similarity: float) -> str | None:
    """The earlier case this petition repeats (重复信访: same petitioner, same matter), or
    None. Same matter: the same category, and subjects (or subject and content together) at
    least ``similarity`` alike (``same_matter``); the most alike earlier case wins. Being
    about the same unit is not the same matter: a gas-safety complaint does not repeat a
    wage complaint about the same team. A petition may also name the case it repeats
    (``repeat_of``). Same petitioner: ``domain.persons.same_person`` (the same ID number,
    else name and phone)."""
    identity = petition.petitioner.identity()
    best: tuple[float, str] | None = None
    for prior in earlier:
        same = same_person(prior.petitioner, petition.petitioner) if prior.petitioner \
            else prior.petitioner_identity == identity
        if not same or prior.category is not petition.category:
            continue
        score = same_matter(petition.subject, petition.content, prior.subject, prior.content)
        if score >= similarity and (best is None or score > best[0]):
            best = (score, prior.case_id)
    return best[1] if best else None


def rules_from_mapping(data: object, org: OrgChart) -> RoutingRules:
    """Routing rules from plain data, with every unit checked against the org chart."""
    f = Fields(data, "", ("default_unit", "accusation_unit", "rules", "leader_required",
                          "repeat_similarity"))

    def unit(value: str, where: str) -> str:
        if value not in org.units:
            raise ConfigError(f"unknown unit '{value}'", field=where)
        return value

    rules = []
    for path, item in f.items("rules"):
        r = Fields(item, path, ("id", "unit", "category", "channel", "keywords", "concerns"))
        rules.append(RoutingRule(
            id=r.text("id"), unit=unit(r.text("unit"), r.at("unit")),
            categories=frozenset(parse_enum(Category, c, r.at("category"))
                                 for c in r.text_list("category")),
            channels=frozenset(parse_enum(Channel, c, r.at("channel"))
                               for c in r.text_list("channel")),
            keywords=r.text_list("keywords"),
            concerns=frozenset(unit(c, r.at("concerns")) for c in r.text_list("concerns"))))
    leader = LeaderRules()
    if f.has("leader_required"):
        lf = Fields(f.raw("leader_required"), "leader_required",
                    ("group_min_headcount", "repeat", "key_person", "categories", "keywords"))
        leader = LeaderRules(
            group_min_headcount=lf.typed("group_min_headcount", int, 5),
            repeat=lf.typed("repeat", bool, True), key_person=lf.typed("key_person", bool, True),
            categories=frozenset(parse_enum(Category, c, lf.at("categories"))
                                 for c in lf.text_list("categories")),
            keywords=lf.text_list("keywords"))
    similarity = f.typed("repeat_similarity", float, 0.6)
    if not 0 < similarity <= 1:
        raise ConfigError("must be within (0, 1]", field="repeat_similarity")
    accusation = f.text("accusation_unit") if f.has("accusation_unit") else None
    return RoutingRules(
        rules=tuple(rules), default_unit=unit(f.text("default_unit"), "default_unit"),
        accusation_unit=unit(accusation, "accusation_unit") if accusation else None,
        leader=leader, repeat_similarity=similarity)
