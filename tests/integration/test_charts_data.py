"""The charts' counts in the database, on SQLite and PostgreSQL: petitions by month,
channel and category equal the cases themselves (less an accusation its accused supervisor
may not see); the overdue ageing counts the open overdue cases the supervisor may see, in
the bucket of how long each is past due."""

from __future__ import annotations

import dataclasses
import datetime as dt

from services import cases
from services.clock import FixedClock
from services.measures import received_mix
from services.reading import overdue_summary
from services.supervision import overdue_ages
from tests.conftest import WAGE

ACCUSED = {**WAGE, "category": "accusation", "subject": "检举矿长",
           "accused_persons": ["gao.jian"], "concerns_unit": None}


def _registered(app):  # type: ignore[no-untyped-def]
    for n, petition in enumerate([WAGE, {**WAGE, "channel": "visit"}, ACCUSED]):
        case = cases.register(app, petition, registration_no=f"XF-C-{n}", actor="qian.hui")
        cases.route_and_assign(app, case.id, actor="intake")


def test_the_mix_counts_each_petition_by_month_channel_and_category(app):  # type: ignore[no-untyped-def]
    _registered(app)
    month = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    with app.uow() as uow:
        by_hand: dict[tuple[str, str, str], int] = {}
        for c in uow.all_cases():
            k = ("2026-11", c.petition.channel.value, c.petition.category.value)
            by_hand[k] = by_hand.get(k, 0) + 1
    assert received_mix(app, *month, None) == by_hand
    assert received_mix(app, *month, None, "li.ming") == by_hand
    seen_by_accused = received_mix(app, *month, None, "gao.jian")
    assert sum(seen_by_accused.values()) == 2
    assert all(cat != "accusation" for _m, _ch, cat in seen_by_accused)
    assert received_mix(app, dt.date(2026, 10, 1), dt.date(2026, 10, 31), None) == {}


def test_the_overdue_ageing_buckets_what_the_supervisor_may_see(app):  # type: ignore[no-untyped-def]
    _registered(app)
    assert sum(overdue_ages(app, "li.ming").values()) == 0
    for days, bucket in ((40, "30_90"), (200, "over_90")):
        later = dataclasses.replace(app, clock=FixedClock(app.clock.now().add(days=days)))
        for viewer in ("li.ming", "gao.jian"):
            ages = overdue_ages(later, viewer)
            total, _ = overdue_summary(later, viewer)
            assert sum(ages.values()) == total > 0, (days, viewer)
            assert ages[bucket] > 0, (days, ages)
        assert sum(overdue_ages(later, "gao.jian").values()) < \
            sum(overdue_ages(later, "li.ming").values())
