"""The office's own practices (from the two mines), read from office.yaml: leader reception
days, the daily zero report, information officers and their weekly digest, key periods,
the units' yearly responsibility letters."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.key_periods import KeyPeriods
from domain.reception import ReceptionSchedule
from domain.signals import DigestRules
from domain.targets import Letters
from domain.zero_report import ZeroReportRules


@dataclass(frozen=True)
class Practices:
    """Each practice is off until configured: no receptions, no zero-report units, no
    officers, no key periods."""

    reception: ReceptionSchedule = field(default_factory=ReceptionSchedule)
    zero_report: ZeroReportRules = field(default_factory=lambda: ZeroReportRules(()))
    information: DigestRules = field(default_factory=DigestRules)
    key_periods: KeyPeriods = field(default_factory=KeyPeriods)
    responsibility: Letters = field(default_factory=Letters)  # 年度信访稳定工作责任书
