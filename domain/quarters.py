"""Quarters (季度), the period the risk review (每季不稳定因素分析排查例会) looks at: local
calendar dates, both ends included."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from domain.errors import ConfigError

_SPELLING = re.compile(r"^\s*(\d{4})\s*[Qq]\s*([1-4])\s*$")
_CHINESE = "一二三四"


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    q: int  # 1..4

    @staticmethod
    def parse(text: str) -> Quarter:
        """``2026Q4`` (or ``2026q4``)."""
        m = _SPELLING.match(text or "")
        if m is None:
            raise ConfigError(f"a quarter is written like 2026Q4, got {text!r}",
                              field="--quarter")
        return Quarter(int(m.group(1)), int(m.group(2)))

    @staticmethod
    def of(day: dt.date) -> Quarter:
        """The quarter a local date falls in."""
        return Quarter(day.year, (day.month - 1) // 3 + 1)

    @property
    def key(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def label(self) -> str:
        return f"{self.year}年第{_CHINESE[self.q - 1]}季度"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.q - 2, 1)

    @property
    def end(self) -> dt.date:
        """The quarter's last day."""
        return self.next().start - dt.timedelta(days=1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.q == 1 else Quarter(self.year, self.q - 1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.q == 4 else Quarter(self.year, self.q + 1)

    def year_before(self) -> Quarter:
        return Quarter(self.year - 1, self.q)

    def holds(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return self.key
