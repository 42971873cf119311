"""The 督查 page's charts in a real browser (Chromium through Selenium) over a group's
year of petitions (``bench/scale_data.py``, three mines): the group's supervisor logs in,
and every chart is drawn (the image loaded under the page's CSP, not broken) beside its
table. Screenshot: ``artifacts/screenshots/supervise-charts.png`` (the README's, copied to
``docs/screenshots/``)."""

from __future__ import annotations

from pathlib import Path

from bench.scale_data import generate, write, write_group
from domain.permissions import supervisors
from services import users
from services.bootstrap import sql_app
from services.clock import FixedClock
from services.config import load_installation
from services.glance import BUILDERS
from services.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade
from tests.browser import chromium, serving
from tests.flows.test_workplace import SHOTS, _by_id, _wait
from tests.integration.test_rollup import NOW

PASSWORD = "charts-2026-glance"


def test_the_supervisor_reads_the_charts_beside_their_numbers(tmp_path: Path) -> None:
    write_group(tmp_path / "config", 3)
    installation = load_installation(tmp_path / "config")
    engine = make_engine(f"sqlite:///{tmp_path / 'petitions.db'}")
    upgrade(engine)
    app = sql_app(Settings(home=tmp_path, config_dir=tmp_path / "config"), installation,
                  FixedClock(NOW), engine)
    write(engine, list(generate(app, 400, NOW, seed=5)))
    boss = sorted(supervisors(app.tree.org("group")))[0]
    users.set_password(app, boss, PASSWORD, actor="test")
    try:
        with serving(app) as address, chromium("--window-size=1280,1000") as d:
            d.get(f"{address}/login")
            _by_id(d, "person_id").send_keys(boss)
            _by_id(d, "password").send_keys(PASSWORD)
            _by_id(d, "login").click()
            _by_id(d, "me")
            d.get(f"{address}/supervise")
            _by_id(d, "charts")
            drawn = _wait(d, "every chart drawn", lambda d: d.execute_script(
                "const i = [...document.querySelectorAll('#charts img')];"
                "return i.length && i.every(x => x.complete) ? "
                "i.map(x => [x.naturalWidth, x.alt]) : null"))
            assert len(drawn) == len(BUILDERS)
            assert all(width > 0 for width, _ in drawn), drawn  # none blocked or broken
            text = d.find_element("id", "charts").text
            assert "近12个月每月信访量（按渠道）" in text and "按期办结率（%）" in text
            assert "2026年11月" in text and "90天以上" in text
            height = d.execute_script("return document.getElementById('charts')"
                                      ".getBoundingClientRect().bottom + window.scrollY")
            d.set_window_size(1280, int(height) + 40)
            SHOTS.mkdir(parents=True, exist_ok=True)
            d.save_screenshot(str(SHOTS / "supervise-charts.png"))
    finally:
        engine.dispose()
