"""Results a case records: the written decision (第三十二、三十三条) and the rating (第二十一条)."""

from __future__ import annotations

import enum


class Outcome(enum.Enum):
    SUPPORT = "support"    # 支持
    EXPLAIN = "explain"    # 解释说明
    REJECT = "reject"      # 不予支持
    MEDIATED = "mediated"  # 调解协议 (第三十三条)

    @property
    def label(self) -> str:
        return {"support": "支持", "explain": "解释说明", "reject": "不予支持",
                "mediated": "调解达成协议"}[self.value]


class Rating(enum.Enum):
    SATISFIED = "satisfied"                # 满意
    BASICALLY_SATISFIED = "basically"      # 基本满意
    NOT_SATISFIED = "not_satisfied"        # 不满意
    EXPIRED_UNRATED = "expired_unrated"    # 超期未评价: never counted as satisfied

    @property
    def label(self) -> str:
        return {"satisfied": "满意", "basically": "基本满意", "not_satisfied": "不满意",
                "expired_unrated": "超期未评价"}[self.value]

    @property
    def content(self) -> bool:
        """Satisfied or basically satisfied."""
        return self in (Rating.SATISFIED, Rating.BASICALLY_SATISFIED)
