"""How long the quarterly review pack and the yearly targets take at a group's scale.

    .venv/bin/python bench/review_pack.py [--n 10000] [--mines 4]

Builds the group (``bench/scale_data.py``: the sample mine copied ``--mines`` times, ``--n``
petitions over two years, a fifth still open) into a fresh SQLite file, then times, three
times each (median): the pack of the current quarter for the operator (every case) and for
the group's petition office head (what they may see), and the targets of the year (the
督查 page's rows). The pack reads the cases of the quarter, the last one and the same one
a year before: it grows with them."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pendulum
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scale_data import generate, write, write_group  # noqa: E402
from domain.quarters import Quarter  # noqa: E402
from services.bootstrap import App, sql_app  # noqa: E402
from services.clock import FixedClock  # noqa: E402
from services.config import load_installation  # noqa: E402
from services.review_pack import build_pack, render_pack  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.targets import target_rows  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

NOW = pendulum.datetime(2026, 11, 25, 2, 0)  # Wednesday 10:00 local


def _median(fn: object, times: int = 3) -> float:
    took = []
    for _ in range(times):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        took.append(time.perf_counter() - t0)
    return statistics.median(took)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--mines", type=int, default=4)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="petitions-review-"))
    config = home / "config"
    write_group(config, args.mines)
    mine = config / "mine-01"  # its units' letters (the generated mines configure none)
    units = [u["id"] for u in yaml.safe_load((mine / "org.yaml").read_text())["units"]
             if u["id"].endswith(("hr", "finance", "mining1"))]
    office = yaml.safe_load((mine / "office.yaml").read_text())
    office["responsibility"] = [{"year": 2026, "unit": u, "on_time_closure": "95%",
                                 "satisfaction": "90%", "repeat_rate": "10%",
                                 "group_visits": 0} for u in units]
    (mine / "office.yaml").write_text(yaml.safe_dump(office, allow_unicode=True))
    installation = load_installation(config)
    t0 = time.perf_counter()
    probe = App(Settings(home=home), installation.office(None), FixedClock(NOW),
                lambda: None, None, installation)  # type: ignore[arg-type,return-value]
    built = list(generate(probe, args.n, NOW))
    url = f"sqlite:///{home / 'petitions.db'}"
    engine = make_engine(url)
    upgrade(engine)
    write(engine, built)
    print(f"{args.n:,} petitions over {args.mines} mines built and written in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    app = sql_app(Settings(home=home, config_dir=config, database_url=url), installation,
                  FixedClock(NOW), engine)
    q = Quarter(2026, 4)
    head = app.office.org.office_head
    pack = build_pack(app, q)
    print(f"the {q.key} pack holds {pack.petitions:,} petitions", flush=True)
    print(f"pack, every case:        {_median(lambda: render_pack(build_pack(app, q), 'x')):.2f} s")
    if head:
        print(f"pack, as {head}: {_median(lambda: build_pack(app, q, head)):.2f} s")
    one = app.at("mine-01")
    boss = one.office.org.office_head
    print(f"targets of the year at mine-01 ({len(target_rows(one, 2026, None, boss))} rows, "
          f"as {boss}): {_median(lambda: target_rows(one, 2026, None, boss)):.2f} s")
    print(f"pack at mine-01, as {boss}: {_median(lambda: build_pack(one, q, boss)):.2f} s")


if __name__ == "__main__":
    main()
