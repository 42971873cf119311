"""Rescheduling the open cases after a configuration change: a batch at a time, each under
the sweepers' lock, and not at all when what the schedules derive from has not changed
since the last complete reschedule."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from domain.calendar import WorkingCalendar, YearSchedule
from services import cases as s
from services.bootstrap import App
from services.config import load_office
from services.sweep import (
    SCHEDULES_MARK,
    daily_checks,
    reschedule_if_changed,
    reschedule_open,
    schedule_fingerprint,
)
from storage.memory import MemoryStore
from tests.conftest import SAMPLE_OFFICE, WAGE

OPEN = 7


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def batches() -> list[int]:
    return []


@pytest.fixture
def app(memory_app: App, store: MemoryStore, batches: list[int]) -> App:
    """The memory app on ``store``, counting the transactions that took the sweepers'
    lock; with ``OPEN`` open cases and one closed."""
    def uow():  # type: ignore[no-untyped-def]
        unit = store.uow()
        take = unit.one_sweep_at_a_time

        def lock() -> None:
            batches.append(1)
            take()
        unit.one_sweep_at_a_time = lock  # type: ignore[method-assign]
        return unit

    app = dataclasses.replace(memory_app, uow=uow)
    for i in range(OPEN + 1):
        case = s.register(app, WAGE, registration_no=f"XF-{i}", actor="qian.hui")
        s.route_and_assign(app, case.id, actor="intake")
    s.act(app, case.id, s.ActRequest(s.Act.WITHDRAW, "qian.hui", reason="信访人撤回"))
    batches.clear()
    return app


def _pending(store: MemoryStore) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for (case_id, clock, rung), row in store.data.rungs.items():
        if row.claimed_at is None:
            out.setdefault(case_id, set()).add((clock, rung))
    return out


def _forget_every_schedule(app: App) -> None:
    with app.uow() as uow:
        for case in uow.open_cases():
            uow.reschedule(case.id, [])
        uow.commit()


def test_every_open_case_is_rescheduled_across_several_batches(app, store, batches):
    expected = _pending(store)
    assert len(expected) == OPEN  # the closed case has no pending rung
    _forget_every_schedule(app)
    assert _pending(store) == {}
    batches.clear()
    assert reschedule_open(app, batch=3) == OPEN
    assert len(batches) == 3  # 3 + 3 + 1, each batch its own transaction under the lock
    assert _pending(store) == expected


def test_an_unchanged_configuration_is_not_rescheduled_again(app, store, batches):
    assert reschedule_if_changed(app, batch=3) == OPEN
    assert (app.settings.home / SCHEDULES_MARK).read_text().strip() == \
        schedule_fingerprint(app)
    batches.clear()
    assert reschedule_if_changed(app, batch=3) is None  # nothing changed since
    assert batches == []


def test_a_changed_calendar_is_rescheduled(app, batches):
    assert reschedule_if_changed(app) == OPEN
    official = YearSchedule(2027, {dt.date(2027, 1, 1): "元旦"}, {}, "国务院办公厅通知")
    loaded = dataclasses.replace(app.office, calendar=WorkingCalendar(overrides={
        2027: official}))
    changed = App(app.settings, loaded, app.clock, app.uow)
    assert schedule_fingerprint(changed) != schedule_fingerprint(app)
    assert reschedule_if_changed(changed) == OPEN
    assert reschedule_if_changed(changed) is None


def test_the_same_configuration_read_again_has_the_same_fingerprint(app):
    again = App(app.settings, load_office(SAMPLE_OFFICE), app.clock, app.uow)
    assert schedule_fingerprint(again) == schedule_fingerprint(app)


def test_a_reschedule_stopped_between_batches_is_done_again_next_time(app, batches):
    stopped = reschedule_if_changed(app, batch=3, stop=lambda: len(batches) >= 1)
    assert stopped == 3  # one batch, then the engine stopped
    assert not (app.settings.home / SCHEDULES_MARK).exists()
    assert reschedule_if_changed(app, batch=3) == OPEN


def test_the_morning_checks_reschedule_only_after_a_change(app, batches):
    assert daily_checks(app, key=b"k").rescheduled == OPEN  # new to this home
    batches.clear()
    assert daily_checks(app, key=b"k").rescheduled == 0
    assert batches == []  # not one batch under the sweepers' lock
