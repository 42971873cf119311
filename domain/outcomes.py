"""Results a case records: the written decision (第三十二、三十三条) and the rating (第二十一条)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from domain import labels


class Outcome(enum.Enum):
    SUPPORT = "support"    # 支持
    EXPLAIN = "explain"    # 解释说明
    REJECT = "reject"      # 不予支持
    MEDIATED = "mediated"  # 调解协议 (第三十三条)

    @property
    def label(self) -> str:
        return labels.OUTCOMES[self.value]


class Rating(enum.Enum):
    SATISFIED = "satisfied"                # 满意
    BASICALLY_SATISFIED = "basically"      # 基本满意
    NOT_SATISFIED = "not_satisfied"        # 不满意
    EXPIRED_UNRATED = "expired_unrated"    # 超期未评价: never counted as satisfied

    @property
    def label(self) -> str:
        return labels.RATINGS[self.value]

    @property
    def content(self) -> bool:
        """Satisfied or basically satisfied."""
        return self in (Rating.SATISFIED, Rating.BASICALLY_SATISFIED)


class Resolution(enum.Enum):
    """三个到位: how a closed petition was dealt with. Reasonable demands resolved,
    unreasonable ones explained, hardship cases given assistance."""

    RESOLVED = "resolved"    # 诉求合理的解决问题到位
    EXPLAINED = "explained"  # 诉求无理的思想教育到位
    ASSISTED = "assisted"    # 生活困难的帮扶救助到位

    @property
    def label(self) -> str:
        return labels.RESOLUTIONS[self.value]

    def fits(self, outcome: Outcome) -> bool:
        """A demand not supported was not "resolved"; one supported was not merely
        "explained". Assistance may follow any decision."""
        if self is Resolution.RESOLVED:
            return outcome is not Outcome.REJECT
        if self is Resolution.EXPLAINED:
            return outcome is not Outcome.SUPPORT
        return True


@dataclass(frozen=True)
class CompletionReport:
    """完成任务报告: the handler reports that the task on ``clock`` is done (a UTC instant)."""

    clock: str
    actor: str
    at: dt.datetime
    summary: str
