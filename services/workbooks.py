"""Each list the workplace shows, as a workbook: built from what the list's own use case
returned for the viewer (the same permission check, the same scoping), so an accused
person's export holds nothing of the accusation: not a row, not a count."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from domain.labels import COLUMNS, MEASURE_FORMULAS
from domain.measures import Measure
from domain.offices import sight_in
from domain.permissions import Sight
from services import search as searching
from services.bootstrap import App
from services.keyperson_views import key_person_states
from services.supervision import check_supervisor, visible_overdue
from services.workplace import my_queue
from services.xlsx import Column, rows_to_xlsx

EXPORT_LIMIT = 5000  # rows an export holds at most: a queue or a search, not the archive


def columns(*keys: str, **headers: str) -> list[Column]:
    """Columns named by ``domain.labels.COLUMNS`` (or a header given here)."""
    return [Column(k, headers.get(k) or COLUMNS[k]) for k in keys]


def queue_workbook(app: App, person: str) -> bytes:
    """我的待办 as the page lists it (its rows, not just the first page)."""
    q = my_queue(app, person, limit=EXPORT_LIMIT)
    rows = [{"ref": r.ref, "subject": r.subject, "stage": r.stage_label, "unit": r.unit,
             "responder": r.responder, "leader": r.leader, "deadline": r.deadline,
             "due_at": r.due_at, "overdue": r.overdue, "warning": r.warning,
             "roles": "、".join(r.roles)} for r in q.rows]
    return rows_to_xlsx(f"我的待办（{len(rows)}件）", columns(
        "ref", "subject", "stage", "unit", "responder", "leader", "deadline", "due_at",
        "overdue", "warning", "roles"), rows, sheet="我的待办")


HIT_COLUMNS = ("ref", "received_at", "channel", "category", "subject", "petitioner",
               "phone", "unit", "stage", "office")


def hit_row(app: App, case: Any, seen: Sight) -> dict[str, Any]:
    """A case as a search hit shows it (``services.search.hit_record``: the matter and
    the petitioner only with the material in sight), the receipt as a datetime."""
    r = searching.hit_record(app, searching.Hit(case, seen))
    return {"ref": r["ref"], "received_at": case.petition.received_at,
            "channel": r["channel_label"], "category": r["category_label"],
            "subject": r["subject"], "petitioner": r["petitioner"], "phone": r["phone"],
            "unit": r["unit_name"], "stage": r["stage_label"], "office": r["office_name"]}


def search_workbook(app: App, viewer: str, text: str) -> bytes:
    """The hits of a search, every page of them (up to ``EXPORT_LIMIT``)."""
    rows: list[dict[str, Any]] = []
    after: str | None = None
    while len(rows) < EXPORT_LIMIT:
        found = searching.search(app, viewer, text, after=after, limit=searching.MAX_PAGE)
        rows += [hit_row(app, h.case, h.sight) for h in found.hits]
        if not found.more:
            break
        after = found.after
    return rows_to_xlsx(f"检索：{text}", columns(*HIT_COLUMNS), rows, sheet="检索结果")


def measures_workbook(ms: list[Measure], start: dt.date, end: dt.date) -> bytes:
    rows = [{"measure": m.label, "rate": round(m.rate, 4) if m.rate is not None else None,
             "numerator": m.numerator, "denominator": m.denominator,
             "formula": MEASURE_FORMULAS.get(m.key, m.formula)}
            for m in ms]
    return rows_to_xlsx(f"督查指标 {start} 至 {end}（按收到日期）", columns(
        "measure", "rate", "numerator", "denominator", "formula"), rows, sheet="指标")


def overdue_workbook(app: App, viewer: str, unit: str | None) -> bytes:
    """The overdue deadlines of the cases ``viewer`` may see: supervisors only."""
    check_supervisor(app, viewer)
    return overdue_rows_workbook(visible_overdue(app, viewer, unit))


def overdue_rows_workbook(found: list[dict[str, Any]]) -> bytes:
    """Rows of ``services.reading.overdue_rows`` (already scoped to their viewer)."""
    rows = [{**r, "due": dt.date.fromisoformat(r["due"])} for r in found]
    return rows_to_xlsx("超期未办结", columns(
        "ref", "stage", "deadline", "due", "overdue", "unit", "responder", "leader",
        "warning"), ({"ref": r["case"], "stage": r["stage_label"],
                      "deadline": r["deadline_label"], "due": r["due"],
                      "overdue": r["overdue_label"], "unit": r["unit_name"],
                      "responder": r["responder_name"], "leader": r["leader_name"],
                      "warning": r["warning"]} for r in rows), sheet="超期")


def report_cases(app: App, start: dt.date, end: dt.date, unit: str | None,
                 viewer: str | None) -> list[dict[str, Any]]:
    """The cases the report counts (received in the period), latest first, as hits: with
    ``viewer``, only those they may see."""
    rows: list[dict[str, Any]] = []
    with app.uow() as uow:
        offset = 0
        while len(rows) < EXPORT_LIMIT:
            page, total = uow.received_page(start, end, unit, app.scope, 500, offset)
            for c in page:
                seen = Sight.FULL if viewer is None else sight_in(app.tree, c, viewer)
                if seen is not Sight.NONE:
                    rows.append(hit_row(app, c, seen))
            offset += len(page)
            if not page or offset >= total:
                break
    return rows


def report_cases_workbook(app: App, start: dt.date, end: dt.date, unit: str | None,
                          viewer: str | None) -> bytes:
    """督查报告's cases; with ``viewer`` a supervisor's (checked), without it the
    operator's (the CLI run on the server)."""
    if viewer is not None:
        check_supervisor(app, viewer)
    return rows_to_xlsx(f"信访件 {start} 至 {end}", columns(*HIT_COLUMNS),
                        report_cases(app, start, end, unit, viewer), sheet="信访件")


def generic_workbook(title: str, headers: Mapping[str, str],
                     rows: list[Mapping[str, Any]]) -> bytes:
    """Any list (the key-person register after merge): ``headers`` maps each row key to
    its Chinese header, in order."""
    return rows_to_xlsx(title, [Column(k, h) for k, h in headers.items()], rows)


KEY_PERSON_COLUMNS = {"name": "姓名", "state_label": "稳控状态", "leader": "包案领导",
                      "unit_head": "责任单位负责人", "responder": "首问责任人",
                      "contact_name": "亲属或社区联系人", "open_matters": "在办事项",
                      "matters": "信访事项", "contacts": "约访下访次数",
                      "last_contact": "最近约访下访", "over_the_head": "越级上访次数",
                      "brought_back": "劝返次数", "settled_on": "息访日期", "added": "列入时间"}


def keyperson_workbook(app: App, viewer: str) -> bytes:
    """The key-person register (重点人员台账) as ``viewer`` may see it: the same rows as the
    register page (``keyperson_views.key_person_states``), no one more."""
    rows: list[Mapping[str, Any]] = [dataclasses.asdict(r) for r in key_person_states(app, viewer)]
    return generic_workbook("重点人员台账", KEY_PERSON_COLUMNS, rows)
