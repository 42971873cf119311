"""Each unit's yearly responsibility letter (年度信访稳定工作责任书) as targets on the
measures: a rate at least (on-time closure, satisfaction, ...) or at most (repeat rate), or a
count at most (group visits, over-the-head petitions: none). Read from office.yaml
``responsibility``; assessed per quarter or per year against what the measures read
(``domain.measures``)."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from domain import labels
from domain.errors import ConfigError
from domain.fields import Fields
from domain.org import OrgChart

# Rates a letter may set, and which way is good.
AT_LEAST = ("closure", "on_time_closure", "timely_acceptance", "first_time_resolution",
            "satisfaction", "participation")
AT_MOST = ("repeat_rate",)
# How many, at most (0: none): group visits; over-the-head petitions (越级上访) of the key
# persons a unit's head holds under 四包一.
COUNTS = ("group_visits", "over_the_head")


class Verdict(enum.Enum):
    MET = "met"
    NOT_MET = "not_met"
    NO_DATA = "no_data"  # nothing to measure (no petition rated, none closed)

    @property
    def label(self) -> str:
        return labels.TARGET_VERDICTS[self.value]


@dataclass(frozen=True)
class Target:
    key: str
    value: Fraction  # a share for a rate, a number for a count

    @property
    def label(self) -> str:
        return labels.TARGET_KEYS[self.key]

    @property
    def text(self) -> str:
        if self.key in COUNTS:
            return "无" if self.value == 0 else f"≤ {int(self.value)} 起"
        sign = "≥" if self.key in AT_LEAST else "≤"
        return f"{sign} {float(self.value):.0%}" if self.value * 100 == int(self.value * 100) \
            else f"{sign} {float(self.value):.1%}"


@dataclass(frozen=True)
class Letter:
    year: int
    unit: str
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Letters:
    letters: tuple[Letter, ...] = ()

    def of(self, year: int) -> list[Letter]:
        return [x for x in self.letters if x.year == year]

    def __bool__(self) -> bool:
        return bool(self.letters)


@dataclass(frozen=True)
class Assessed:
    """One target against what happened: ``actual`` a share or a count (None: no data);
    ``gap`` how far short (0 when met)."""

    unit: str
    target: Target
    actual: float | None

    @property
    def verdict(self) -> Verdict:
        if self.actual is None:
            return Verdict.NO_DATA
        t = float(self.target.value)
        ok = self.actual >= t if self.target.key in AT_LEAST else self.actual <= t
        return Verdict.MET if ok else Verdict.NOT_MET

    @property
    def gap(self) -> float:
        if self.actual is None:
            return 0.0
        return round(max(0.0, abs(self.actual - float(self.target.value)))
                     if self.verdict is Verdict.NOT_MET else 0.0, 4)

    @property
    def actual_text(self) -> str:
        if self.actual is None:
            return "—"
        return f"{int(self.actual)} 起" if self.target.key in COUNTS else f"{self.actual:.1%}"

    @property
    def gap_text(self) -> str:
        if self.verdict is not Verdict.NOT_MET:
            return ""
        if self.target.key in COUNTS:
            return f"超出 {int(self.gap)} 起"
        word = "超出" if self.target.key in AT_MOST else "差"
        return f"{word} {self.gap * 100:.1f} 个百分点"


def assess(letter: Letter, rates: Mapping[str, float | None],
           counts: Mapping[str, int]) -> list[Assessed]:
    """Each target of ``letter`` against the unit's measures (``rates``: measure key to
    rate, None for nothing to measure) and ``counts`` (group visits)."""
    return [Assessed(letter.unit, t, float(counts.get(t.key, 0)) if t.key in COUNTS
                     else rates.get(t.key)) for t in letter.targets]


def _share(value: object, where: str) -> Fraction:
    text = str(value).strip()
    try:
        f = Fraction(text[:-1].strip()) / 100 if text.endswith("%") else Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ConfigError(f"expected a percentage such as '95%', got {value!r}",
                          field=where) from None
    if not 0 <= f <= 1:
        raise ConfigError(f"a rate lies within 0%..100%, got {value!r}", field=where)
    return f


def letters_from_list(data: object, org: OrgChart, path: str = "responsibility") -> Letters:
    """The ``responsibility`` list of office.yaml: ``{year, unit, <target>: value, ...}``."""
    if not isinstance(data, Sequence) or isinstance(data, str):
        raise ConfigError(f"expected a list, got {data!r}", field=path)
    out = []
    for i, item in enumerate(data):
        where = f"{path}[{i}]"
        f = Fields(item, where, ("year", "unit", *AT_LEAST, *AT_MOST, *COUNTS))
        unit = f.text("unit")
        if unit not in org.units:
            raise ConfigError(f"unknown unit '{unit}'", field=f.at("unit"))
        targets = []
        for key in (*AT_LEAST, *AT_MOST, *COUNTS):
            if not f.has(key):
                continue
            if key in COUNTS:
                n = f.typed(key, int)
                if n < 0:
                    raise ConfigError(f"a count is 0 or more, got {n}", field=f.at(key))
                targets.append(Target(key, Fraction(n)))
            else:
                targets.append(Target(key, _share(f.raw(key), f.at(key))))
        if not targets:
            raise ConfigError("a letter sets at least one target", field=where)
        out.append(Letter(f.typed("year", int), unit, tuple(targets)))
    return Letters(tuple(out))
