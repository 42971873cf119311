"""The practices' Prefect flows: ``office-practices`` (scheduled: reception notices,
zero-report alerts, the weekly digest) and ``daily-zero-report`` (a unit reports nothing to
report from the Prefect UI's run form; reports of matters from the workplace or the CLI).
Thin: the use cases are in ``services.practices``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from flows.tasks import app
from services import health, practices, review


@task(cache_policy=NONE, retries=2, retry_delay_seconds=1)
def announce_receptions() -> int:
    done = [a for o in app().offices.offices
            for a in practices.announce_receptions(app().at(o))]  # each office's own
    for a in done:
        get_run_logger().info("reception %s: %s sent to %s", a.reception.key, a.what,
                              ", ".join(a.recipients))
    return len(done)


@task(cache_policy=NONE, retries=2, retry_delay_seconds=1)
def check_zero_reports() -> int:
    alerts = [a for o in app().offices.offices
              for a in practices.check_zero_reports(app().at(o))]
    for a in alerts:
        get_run_logger().warning("zero report of %s for %s missing: %s alerted (%s)", a.unit,
                                 a.day, a.level, ", ".join(a.recipients))
    return len(alerts)


@task(cache_policy=NONE, retries=2, retry_delay_seconds=1)
def compile_digest() -> str | None:
    done = [d for o in app().offices.offices
            if (d := practices.compile_digest(app().at(o))) is not None]
    return "; ".join(f"{issue}: {n} signal(s)" for issue, n in done) or None


@task(cache_policy=NONE, retries=2, retry_delay_seconds=1)
def check_review_measures() -> int:
    due = [d for o in app().offices.offices for d in review.check_measures(app().at(o))]
    for d in due:
        get_run_logger().warning("review measure %s: %s sent", d.measure.id, d.what)
    return len(due)


@flow(name="office-practices", persist_result=True)
async def office_practices() -> dict[str, Any]:
    """领导接待日 notices and reminders, 每日零报告 alerts, the weekly 《信访信息参考》:
    whatever is due now, each once (a missed run catches up). The quarterly review's
    measures are the sweeper's (``flows.lifecycle.sweeper``)."""
    summary = {"receptions_announced": announce_receptions(),
               "zero_report_alerts": check_zero_reports(),
               "digest": compile_digest()}
    health.beat(app(), health.PRACTICES, str(summary))
    get_run_logger().info("office practices: %s", summary)
    return summary


@task(cache_policy=NONE)
def file_report(unit: str, reporter: str, items: int, summary: str, day: str | None
                ) -> dict[str, Any]:
    r = practices.file_zero_report(app().for_person(reporter), unit=unit, reporter=reporter,
                                   items=items, summary=summary,
                                   day=dt.date.fromisoformat(day) if day else None)
    return {"unit": r.unit, "day": r.day.isoformat(), "items": r.items, "late": r.late}


@flow(name="daily-zero-report", persist_result=True)
async def daily_zero_report(unit: str, reporter: str, day: str | None = None
                            ) -> dict[str, Any]:
    """每日零报告: a unit reports that it has nothing to report today (``day``, YYYY-MM-DD,
    defaults to today). A report of matters, with its summary, is filed in the workplace or
    with `petitions zero-report file`: what a summary says stays out of Prefect, whose runs
    anyone who reaches its API can read. A refused report (wrong unit, already filed, ...)
    fails the run with the reason."""
    return file_report(unit, reporter, 0, "", day)
