"""The public door's one promise, over generated cases (on the in-memory store): a
petitioner signed in with a mobile number reaches their own cases and no other — not in
their list, not by acting on one, not by asking for its written answer — however the
numbers were typed at the counter (spaces, dashes, +86, full-width digits), and whatever
registration number they send."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.door import mobile
from domain.errors import CaseNotFound
from services import cases, door
from services.bootstrap import App
from services.clock import FixedClock
from services.config import Office
from services.settings import Settings
from storage.memory import MemoryStore
from tests.conftest import SAMPLE_OFFICE, WAGE
from tests.door_standin import door_open
from tests.integration.test_web import RecordingRuns

NUMBERS = ["13912345678", "13912345679", "13800001111", "15000000000"]


def typed(number: str, how: int) -> str:
    """``number`` as a clerk might type it."""
    return [number, f"{number[:3]} {number[3:7]} {number[7:]}", f"+86 {number}",
            f"{number[:3]}-{number[3:]}",
            number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))][how]


cases_drawn = st.lists(st.tuples(st.sampled_from(NUMBERS), st.integers(0, 4),
                                 st.booleans(), st.booleans()), min_size=1, max_size=6)


@pytest.fixture(scope="module")
def home() -> Path:
    return Path(tempfile.mkdtemp(prefix="door-props-"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=cases_drawn, who=st.sampled_from(NUMBERS), probe=st.text(max_size=30))
def test_no_petitioner_session_reaches_a_case_that_is_not_theirs(
        office: Office, home: Path, drawn: list[tuple[str, int, bool, bool]], who: str,
        probe: str) -> None:
    app = door_open(App(Settings(home=home, config_dir=SAMPLE_OFFICE), office,
                        FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), MemoryStore().uow),
                    "http://127.0.0.1:9")
    owners: dict[str, str] = {}
    for i, (number, how, online, accusation) in enumerate(drawn):
        category = "accusation" if accusation else "complaint"
        if online:
            case, _ = door.submit(app, number, {
                "name": "王建国", "category": category, "subject": f"事项{i}",
                "content": "内容", "concerns_unit": "mining1"}, [])
        else:
            data = {**WAGE, "category": category, "subject": f"来信{i}",
                    "petitioner": {**WAGE["petitioner"], "phone": typed(number, how)}}
            case = cases.register(app, data, registration_no=f"XF-T-{i}", actor="qian.hui")
        owners[case.ref] = number
    theirs = {ref for ref, number in owners.items() if number == who}
    assert {c.ref for c in door.my_cases(app, who)} == theirs
    for ref in [*owners, probe]:
        if ref in theirs:
            continue
        with pytest.raises(CaseNotFound):
            door.take(app, RecordingRuns(), who, ref, "rate", rating="satisfied")
        with pytest.raises(CaseNotFound):
            door.decision_pdf(app, who, ref)
    assert all(mobile(number) == number for number in owners.values())
