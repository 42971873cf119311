"""The charts at a glance of the 督查 page and the report: each chart's numbers, built from
what the supervisor may see (the counts of ``services.measures`` and
``services.supervision``, less the accusations hidden from them: not even one in a bar),
as ``services.charts.Chart`` rows. Drawing is ``Chart.svg``'s, only when asked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from domain.labels import CATEGORIES, CHANNELS, CHARTS, OVERDUE_AGES
from domain.measures import from_counts
from domain.targets import COUNTS
from services.bootstrap import App
from services.charts import Chart
from services.charts import targets as target_chart
from services.measures import counts, office_lines, received_mix
from services.supervision import check_supervisor, overdue_ages
from services.targets import target_rows

MONTHS = 12  # the monthly charts' reach, to the month the period ends in


def months_to(end: dt.date, n: int = MONTHS) -> list[dt.date]:
    """The first days of the ``n`` months ending with ``end``'s, oldest first."""
    first = end.replace(day=1)
    out = []
    for _ in range(n):
        out.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return out[::-1]


def _month_label(day: dt.date) -> str:
    return f"{day.year}年{day.month}月"


def _month_end(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _mix(app: App, person: str | None, end: dt.date, unit: str | None, by: int,
         names: dict[str, str], key: str) -> Chart:
    months = months_to(end)
    mix = received_mix(app, months[0], end, unit, person)
    series = []
    for value, name in names.items():
        per = {m: 0 for m in months}
        for k, n in mix.items():
            if k[by] == value:
                per[dt.date.fromisoformat(k[0] + "-01")] += n
        series.append((name, tuple(float(per[m]) for m in months)))
    return Chart(key, CHARTS[key], tuple(_month_label(m) for m in months),
                 tuple(series), "stacked", "件", "月份")


def by_channel(app: App, person: str | None, start: dt.date, end: dt.date, unit: str | None
               ) -> Chart:
    return _mix(app, person, end, unit, 1, dict(CHANNELS), "by_channel")


def by_category(app: App, person: str | None, start: dt.date, end: dt.date, unit: str | None
                ) -> Chart:
    return _mix(app, person, end, unit, 2, dict(CATEGORIES), "by_category")


def _pct(numerator: int, denominator: int) -> float | None:
    return round(100 * numerator / denominator, 1) if denominator else None


def on_time_by_unit(app: App, person: str | None, start: dt.date, end: dt.date,
                    unit: str | None) -> Chart:
    """按期办结率 of each unit for the petitions received in the period; over a group's
    offices (and no unit asked for), of each office instead: forty mines' units are
    hundreds of bars, and their names repeat from mine to mine."""
    subtree = app.tree.subtree(app.office.id)
    if len(subtree) > 1 and unit is None:
        lines = office_lines(app, start, end, person)
        on_time = [next(m for m in ms if m.key == "on_time_closure") for _, ms in lines]
        return Chart("on_time_by_unit", CHARTS["on_time_by_office"],
                     tuple(name for name, _ in lines),
                     (("按期办结率", tuple(_pct(m.numerator, m.denominator)
                                           for m in on_time)),), "bars", "%", "信访部门")
    units = sorted((u for o in subtree for u in app.tree.org(o).units.values()
                    if unit is None or u.id == unit), key=lambda u: u.id)
    rates = []
    for u in units:
        n = counts(app, start, end, u.id, person)[""]
        rates.append(_pct(n["on_time"], n["closed"]))
    return Chart("on_time_by_unit", CHARTS["on_time_by_unit"], tuple(u.name for u in units),
                 (("按期办结率", tuple(rates)),), "bars", "%", "单位")


def overdue_ageing(app: App, person: str | None, start: dt.date, end: dt.date, unit: str | None
                   ) -> Chart:
    """The open overdue cases now by how long overdue (all units: as the page's 超期)."""
    ages = overdue_ages(app, person)
    return Chart("overdue_ageing", CHARTS["overdue_ageing"],
                 tuple(OVERDUE_AGES[k] for k in ages),
                 (("超期件数", tuple(float(n) for n in ages.values())),), "bars", "件",
                 "超期时长")


def rates(app: App, person: str | None, start: dt.date, end: dt.date, unit: str | None
          ) -> Chart:
    """满意率 and 重复信访率 of the petitions received each month."""
    months = months_to(end)
    sat, rep = [], []
    for m in months:
        ms = {x.key: x for x in from_counts(counts(app, m, min(_month_end(m), end), unit,
                                                   person)[""])}
        sat.append(_pct(ms["satisfaction"].numerator, ms["satisfaction"].denominator))
        rep.append(_pct(ms["repeat_rate"].numerator, ms["repeat_rate"].denominator))
    return Chart("rates", CHARTS["rates"], tuple(_month_label(m) for m in months),
                 (("满意率", tuple(sat)), ("重复信访率", tuple(rep))), "lines", "%", "月份")


def targets(app: App, person: str | None, start: dt.date, end: dt.date, unit: str | None
            ) -> Chart:
    """The units' responsibility letters (年度信访稳定工作责任书) of the year of ``end``, so
    far: each rate target (a marker) against the result (a bar); the counted targets (no
    group visit) are in the table of targets below the charts."""
    rows = [r for r in target_rows(app, end.year, None, person)
            if r["target"] not in COUNTS and (unit is None or r["unit"] == unit)]
    return target_chart("targets", CHARTS["targets"], [
        (f"{r['unit_name']}·{r['label']}", 100 * r["target_value"],
         None if r["actual"] is None else 100 * r["actual"]) for r in rows])


Builder = Callable[[App, str | None, dt.date, dt.date, str | None], Chart]
BUILDERS: dict[str, Builder] = {
    "by_channel": by_channel, "by_category": by_category,
    "on_time_by_unit": on_time_by_unit, "overdue_ageing": overdue_ageing, "rates": rates,
    "targets": targets}


def chart(app: App, person: str | None, key: str, start: dt.date, end: dt.date,
          unit: str | None) -> Chart:
    """One chart's numbers for supervisor ``person`` (``KeyError``: no such chart)."""
    build = BUILDERS[key]
    if person is not None:  # None: the server's operator (the CLI's report), who sees all
        check_supervisor(app, person)
    return build(app, person, start, end, unit)


def charts(app: App, person: str | None, start: dt.date, end: dt.date, unit: str | None
           ) -> list[Chart]:
    """Every chart's numbers, in the page's order."""
    return [chart(app, person, k, start, end, unit) for k in BUILDERS]
