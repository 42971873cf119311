"""China's schedules from the ``holidays`` package, kept as a small JSON file under
``PETITIONS_HOME/cache`` so that a command reads them instead of importing the package
(which loads all of its 250 countries: 80-140 ms of every process, measured).

The file is named by a digest of the installed package's version and China module: an
upgraded package is read afresh, and an unreadable or foreign file is simply rebuilt. The
cache holds the package's data only; an office's own ``calendar.yaml`` applies on top.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from domain.calendar import PackageCalendar, YearSchedule, package_calendar

FIRST_YEAR, LAST_YEAR = 2000, 2060  # years asked for outside these come from the package


def _package_digest() -> str | None:
    """A digest of the installed ``holidays`` package's version and China data, found
    without importing it; None when it cannot be found."""
    spec = importlib.util.find_spec("holidays")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent
    digest = hashlib.sha256()
    for part in (root / "version.py", root / "countries" / "china.py"):
        try:
            digest.update(part.read_bytes())
        except OSError:
            return None
    return digest.hexdigest()[:16]


def _encode(cal: PackageCalendar) -> dict[str, Any]:
    return {"official_years": sorted(cal.official_years), "years": {
        str(y): {"source": s.source,
                 "holidays": {d.isoformat(): n for d, n in s.holidays.items()},
                 "workdays": {d.isoformat(): n for d, n in s.workdays.items()}}
        for y, s in cal.years.items()}}


def _decode(data: dict[str, Any]) -> PackageCalendar:
    years = {int(y): YearSchedule(int(y),
                                  {dt.date.fromisoformat(d): n for d, n in v["holidays"].items()},
                                  {dt.date.fromisoformat(d): n for d, n in v["workdays"].items()},
                                  v["source"])
             for y, v in data["years"].items()}
    return PackageCalendar(years, frozenset(int(y) for y in data["official_years"]))


def package_schedules(cache_dir: Path) -> PackageCalendar | None:
    """The package's schedules from the cache in ``cache_dir``, built there first when it
    is missing or stale. None when the package cannot be found (the calendar then asks it
    directly)."""
    digest = _package_digest()
    if digest is None:
        return None
    path = cache_dir / f"holidays-cn-{digest}.json"
    try:
        return _decode(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing, half-written by a crash, or from another layout: build it anew
    cal = package_calendar(FIRST_YEAR, LAST_YEAR)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(_encode(cal), ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)  # readers never see half a file
    except OSError:
        pass  # a read-only home: the next process builds it again, nothing is wrong
    return cal
