"""The measures supervisors assess units on (petition-rules.md, "Measures supervisors use").

Pure: cases in, ratios out, each with its numerator and denominator so a supervisor can
check it by hand. The population is the petitions *received* in the period (by local date
of receipt), optionally of one unit; what happened to them is judged at ``now`` (the end of
the period or today, whichever is earlier, is the caller's choice).

Definitions used (the rules give the formulas; these are the readings where they are terse):
- closed (结案): a written decision was issued (the handling clock closed by a decision);
  a petition not accepted (不予受理) is not counted as closed.
- on time (按期办结): the decision was issued on or before the handling limit (extensions
  count, as the law allows them).
- acknowledged within limit (及时受理): the petitioner was told in writing whether it is
  accepted within the acceptance-notice limit (15 days, 第二十三条).
- first petitions resolved (初信初访化解): a petition that repeats no earlier one, is closed,
  had no review requested and is repeated by no later petition.
- rated: satisfied, basically satisfied or not satisfied; expired unrated is not rated.
- three in place (三个到位): each closed petition's class (resolved, explained, assisted)
  over the petitions closed; the latest class counts (a review may re-class it). A case
  closed before classes existed counts in none of the three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction

from domain.case import Case, CaseRules
from domain.deadlines import Closing, DeadlineState
from domain.errors import ConfigError
from domain.instants import local_date
from domain.outcomes import Rating, Resolution
from domain.policy import DeadlineKind


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    formula: str
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        """None when the denominator is 0 (nothing to measure), never a made-up 0 %."""
        return float(Fraction(self.numerator, self.denominator)) if self.denominator else None

    @property
    def text(self) -> str:
        return f"{self.rate:.1%}" if self.rate is not None else "—"


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ConfigError(f"the period ends ({self.end}) before it starts ({self.start})",
                              field="--to")

    def holds(self, case: Case) -> bool:
        day = local_date(case.petition.received_at)
        return self.start <= day <= self.end and (self.unit is None or case.unit == self.unit)


def _closed_on(case: Case, rules: CaseRules, now: dt.datetime) -> tuple[bool, bool]:
    """(closed by a decision, on time). A closed clock is judged by when it closed."""
    v = case.view(DeadlineKind.HANDLING, rules, now)
    if v is None or v.closed_at is None or v.state is DeadlineState.CANCELLED:
        return False, False
    return True, v.state is DeadlineState.MET


@dataclass(frozen=True)
class Facts:
    """What the measures count of one case, as it stands. Each depends only on the case
    (a clock counts once it has closed, judged by when it closed), so it is stored with
    the case at each commit and the measures of a period are sums over the stored facts."""

    received_on: dt.date
    unit: str | None
    closed: bool
    on_time: bool
    accepted_in_time: bool
    review_requested: bool
    resolution: Resolution | None
    rating: Rating | None
    repeat_of: str | None


def facts_of(case: Case, rules: CaseRules) -> Facts:
    """The case's facts for the measures."""
    now = case.registered_at  # unused by closed clocks; open ones count as not done
    closed, on_time = _closed_on(case, rules, now)
    notice = case.view(DeadlineKind.ACCEPTANCE_NOTICE, rules, now)
    asked = case.clock(DeadlineKind.REVIEW_REQUEST)  # used: a review was asked for
    return Facts(local_date(case.petition.received_at), case.unit, closed, on_time,
                 notice is not None and notice.state is DeadlineState.MET,
                 case.view(DeadlineKind.REVIEW_DECISION, rules, now) is not None
                 or (asked is not None and asked.closing is Closing.DONE),
                 case.resolution if closed else None, case.rating, case.repeat_of)


COUNTS = ("received", "closed", "on_time", "accepted_in_time", "first_closed",
          "first_resolved", "satisfied", "rated", "expired", "repeats",
          *(f"class_{r.value}" for r in Resolution))


def tally(facts: Iterable[tuple[str, Facts]], repeated: set[str]) -> dict[str, int]:
    """The counts the measures are made of, over (case id, facts) pairs; ``repeated``: the
    ids some later petition repeats."""
    n = dict.fromkeys(COUNTS, 0)
    for case_id, f in facts:
        n["received"] += 1
        n["closed"] += f.closed
        n["on_time"] += f.closed and f.on_time
        if f.closed and f.resolution is not None:
            n[f"class_{f.resolution.value}"] += 1
        n["accepted_in_time"] += f.accepted_in_time
        if f.repeat_of is None and f.closed:
            n["first_closed"] += 1
            n["first_resolved"] += not f.review_requested and case_id not in repeated
        if f.rating is Rating.EXPIRED_UNRATED:
            n["expired"] += 1
        elif f.rating is not None:
            n["rated"] += 1
            n["satisfied"] += f.rating in (Rating.SATISFIED, Rating.BASICALLY_SATISFIED)
        n["repeats"] += f.repeat_of is not None
    return n


def measures(cases: Iterable[Case], period: Period, rules_for: Callable[[Case], CaseRules],
             now: dt.datetime, *, repeated_ids: set[str] | None = None) -> list[Measure]:
    """The seven measures, and the three-in-place shares, over the petitions received in
    ``period``. ``repeated_ids``: ids of cases some later petition repeats (defaults to
    those among ``cases``)."""
    everything = list(cases)
    repeated = repeated_ids if repeated_ids is not None else {
        c.repeat_of for c in everything if c.repeat_of}
    return from_counts(tally(((c.id, facts_of(c, rules_for(c))) for c in everything
                              if period.holds(c)), repeated))


def from_counts(n: dict[str, int]) -> list[Measure]:
    """The measures from their counts (``tally``, or the stored facts summed in SQL)."""
    closed, received = n["closed"], n["received"]
    return [
        Measure("closure", "结案率", "closed / received", closed, received),
        Measure("on_time_closure", "按期办结率", "closed on or before due / closed",
                n["on_time"], closed),
        Measure("timely_acceptance", "及时受理率", "told in writing within 15 days / received",
                n["accepted_in_time"], received),
        Measure("first_time_resolution", "初信初访化解率",
                "first petitions closed without review or repeat / first petitions closed",
                n["first_resolved"], n["first_closed"]),
        Measure("satisfaction", "满意率", "(satisfied + basically satisfied) / rated",
                n["satisfied"], n["rated"]),
        Measure("participation", "参评率", "rated / (rated + expired unrated)", n["rated"],
                n["rated"] + n["expired"]),
        Measure("repeat_rate", "重复信访率", "repeat petitions / all petitions", n["repeats"],
                received),
        *(Measure(f"in_place_{r.value}", f"三个到位·{r.label}", f"closed as {r.value} / closed",
                  n[f"class_{r.value}"], closed) for r in Resolution),
    ]
