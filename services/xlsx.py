"""Workbooks (.xlsx), pure of the web: a list of rows as one sheet with Chinese headers, a
title row, a frozen header row, real Excel dates and sensible column widths. Every list the
workplace exports (the queue, search, overdue, the measures, the report's cases, the
key-person register after merge) is built here from rows its own use case returned, so an
export never holds more than the page it comes from."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from domain.instants import local

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MAX_WIDTH = 60  # characters: a long matter wraps rather than widening the sheet off screen
HEADER_ROW = 2  # row 1 is the title; the header row is frozen with it
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What makes Excel (or LibreOffice) read typed text as a formula: a subject typed at the
# public door as ``=HYPERLINK(...)`` must come out as that text, never as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One column: the row's key and its Chinese header (from ``domain.labels`` where the
    header names a domain notion)."""

    key: str
    header: str


def cell_value(value: Any) -> Any:
    """What a cell holds: a datetime in local time without zone (Excel has none), a date as
    it is, numbers and text as they are, anything else as its text."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = local(value)
        return dt.datetime(value.year, value.month, value.day, value.hour, value.minute,
                           value.second)
    if isinstance(value, dt.date | int | float | str) or value is None:
        return value
    return str(value)


def _width(value: Any) -> int:
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    text = "" if value is None else str(value)
    # A CJK character takes two columns' width.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def fill_sheet(ws: Worksheet, title: str, columns: Sequence[Column],
               rows: Iterable[Mapping[str, Any]]) -> int:
    """``rows`` under ``title`` and the headers of ``columns`` on ``ws``; how many rows."""
    head = ws.cell(row=1, column=1, value=title)  # a title may carry a searched text
    head.font = Font(bold=True, size=13)
    if title.startswith(FORMULA_STARTS):
        as_text(head)
    widths = [_width(c.header) for c in columns]
    for j, c in enumerate(columns, start=1):
        ws.cell(row=HEADER_ROW, column=j, value=c.header).font = Font(bold=True)
    n = 0
    for i, r in enumerate(rows, start=HEADER_ROW + 1):
        n += 1
        for j, c in enumerate(columns, start=1):
            v = cell_value(r.get(c.key))
            cell = ws.cell(row=i, column=j, value=v)
            if isinstance(v, str) and v.startswith(FORMULA_STARTS):
                as_text(cell)
            if isinstance(v, dt.datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(v, dt.date):
                cell.number_format = DATE_FORMAT
            elif isinstance(v, str) and len(v) > MAX_WIDTH:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths[j - 1] = max(widths[j - 1], _width(v))
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(MAX_WIDTH, w + 2)
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    return n


def as_text(cell: Any) -> None:
    """``cell`` kept as text: a string, not a formula (openpyxl takes any string starting
    with "=" for one), and marked quote-prefixed, so Excel shows the text unchanged and does
    not read it as a formula when the cell is edited."""
    cell.data_type = "s"
    cell.quotePrefix = True


def sheet_name(text: str) -> str:
    """A legal sheet name: at most 31 characters, none of []:*?/\\."""
    return "".join("_" if ch in "[]:*?/\\" else ch for ch in text)[:31] or "Sheet"


def rows_to_xlsx(title: str, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]],
                 sheet: str | None = None) -> bytes:
    """One sheet of ``rows`` (mappings keyed by the columns' keys) as an .xlsx file: the
    generic export any list can call (the key-person register among them)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook has its one sheet
    ws.title = sheet_name(sheet or title)
    fill_sheet(ws, title, columns, rows)
    return save(wb)


def save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
