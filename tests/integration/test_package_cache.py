"""China's schedules read from the cache are the ``holidays`` package's own, and a process
reading them never imports the package."""

from __future__ import annotations

import subprocess
import sys

from domain.calendar import WorkingCalendar
from services.package_cache import package_schedules
from tests.conftest import ROOT


def test_the_cached_schedules_are_the_packages(tmp_path):
    built = package_schedules(tmp_path)
    read = package_schedules(tmp_path)
    assert built is not None and read is not None
    assert len(list(tmp_path.glob("holidays-cn-*.json"))) == 1
    direct, cached = WorkingCalendar(), WorkingCalendar(package=read)
    for year in (2005, 2020, 2026, 2027, 2059, 2070):
        assert cached.year(year) == direct.year(year)
        assert cached.is_official(year) == direct.is_official(year)


def test_a_damaged_cache_is_built_anew(tmp_path):
    package_schedules(tmp_path)
    (cache,) = tmp_path.glob("holidays-cn-*.json")
    cache.write_text('{"years": {"2026": ')  # a crash mid-write, say
    again = package_schedules(tmp_path)
    assert again is not None and again.year(2026) == WorkingCalendar().year(2026)


def test_reading_the_cache_does_not_import_the_package(tmp_path):
    package_schedules(tmp_path)
    code = f"""
import sys
from domain.calendar import WorkingCalendar
from services.package_cache import package_schedules
cal = WorkingCalendar(package=package_schedules(__import__("pathlib").Path({str(tmp_path)!r})))
print(cal.add_days(__import__("datetime").date(2026, 9, 30), 1), "holidays" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import datetime as dt

    due = WorkingCalendar().add_days(dt.date(2026, 9, 30), 1)  # into the National Day holiday
    assert done.stdout.split() == [due.isoformat(), "False"]
