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
from domain.deadlines import DeadlineState
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
    """(closed by a decision, on time)."""
    v = case.view(DeadlineKind.HANDLING, rules, now)
    if v is None or v.closed_at is None or v.state is DeadlineState.CANCELLED:
        return False, False
    return True, v.state is DeadlineState.MET


def _review_requested(case: Case, rules: CaseRules, now: dt.datetime) -> bool:
    return case.view(DeadlineKind.REVIEW_DECISION, rules, now) is not None


def measures(cases: Iterable[Case], period: Period, rules_for: Callable[[Case], CaseRules],
             now: dt.datetime, *, repeated_ids: set[str] | None = None) -> list[Measure]:
    """The seven measures, and the three-in-place shares, over the petitions received in
    ``period``. ``repeated_ids``: ids of cases some later petition repeats (defaults to
    those among ``cases``)."""
    everything = list(cases)
    repeated = repeated_ids if repeated_ids is not None else {
        c.repeat_of for c in everything if c.repeat_of}
    received = [c for c in everything if period.holds(c)]
    closed, on_time, accepted_in_time = 0, 0, 0
    first_closed, first_resolved = 0, 0
    satisfied, rated, expired = 0, 0, 0
    classes = dict.fromkeys(Resolution, 0)
    for c in received:
        rules = rules_for(c)
        is_closed, in_time = _closed_on(c, rules, now)
        closed += is_closed
        on_time += is_closed and in_time
        if is_closed and c.resolution is not None:
            classes[c.resolution] += 1
        notice = c.view(DeadlineKind.ACCEPTANCE_NOTICE, rules, now)
        accepted_in_time += notice is not None and notice.state is DeadlineState.MET
        if c.repeat_of is None and is_closed:
            first_closed += 1
            first_resolved += not _review_requested(c, rules, now) and c.id not in repeated
        if c.rating is Rating.EXPIRED_UNRATED:
            expired += 1
        elif c.rating is not None:
            rated += 1
            satisfied += c.rating in (Rating.SATISFIED, Rating.BASICALLY_SATISFIED)
    n = len(received)
    repeats = sum(1 for c in received if c.repeat_of)
    return [
        Measure("closure", "结案率", "closed / received", closed, n),
        Measure("on_time_closure", "按期办结率", "closed on or before due / closed",
                on_time, closed),
        Measure("timely_acceptance", "及时受理率", "told in writing within 15 days / received",
                accepted_in_time, n),
        Measure("first_time_resolution", "初信初访化解率",
                "first petitions closed without review or repeat / first petitions closed",
                first_resolved, first_closed),
        Measure("satisfaction", "满意率", "(satisfied + basically satisfied) / rated",
                satisfied, rated),
        Measure("participation", "参评率", "rated / (rated + expired unrated)", rated,
                rated + expired),
        Measure("repeat_rate", "重复信访率", "repeat petitions / all petitions", repeats, n),
        *(Measure(f"in_place_{r.value}", f"三个到位·{r.label}", f"closed as {r.value} / closed",
                  classes[r], closed) for r in Resolution),
    ]
