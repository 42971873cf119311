"""``petitions search`` and ``petitions history`` as a process: the clerk finds a letter by
phone and by words of its content, JSON with ids beside labels; the accused find nothing;
an unknown person or an empty query is one line on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_OFFICE
from tests.e2e.test_cli import run
from tests.integration.test_search import ACCUSATION


@pytest.fixture
def filed(tmp_path: Path) -> Path:
    import pendulum

    from services import cases as services
    from services.bootstrap import bootstrap
    from services.clock import FileClock
    from services.schema import migrated
    from services.settings import Settings

    home = tmp_path / "home"
    home.mkdir()
    clock = FileClock(home / "clock")
    clock.set(pendulum.datetime(2026, 11, 24, 10, 0, tz="Asia/Shanghai"))
    app = migrated(bootstrap(Settings(home=home, config_dir=SAMPLE_OFFICE), clock=clock))
    petition = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())
    for number, data in (("XF-S1", petition), ("XF-S2", ACCUSATION)):
        case = services.register(app, data, registration_no=number, actor="qian.hui")
        services.route_and_assign(app, case.id, actor="intake")
    app.engine.dispose()  # type: ignore[union-attr]
    return home


ENV = {"config_dir": str(SAMPLE_OFFICE), "simulated_clock": "1"}


def test_the_clerk_finds_a_letter_and_its_petitioner_s_history(filed: Path) -> None:
    table = run("search", "138 1234 1234", "--as", "qian.hui", home=filed, **ENV)
    assert table.returncode == 0, table.stderr
    assert "XF-S1" in table.stdout and "138****1234" in table.stdout
    assert "13812341234" not in table.stdout
    found = json.loads(run("search", "工资 补发", "--as", "qian.hui", "--json",
                           home=filed, **ENV).stdout)
    hit = found["hits"][0]
    assert [h["registration_no"] for h in found["hits"]] == ["XF-S1"]
    assert (hit["channel"], hit["channel_label"]) == ("letter", "来信")
    assert hit["stage"] and hit["stage_label"] and found["more"] is False
    history = run("history", "XF-S1", "--as", "qian.hui", home=filed, **ENV)
    assert history.returncode == 0 and "来过 1 次" in history.stdout
    record = json.loads(run("history", "XF-S1", "--as", "qian.hui", "--json",
                            home=filed, **ENV).stdout)
    assert record["cases"] == 1 and record["phone"] == "138****1234"


def test_the_accused_find_nothing_and_bad_input_is_one_line(filed: Path) -> None:
    nothing = json.loads(run("search", "没有的内容", "--as", "zhang.hua", "--json",
                             home=filed, **ENV).stdout)
    for q in ("XF-S2", "截留奖金", "赵秀英"):
        got = json.loads(run("search", q, "--as", "zhang.hua", "--json", home=filed,
                             **ENV).stdout)
        assert {**got, "q": ""} == {**nothing, "q": ""}, q
    hidden = run("history", "XF-S2", "--as", "zhang.hua", home=filed, **ENV)
    missing = run("history", "XF-NONE", "--as", "zhang.hua", home=filed, **ENV)
    assert hidden.returncode == missing.returncode == 2
    assert hidden.stderr.replace("XF-S2", "X") == missing.stderr.replace("XF-NONE", "X")
    nobody = run("search", "工资", "--as", "no.body", home=filed, **ENV)
    assert nobody.returncode == 2 and nobody.stderr.strip() == "error: unknown person 'no.body'"
    empty = run("search", " ", "--as", "qian.hui", home=filed, **ENV)
    assert empty.returncode == 2 and len(empty.stderr.strip().splitlines()) == 1
    assert "nothing to search for" in empty.stderr
