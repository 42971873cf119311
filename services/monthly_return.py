"""信访月报: the monthly statistical return to the level above, as a workbook of a fixed
layout (README "Excel" documents every cell): one sheet per table, the title in A1, the
headers in row 2 (frozen), the first data row 3, the rows in a fixed order (the channels
and categories as ``domain.petition`` lists them, the office's units as org.yaml lists
them, 待分办, 合计).

Supervisors only (``check_supervisor``); every count is over the cases the supervisor may
see, as the 督查 page's measures are (an accused supervisor's return leaves out the
accusation against them)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from domain.case import Case
from domain.errors import ConfigError
from domain.instants import local_date
from domain.labels import COLUMNS, MEASURE_FORMULAS
from domain.offices import sight_in
from domain.permissions import Sight
from domain.petition import Category, Channel
from services.bootstrap import App
from services.measures import kpis
from services.records import OUTLINE_SUBJECT
from services.supervision import check_supervisor
from services.xlsx import HEADER_ROW, Column, fill_sheet, save

TOP_REPEATS = 10  # matters on the 重复信访 sheet
UNROUTED = "待分办"
TOTAL = "合计"
SHEETS = ("按渠道", "按类别", "按单位", "本月指标", "重复信访")


def parse_month(text: str) -> dt.date:
    """The first day of month ``text`` (YYYY-MM)."""
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ConfigError(f"{text!r} is not a month; expected YYYY-MM", field="month") from None


def month_end(first: dt.date) -> dt.date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


@dataclass(frozen=True)
class Periods:
    """The three columns of the count tables: this month, the year to the month's end, the
    same month a year before."""

    month: tuple[dt.date, dt.date]
    year: tuple[dt.date, dt.date]
    last_year: tuple[dt.date, dt.date]

    @classmethod
    def of(cls, first: dt.date) -> Periods:
        last = month_end(first)
        before = first.replace(year=first.year - 1)
        return cls((first, last), (first.replace(month=1), last), (before, month_end(before)))


def visible_received(app: App, viewer: str, start: dt.date, end: dt.date
                     ) -> list[tuple[Case, Sight]]:
    """The cases received from ``start`` to ``end`` (local dates) ``viewer`` may see, each
    with how much of it they see (an accusation's outline only, for most supervisors)."""
    found: list[tuple[Case, Sight]] = []
    offset = 0
    with app.uow() as uow:
        while True:
            page, total = uow.received_page(start, end, None, app.scope, 1000, offset)
            for c in page:
                seen = sight_in(app.tree, c, viewer)
                if seen is not Sight.NONE:
                    found.append((c, seen))
            offset += len(page)
            if not page or offset >= total:
                return found


def _within(c: Case, span: tuple[dt.date, dt.date]) -> bool:
    return span[0] <= local_date(c.petition.received_at) <= span[1]


def count_rows(names: Sequence[tuple[str, str]], key: Callable[[Case], str],
               periods: Periods, year: list[Case], last_year: list[Case]
               ) -> list[dict[str, object]]:
    """One row per (key, name) in order, then 合计: this month, year to date, last year."""
    month = Counter(key(c) for c in year if _within(c, periods.month))
    ytd = Counter(key(c) for c in year)
    before = Counter(key(c) for c in last_year)
    rows: list[dict[str, object]] = [
        {"name": name, "month": month[k], "year": ytd[k], "last_year": before[k]}
        for k, name in names]
    rows.append({"name": TOTAL, "month": sum(month.values()), "year": sum(ytd.values()),
                 "last_year": sum(before.values())})
    return rows


def repeated_matters(year: list[tuple[Case, Sight]], periods: Periods
                     ) -> list[dict[str, object]]:
    """The matters petitioned most often in the year to date: a case and those repeating it
    (``repeat_of``, followed to the first case seen), at least two of them; the most
    petitions first. Only the cases whose material the viewer sees are grouped: which
    petitions repeat which is itself the matter, and an outline shows no accuser and no
    matter (an accusation filed twice names its accuser to nobody outside its handlers)."""
    seen = {c.id: s for c, s in year}
    material = [c for c, s in year if s >= Sight.MATERIAL]
    by_id = {c.id: c for c in material} | {c.registration_no: c for c in material}

    def root(c: Case) -> Case:
        visited = {c.id}
        while c.repeat_of and c.repeat_of in by_id and by_id[c.repeat_of].id not in visited:
            c = by_id[c.repeat_of]
            visited.add(c.id)
        return c

    groups: dict[str, list[Case]] = {}
    for c in material:
        groups.setdefault(root(c).id, []).append(c)
    rows: list[dict[str, object]] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda c: c.petition.received_at)
        first = members[0]
        shown = seen[first.id] >= Sight.MATERIAL  # always, as grouped: kept as the rule
        rows.append({"ref": first.ref,
                     "subject": first.petition.subject if shown else OUTLINE_SUBJECT,
                     "petitioner": first.petition.petitioner.name if shown else None,
                     "count": len(members),
                     "month": sum(1 for c in members if _within(c, periods.month)),
                     "first_received": first.petition.received_at,
                     "last_received": members[-1].petition.received_at})
    rows.sort(key=lambda r: (-int(str(r["count"])), str(r["ref"])))
    return rows[:TOP_REPEATS]


