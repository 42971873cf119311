"""A rung that cannot fire holds back no other (on the in-memory store; the same on SQLite
and PostgreSQL in tests/integration/test_services.py): it is recorded with its reason, the
office is alarmed at once, and it is retried with backoff."""

from __future__ import annotations

import pytest

from services import cases as s
from services.bootstrap import App
from services.sweep import sweep
from tests.conftest import WAGE, events_of

# Everyone who could receive the top of the chain is accused: the mine head, the party
# secretary and both beyond-top recipients.
POISON = {**WAGE, "category": "accusation", "subject": "矿领导班子集体违规发放福利",
          "content": "材料", "concerns_unit": None,
          "accused_persons": ["gao.jian", "ma.yun", "xu.jing", "group.xinfang"]}


@pytest.fixture
def app(memory_app: App) -> App:
    return memory_app


def _accepted(app: App, data: dict, number: str) -> str:  # type: ignore[type-arg]
    case = s.register(app, data, registration_no=number, actor="qian.hui")
    case = s.route_and_assign(app, case.id, actor="intake")
    s.act(app, case.id, s.ActRequest(s.Act.ACK, str(case.responder)))
    s.act(app, case.id, s.ActRequest(s.Act.ACCEPT, str(case.responder), reason="受理"))
    return case.id


def poisoned_office(app: App, n: int) -> tuple[str, list[str]]:
    others = [_accepted(app, {**WAGE, "petitioner": {**WAGE["petitioner"],
                                                      "id_number": f"1426011980010{i:05d}"}},
                        f"XF-{i:03d}") for i in range(n)]
    return _accepted(app, POISON, "XF-POISON"), others


def test_one_poisoned_case_among_100_holds_back_no_other_rung(app):
    poisoned, others = poisoned_office(app, 100)
    app.clock.advance(days=75)  # type: ignore[attr-defined]
    swept = sweep(app, sweeper="sweeper-test", limit=10_000)
    assert {f.case_id for f in swept.fired} >= set(others)
    for case_id in others:  # every other case's rungs fired, up to the party secretary
        fired = {e.data.get("rung") for e in events_of(app, case_id)}
        assert {"escalate-mine-head", "escalate-secretary"} <= fired
    assert swept.failed and {f.case_id for f in swept.failed} == {poisoned}
    assert {f.rung for f in swept.failed} >= {"escalate-mine-head", "escalate-secretary"}
    assert all("NoRecipient" in f.reason and f.alarmed == "li.ming" for f in swept.failed)
    recorded = [e for e in events_of(app, poisoned) if e.type == "RungFailed"]
    assert len(recorded) == len(swept.failed) and {e.data["attempt"] for e in recorded} == {1}
    with app.uow() as uow:
        alarms = [m for m in uow.messages(limit=5000) if m.kind == "alert"]
    assert {(m.recipient, m.payload["alert"]["code"]) for m in alarms} == {
        ("li.ming", "rung_failed")}
    assert len(alarms) == len(swept.failed)
    assert not any("gao.jian" in str(m.payload) for m in alarms)  # no accused named


def test_a_failed_rung_is_retried_with_backoff(app):
    poisoned, _ = poisoned_office(app, 2)
    app.clock.advance(days=75)  # type: ignore[attr-defined]
    first = {(f.clock, f.rung) for f in sweep(app, sweeper="sweeper-test").failed}
    assert first
    assert sweep(app, sweeper="sweeper-test").failed == []  # not before its retry
    app.clock.advance(minutes=6)  # type: ignore[attr-defined]
    assert {(f.clock, f.rung) for f in sweep(app, sweeper="sweeper-test").failed} == first
    app.clock.advance(minutes=6)  # type: ignore[attr-defined]
    assert sweep(app, sweeper="sweeper-test").failed == []  # the wait doubled: 10 minutes
    attempts = sorted(e.data["attempt"] for e in events_of(app, poisoned)
                      if e.type == "RungFailed")
    assert attempts == [1] * len(first) + [2] * len(first)


def test_a_rung_failing_for_weeks_waits_six_hours_between_tries_and_never_breaks_the_sweep(app):
    """Its 40th failure (about ten days of six-hourly tries) once overflowed the doubling
    wait and made every sweep raise."""
    poisoned, _ = poisoned_office(app, 1)
    app.clock.advance(days=75)  # type: ignore[attr-defined]
    for _ in range(45):
        assert sweep(app, sweeper="sweeper-test").failed
        app.clock.advance(hours=6, seconds=1)  # type: ignore[attr-defined]
    retries = [e.data for e in events_of(app, poisoned) if e.type == "RungFailed"]
    assert max(r["attempt"] for r in retries) >= 45
