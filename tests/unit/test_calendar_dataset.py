"""Our working-day calendar against an outside dataset: every day from 2004 through 2026
compared with the ``chinesecalendar`` package (a test extra)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from domain.calendar import WorkingCalendar

# Where that package is wrong and we are right. The State Council's notice on the 2006
# holidays (国办发明电〔2005〕38号): "12月31日（星期六）上班" — Saturday 2005-12-31 was a
# make-up working day before the New Year holiday; the package has it as a rest day (an
# open issue of its own).
THEY_ARE_WRONG = {dt.date(2005, 12, 31): True}


def test_every_day_from_2004_through_2026_agrees_with_chinesecalendar():
    calendar = WorkingCalendar()
    disagreements = {}
    day = dt.date(2004, 1, 1)
    while day <= dt.date(2026, 12, 31):
        ours = calendar.is_working_day(day)
        if ours != chinese_calendar.is_workday(day):
            disagreements[day] = ours
        day += dt.timedelta(days=1)
    assert disagreements == THEY_ARE_WRONG
