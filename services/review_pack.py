"""The quarterly review pack (排查例会材料): what the 每季不稳定因素分析排查例会 studies.
The quarter's petitions and signals by category, unit and place; the matters rising against
the last quarter and the same quarter a year before; the repeats; the key periods ahead; last
quarter's measures and whether each was done; the units' yearly targets so far; and the
sections of the key persons' states and the listed cases (``extra_sections``).

Built from what the viewer may see (``domain.offices.sight_in``): an accusation against a
supervisor is not in their pack, not a row, not a count. The CLI, run by the server's
operator, builds it for no viewer (everything)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from domain.case import Case
from domain.instants import format_local, local_date, start_of_local_day
from domain.offices import sight_in
from domain.permissions import Sight
from domain.petition import Category
from domain.quarters import Quarter
from domain.review import Trend, trends
from domain.signals import Signal
from notifications.compose import unit_name
from services import glance
from services.bootstrap import App
from services.charts import Chart
from services.keyperson_views import key_person_states
from services.listed import listed_cases
from services.measures import derive_facts, hidden_received
from services.report import render_document
from services.review import measure_rows, meeting_of
from services.supervision import check_supervisor
from services.targets import target_rows

NO_PLACE = "（未填或无权查看）"
NO_UNIT = "（未分办）"


@dataclass(frozen=True)
class Section:
    """A titled table: ``headers`` and ``rows`` (each a list of cells, as shown)."""

    title: str
    headers: tuple[str, ...]
    rows: list[list[str]]
    note: str = ""


@dataclass(frozen=True)
class Pack:
    quarter: Quarter
    generated: str
    petitions: int
    by_category: list[tuple[str, int]]
    by_unit: list[tuple[str, int]]
    by_place: list[tuple[str, int]]
    signals: int
    signals_by_unit: list[tuple[str, int]]
    signals_by_risk: list[tuple[str, int]]
    rising_categories: list[Trend]
    rising_units: list[Trend]
    repeats: list[dict[str, str]]
    key_periods: list[dict[str, str]]
    last_quarter: Quarter
    last_measures: list[dict[str, Any]]
    this_measures: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    extra: list[Section] = field(default_factory=list)
    # At a glance (``services.glance``), each chart beside its numbers, as data: images.
    charts: list[tuple[Chart, str]] = field(default_factory=list)


# The charts of the pack: the year's petitions by category, on-time closure by unit in the
# quarter, the responsibility letters' targets against the results.
PACK_CHARTS = ("by_category", "on_time_by_unit", "targets")


def extra_sections(app: App, quarter: Quarter, viewer: str | None) -> list[Section]:
    """The key persons' states (重点人员动态) and the listed cases (挂牌督办案件), as ``viewer``
    may see them (without one, as the petition office's head does)."""
    who = viewer or app.office.org.office_head or ""
    people = [[k.name, f"{k.leader}、{k.unit_head}、{k.responder}、{k.contact_name}",
               k.state_label,
               "；".join(x for x in (
                   f"在办{k.open_matters}件" if k.open_matters else "",
                   f"约访下访{k.contacts}次（最近{k.last_contact}）" if k.contacts else "",
                   f"越级上访{k.over_the_head}次、劝返{k.brought_back}次"
                   if k.over_the_head else "",
                   f"{k.settled_on}息访" if k.settled_on else "") if x) or "—"]
              for k in key_person_states(app, who)] if who else []
    listed = [[r.ref, f"{r.body}（{r.reference}）", r.required,
               r.state_label if r.done else (f"剩余{r.days_left}天" if r.days_left >= 0
                                             else f"超期{-r.days_left}天")
               + (f"；最近报告{r.last_report[:10]}" if r.last_report else "；尚未报告")]
              for r in listed_cases(app, who)] if who else []
    return [Section("重点人员动态", ("姓名", "四包一", "状态", "最近情况"), people,
                    "没有重点人员。"),
            Section("挂牌督办案件", ("编号", "督办机关（文号）", "要求办结", "进展"), listed,
                    "没有挂牌督办的信访件。")]


def _quarter_cases(app: App, q: Quarter, viewer: str | None) -> list[Case]:
    """The petitions received in ``q`` that ``viewer`` may see (by the receipt index)."""
    with app.uow() as uow:
        found, _ = uow.received_page(q.start, q.end, None, app.scope, 10**9, 0)
    return [c for c in found
            if viewer is None or sight_in(app.tree, c, viewer) is not Sight.NONE]


def _counts(app: App, q: Quarter, viewer: str | None) -> dict[tuple[str, str | None], int]:
    """Petitions received in ``q`` by (category, unit), counted in the database, less those
    ``viewer`` may not see (as the measures are: ``services.measures.hidden_received``)."""
    with app.uow() as uow:
        total = uow.received_counts(q.start, q.end, app.scope)
        for c in hidden_received(app, uow, q.start, q.end, None, viewer):
            key = (c.petition.category.value, c.unit)
            total[key] = total.get(key, 0) - 1
    return {k: n for k, n in total.items() if n > 0}


def _by(counts: dict[tuple[str, str | None], int], part: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, n in counts.items():
        name = key[part] or ""
        out[name] = out.get(name, 0) + n
    return out


def _count(values: Iterable[str]) -> list[tuple[str, int]]:
    return sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0]))