def _counts_sheet(ws: Worksheet, title: str, first: str, rows: list[dict[str, object]]
                  ) -> None:
    fill_sheet(ws, title, [Column("name", first), Column("month", COLUMNS["month"]),
                           Column("year", COLUMNS["year"]),
                           Column("last_year", COLUMNS["last_year"])], rows)
    ws.cell(row=HEADER_ROW + len(rows), column=1).font = Font(bold=True)  # 合计


def monthly_return(app: App, viewer: str, first: dt.date) -> bytes:
    """信访月报 of the month starting ``first``, as ``viewer`` (a supervisor) may see it."""
    check_supervisor(app, viewer)
    periods = Periods.of(first)
    year_seen = visible_received(app, viewer, *periods.year)
    year = [c for c, _ in year_seen]
    last_year = [c for c, _ in visible_received(app, viewer, *periods.last_year)]
    month_text = f"{first.year}年{first.month}月"
    office = app.office.name
    offices = app.tree.subtree(app.office.id)
    many = len(offices) > 1  # a group's return: a unit named with its office (ids repeat)
    units = [(f"{o}/{u.id}", f"{app.tree.node(o).name}·{u.name}" if many else u.name)
             for o in offices for u in app.tree.org(o).units.values()]
    wb = Workbook()
    sheets = [wb.active] + [wb.create_sheet() for _ in SHEETS[1:]]
    for ws, name in zip(sheets, SHEETS, strict=True):
        assert ws is not None
        ws.title = name
    by_channel, by_category, by_unit, measured, repeats = sheets
    assert by_channel and by_category and by_unit and measured and repeats
    _counts_sheet(by_channel, f"{office}信访月报（{month_text}）按信访渠道", COLUMNS["channel"],
                  count_rows([(c.value, c.label) for c in Channel],
                             lambda c: c.petition.channel.value, periods, year, last_year))
    _counts_sheet(by_category, f"{office}信访月报（{month_text}）按信访类别",
                  COLUMNS["category"],
                  count_rows([(c.value, c.label) for c in Category],
                             lambda c: c.petition.category.value, periods, year, last_year))
    _counts_sheet(by_unit, f"{office}信访月报（{month_text}）按承办单位", COLUMNS["unit"],
                  count_rows([*units, ("", UNROUTED)],
                             lambda c: f"{c.office}/{c.unit}" if c.unit else "", periods,
                             year, last_year))
    ms = kpis(app, *periods.month, None, viewer)
    fill_sheet(measured, f"{office}信访月报（{month_text}）本月指标（按收到日期）",
               [Column(k, COLUMNS[k]) for k in
                ("measure", "rate", "numerator", "denominator", "formula")],
               [{"measure": m.label, "rate": m.rate, "numerator": m.numerator,
                 "denominator": m.denominator,
                 "formula": MEASURE_FORMULAS.get(m.key, m.formula)} for m in ms])
    for i in range(len(ms)):
        measured.cell(row=HEADER_ROW + 1 + i, column=2).number_format = "0.0%"
    fill_sheet(repeats, f"{office}信访月报（{month_text}）重复信访（本年累计前{TOP_REPEATS}）",
               [Column(k, COLUMNS[k]) for k in
                ("ref", "subject", "petitioner", "count", "month", "first_received",
                 "last_received")],
               repeated_matters(year_seen, periods))
    repeats.cell(row=HEADER_ROW, column=1).value = "首件登记编号"
    return save(wb)
