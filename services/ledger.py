"""台账导入: an office's old ledger (.xlsx or .csv) imported as historical cases. Every row is
read and replayed first (``domain.ledger``), every problem listed (its row and field), and
only a ledger without one is stored: all its cases in one transaction, or none.

The registration number is the ledger's own (a ``registration_no`` column) or, without one,
``TZ<first 8 hex of the file's SHA-256>-<row>``: importing the same file again finds every
number taken and is refused, importing nothing. The cases queue no message (the petitioner
was answered years ago; the responder needs no assignment notice) and their long-past
rungs are marked fired, with the whole ladder of a deadline breached before the import:
no reminder, warning, breach or escalation goes out for them. Each row is routed by the
office's own rules for a hand assignment (``domain.ledger.read_row``)."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openpyxl import load_workbook

from domain.case import Case, CaseRules
from domain.errors import CaseNotFound, LedgerRejected, PetitionError
from domain.ledger import ColumnMap, Entry, read_mapping, read_rows, replay
from domain.measures import facts_of
from domain.permissions import check_registrar
from domain.petition import petition_from_mapping
from services.bootstrap import App

LEDGER_TYPES = (".xlsx", ".csv")


@dataclass(frozen=True)
class Imported:
    file: str
    cases: list[Case]
    dry_run: bool


def load_mapping(path: Path) -> ColumnMap:
    try:
        return read_mapping(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as e:
        raise PetitionError(f"mapping {path}: cannot read it ({e})") from None


def read_table(path: Path) -> list[tuple[int, list[Any]]]:
    """The rows of the ledger's first sheet (or the CSV), numbered as the file numbers
    them, empty rows left out."""
    if path.suffix.lower() not in LEDGER_TYPES:
        raise PetitionError(f"{path.name}: a ledger is .xlsx or .csv")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PetitionError(f"{path}: cannot read it ({e.strerror})") from None
    if path.suffix.lower() == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:  # a CSV saved by a Chinese Excel
            text = data.decode("gb18030")
        rows: list[tuple[int, list[Any]]] = [
            (i, list(r)) for i, r in enumerate(csv.reader(io.StringIO(text)), start=1)]
    else:
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises zipfile's and its own errors, untyped
            raise PetitionError(f"{path.name}: not a readable .xlsx ({e})") from None
        ws = wb.worksheets[0]
        rows = [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)]
        wb.close()
    return [(i, r) for i, r in rows if any(v not in (None, "") for v in r)]


def by_field(table: list[tuple[int, list[Any]]], mapping: ColumnMap
             ) -> list[tuple[int, dict[str, Any]]]:
    """The rows under the header row (the first), their cells by petition field."""
    if not table:
        raise LedgerRejected(["台账是空的"])
    header = [str(h).strip() if h is not None else "" for h in table[0][1]]
    where: dict[str, int] = {}
    missing = []
    for f, column in mapping.columns.items():
        if column in header:
            where[f] = header.index(column)
        else:
            missing.append(f"第{table[0][0]}行（表头）：没有“{column}”列（映射给 {f}）")
    if missing:
        raise LedgerRejected(missing)
    return [(n, {f: cells[j] if j < len(cells) else None for f, j in where.items()})
            for n, cells in table[1:]]


def import_ledger(app: App, path: Path, mapping: ColumnMap, *, actor: str, via: str = "",
                  dry_run: bool = False) -> Imported:
    """Import ``path`` as ``actor`` (the petition office's staff): every row checked and
    replayed, then all stored in one transaction, or ``LedgerRejected`` listing every
    problem and nothing stored. ``dry_run``: checked only."""
    check_registrar(app.office.org, actor, ref="台账导入")
    now = app.clock.now()
    data = path.read_bytes() if path.exists() else b""
    rows = by_field(read_table(path), mapping)
    entries, problems = read_rows(rows, mapping, app.office.org, now, app.office.routing)
    digest = hashlib.sha256(data).hexdigest()[:8].upper()
    numbers: dict[str, int] = {}
    cases: list[Case] = []
    with app.uow() as uow:
        for e in entries:
            number = e.registration_no or f"TZ{digest}-{e.row}"
            if number in numbers:
                problems.append(f"第{e.row}行 登记编号：{number} 与第{numbers[number]}行重复")
                continue
            numbers[number] = e.row
            try:
                uow.cases.get(number, lock=False)
                problems.append(f"第{e.row}行 登记编号：{number} 已登记（此台账已导入过？）")
                continue
            except CaseNotFound:
                pass
            try:
                cases.append(_replayed(app, e, number, actor, path.name))
            except PetitionError as err:
                problems.append(f"第{e.row}行：{err}")
        if problems:
            raise LedgerRejected(problems)
        if dry_run:
            return Imported(path.name, cases, True)
        for case in cases:
            case.office = app.office.id
            if via:
                case.attribute(0, via=via)
            uow.cases.add(case)
        # No messages (``services.cases.commit`` would queue an assignment notice and the
        # petitioner's SMS for a matter answered long ago): the schedule, the next due
        # and the measured facts only.
        schedules, dues = {}, {}
        for case in cases:
            rules = app.rules_for(case)
            schedules[case.id] = case.schedule(rules, now)
            dues[case.id] = case.next_due(rules, now)
            case.measured = facts_of(case, rules)
        uow.commit(schedules, dues)
    return Imported(path.name, cases, False)


def _replayed(app: App, e: Entry, number: str, actor: str, file: str) -> Case:
    petition = petition_from_mapping(e.petition)
    office = app.office
    check_registrar(office.org, actor, petition, office.routing.accusation_unit, ref=number)
    policy = office.policies.in_force(petition.received_at.date())
    rules = CaseRules(policy, office.calendar, office.org, office.practices.key_periods)
    return replay(e, case_id=f"p-{uuid.uuid4().hex[:12]}", registration_no=number,
                  policy=policy, rules=rules, actor=actor, file=file, now=app.clock.now())