def _unit(app: App, unit: str | None) -> str:
    if not unit:
        return NO_UNIT
    home = next((o for o in app.tree.nodes if unit in app.tree.org(o).units), None)
    return unit_name(app.tree.org(home), unit) if home else unit


def _place(app: App, case: Case, viewer: str | None) -> str:
    """The petitioner's address (the petition's only place), shown to whom may read it."""
    address = (case.petition.petitioner.address or "").strip()
    if not address or (viewer is not None
                       and not sight_in(app.tree, case, viewer) >= Sight.FULL):
        return NO_PLACE
    return address


def _signals(app: App, q: Quarter, cases: dict[str, Case], viewer: str | None
             ) -> list[Signal]:
    units = set(app.office.org.units)
    with app.uow() as uow:
        found = uow.practices.signals(start_of_local_day(q.start),
                                      start_of_local_day(q.next().start))
        hidden = {s.case_id for s in found if s.case_id and s.case_id not in cases}
        if viewer is not None and hidden:  # promoted to a case outside the period: ask it
            for c in uow.cases.get_many(sorted(hidden), lock=False):
                if sight_in(app.tree, c, viewer) is not Sight.NONE:
                    hidden.discard(c.id)
        elif viewer is None:
            hidden = set()
    return [s for s in found if s.unit in units and s.case_id not in hidden]


def _refs(app: App, ids: set[str], viewer: str | None) -> dict[str, str]:
    """The numbers of the earlier petitions repeated, those ``viewer`` may see."""
    if not ids:
        return {}
    with app.uow() as uow:
        found = uow.cases.get_many(sorted(ids), lock=False)
    return {c.id: c.ref for c in found
            if viewer is None or sight_in(app.tree, c, viewer) is not Sight.NONE}


def build_pack(app: App, quarter: Quarter, viewer: str | None = None) -> Pack:
    """The pack of ``quarter``; with ``viewer``, a supervisor, built from what they see."""
    if viewer is not None:
        check_supervisor(app, viewer)
    derive_facts(app)  # the receipt day the counts read, of cases stored before it was kept
    last, year_ago = quarter.previous(), quarter.year_before()
    now_q = _quarter_cases(app, quarter, viewer)
    by_id = {c.id: c for c in now_q}
    now_n = Counter((c.petition.category.value, c.unit) for c in now_q)
    last_n, ago_n = _counts(app, last, viewer), _counts(app, year_ago, viewer)
    signals = _signals(app, quarter, by_id, viewer)
    earlier = _refs(app, {c.repeat_of for c in now_q if c.repeat_of} - set(by_id), viewer)
    cat_names = {c.value: c.label for c in Category}
    unit_names = {u or "": _unit(app, u) for _, u in (*now_n, *last_n, *ago_n)}
    repeats = [{"ref": c.ref, "unit": _unit(app, c.unit),
                "category": c.petition.category.label,
                "received": local_date(c.petition.received_at).isoformat(),
                "repeat_of": by_id[c.repeat_of].ref if c.repeat_of in by_id
                else earlier.get(c.repeat_of or "", "（无权查看）")}
               for c in now_q if c.repeat_of]
    today = local_date(app.clock.now())
    ahead = [{"name": p.name, "from": p.start.isoformat(), "to": p.end.isoformat()}
             for p in app.office.practices.key_periods.periods
             if p.end >= today and p.start <= quarter.next().end]
    return Pack(
        quarter, format_local(app.clock.now()), len(now_q),
        [(cat_names[k], n) for k, n in _count(c.petition.category.value for c in now_q)],
        [(unit_names[k], n) for k, n in _count(c.unit or "" for c in now_q)],
        _count(_place(app, c, viewer) for c in now_q),
        len(signals), _count(_unit(app, s.unit) for s in signals),
        _count(s.risk.label for s in signals),
        trends(_by(now_n, 0), _by(last_n, 0), _by(ago_n, 0), cat_names),
        trends(_by(now_n, 1), _by(last_n, 1), _by(ago_n, 1), unit_names),
        repeats, ahead, last, measure_rows(app, meeting_of(app, last)),
        measure_rows(app, meeting_of(app, quarter)),
        target_rows(app, quarter.year, quarter, viewer),
        extra_sections(app, quarter, viewer),
        [(c, c.data_uri()) for c in (glance.chart(app, viewer, k, quarter.start, quarter.end,
                                                  None) for k in PACK_CHARTS)])


def render_pack(pack: Pack, office: str) -> str:
    """The pack as one self-contained HTML page (for the browser, or WeasyPrint's PDF)."""
    return render_document("review_pack.html", pack=pack, office=office)
