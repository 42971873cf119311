"""Counting days on China's working-day calendar (Civil Code arts. 201, 203; 调休)."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.calendar import WorkingCalendar, YearSchedule, calendar_from_mapping
from domain.errors import ConfigError
from domain.instants import local
from tests.conftest import at

D = dt.date


def test_a_period_ending_on_new_years_day_2026_ends_on_the_make_up_sunday(calendar):
    assert calendar.add_days(D(2025, 12, 29), 3) == D(2026, 1, 4)
    assert calendar.describe(D(2026, 1, 4)).startswith("工作日")


def test_the_first_day_is_not_counted(calendar):
    assert calendar.add_days(D(2026, 3, 2), 1) == D(2026, 3, 3)


def test_a_last_day_on_a_saturday_moves_to_monday(calendar):
    assert calendar.add_days(D(2026, 3, 4), 3) == D(2026, 3, 9)


def test_a_make_up_working_saturday_is_a_working_day(calendar):
    assert calendar.is_working_day(D(2026, 2, 14))
    assert calendar.add_days(D(2026, 2, 12), 2) == D(2026, 2, 14)


def test_a_last_day_in_the_2026_spring_festival_moves_past_the_whole_holiday(calendar):
    assert calendar.add_days(D(2026, 2, 13), 3) == D(2026, 2, 24)


def test_a_last_day_on_national_day_2025_moves_to_october_9(calendar):
    assert calendar.add_days(D(2025, 9, 30), 1) == D(2025, 10, 9)


def test_working_days_count_the_make_up_sunday_and_skip_national_day_2025(calendar):
    # 9-28 (Sun, 调休上班), 9-29, 9-30, then 10-1..10-8 off, 10-9, 10-10.
    assert calendar.add_working_days(D(2025, 9, 26), 5) == D(2025, 10, 10)


def test_working_days_between_two_dates(calendar):
    assert calendar.working_days_in(D(2026, 1, 1), D(2026, 1, 9)) == 6  # 1-4 (Sun) .. 1-9


def test_four_working_hours_from_friday_afternoon_end_on_monday_morning(calendar):
    due = calendar.add_working_time(at("2026-11-20 16:00"), dt.timedelta(hours=4))
    assert local(due).format("YYYY-MM-DD HH:mm") == "2026-11-23 10:00"


def test_working_hours_skip_the_lunch_break(calendar):
    due = calendar.add_working_time(at("2026-11-24 11:00"), dt.timedelta(hours=2))
    assert local(due).format("HH:mm") == "15:00"


def test_working_hours_skip_a_holiday(calendar):
    due = calendar.add_working_time(at("2026-09-30 17:00"), dt.timedelta(hours=4))
    assert local(due).format("YYYY-MM-DD HH:mm") == "2026-10-08 11:00"


def test_a_year_without_an_official_schedule_carries_a_warning(calendar):
    assert not calendar.is_official(2027)
    assert calendar.warnings_for(D(2026, 12, 1), D(2027, 1, 30))
    assert calendar.warnings_for(D(2026, 3, 1), D(2026, 5, 1)) == []


def _override_2027() -> YearSchedule:
    # Invented test data (not the real 2027 notice): 2027-01-04 off, Sunday 01-10 worked.
    return YearSchedule(2027, {D(2027, 1, 1): "元旦", D(2027, 1, 4): "休息日（测试）"},
                        {D(2027, 1, 10): "调休上班（测试）"}, "test notice")


def test_an_override_file_makes_a_year_official_and_replaces_its_days():
    cal = WorkingCalendar(overrides={2027: _override_2027()})
    assert cal.is_official(2027)
    assert cal.warnings_for(D(2026, 12, 20), D(2027, 1, 10)) == []
    assert not cal.is_working_day(D(2027, 1, 4))
    assert cal.is_working_day(D(2027, 1, 10))
    assert cal.add_days(D(2027, 1, 1), 3) == D(2027, 1, 5)


def test_a_make_up_working_day_on_a_weekday_is_refused():
    with pytest.raises(ConfigError, match="2027-01-06 is a Wednesday") as e:
        YearSchedule(2027, {}, {D(2027, 1, 6): "x"}, "test")
    assert e.value.field == "2027.workdays.2027-01-06"


def test_calendar_data_names_the_bad_field():
    with pytest.raises(ConfigError) as e:
        calendar_from_mapping({"years": {2027: {"source": "x", "holidays": {"2027-13-01": "y"}}}})
    assert e.value.field == "years.2027.holidays.2027-13-01"
    with pytest.raises(ConfigError, match="HH:MM") as e:
        calendar_from_mapping({"working_hours": ["8-12:00x"]})
    assert e.value.field == "working_hours[0]"


def test_a_naive_time_is_refused_not_guessed(calendar):
    with pytest.raises(ValueError, match="no time zone"):
        calendar.add_working_time(dt.datetime(2026, 3, 2, 9), dt.timedelta(hours=1))
