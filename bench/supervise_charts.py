"""How long the 督查 page takes with its charts, at a group's scale.

    .venv/bin/python bench/supervise_charts.py [--size 10000] [--mines 40] [--db sqlite]
        [--home /tmp/scale --reuse] [--times 5]

Builds the group and its petitions as ``bench/scale.py`` does (or, with ``--reuse`` and the
same ``--home``, copies the pristine database it kept), logs the group's first supervisor
into the workplace in-process (FastAPI's TestClient) and times, the clock fixed at the
data's "now": the page (the measures, the overdue lists and every chart's numbers for its
tables), each chart's image (its numbers again, then drawn as SVG), and a mine's page
(the office switch: its charts by unit). A browser fetches the five images side by side
after the page; "page + charts" is their sum, one after the other (the worst case on a
busy two-core server). Prints median and p95 of each, in milliseconds."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scale import NOW, Web, fresh_database, has_pristine, keep_pristine  # noqa: E402
from bench.scale_data import generate, write, write_group  # noqa: E402
from domain.permissions import supervisors  # noqa: E402
from services import glance, supervision  # noqa: E402
from services.bootstrap import sql_app  # noqa: E402
from services.clock import FixedClock  # noqa: E402
from services.config import load_installation  # noqa: E402
from services.glance import BUILDERS  # noqa: E402
from services.settings import Settings  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402


def timed(web: Web, path: str, times: int) -> list[float]:
    web.get(path)  # warm: the first draw loads matplotlib and its fonts
    out = []
    for _ in range(times):
        t0 = time.perf_counter()
        web.get(path)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def timed_call(call: Callable[[], object], times: int) -> list[float]:
    call()
    out = []
    for _ in range(times):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--mines", type=int, default=40)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--times", type=int, default=5)
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="petitions-charts-"))
    home.mkdir(parents=True, exist_ok=True)
    write_group(home / "config", args.mines)
    installation = load_installation(home / "config")
    n = args.size
    url, copied = fresh_database(args.db, args.pg_url, home, n, reuse=args.reuse)
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(home=home, config_dir=home / "config")
    app = sql_app(settings, installation, FixedClock(NOW), engine)
    if not copied:
        t0 = time.perf_counter()
        write(engine, list(generate(app, n, NOW)))
        print(f"{n:,} petitions built and written in {time.perf_counter() - t0:.0f} s",
              flush=True)
        if args.reuse and not has_pristine(args.db, args.pg_url, home, n):
            engine.dispose()
            keep_pristine(args.db, args.pg_url, home, n)
            engine = make_engine(url)
            app = sql_app(settings, installation, FixedClock(NOW), engine)
    with app.uow() as uow:  # as `petitions audit verify` after an import: the page then
        uow.audit_verify(app.audit_key, NOW, full=True)  # reads the check, not every row
        uow.commit()
    boss = sorted(supervisors(app.tree.org("group")))[0]
    web = Web(app, boss)
    mine = sorted(o for o in app.tree.nodes if o != "group")[0]
    figures: dict[str, list[float]] = {
        "督查 page (group)": timed(web, "/supervise", args.times)}
    for key in BUILDERS:
        figures[f"chart {key} (group)"] = timed(web, f"/supervise/charts/{key}.svg",
                                                args.times)
    scoped = app.for_person(boss)
    first, last = supervision.data_period(scoped)
    figures["of the page: the measures and overdue (no chart)"] = timed_call(
        lambda: supervision.overview(scoped, boss, first, last, None), args.times)
    figures["of the page: the charts' numbers (its tables)"] = timed_call(
        lambda: glance.charts(scoped, boss, first, last, None), args.times)
    figures["督查 page (a mine)"] = timed(web, f"/supervise?office={mine}", args.times)
    figures["chart on_time_by_unit (a mine)"] = timed(
        web, f"/supervise/charts/on_time_by_unit.svg?office={mine}", args.times)
    total = [sum(xs) for xs in zip(*(v for k, v in figures.items() if k.endswith("(group)")),
                                   strict=True)]
    figures["page + charts one after another (group)"] = total
    print(f"{args.db}, {n:,} petitions, {args.mines} mines, {args.times} runs each (ms):")
    for name, xs in figures.items():
        xs = sorted(xs)
        p95 = xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]
        print(f"  {name:<44} median {statistics.median(xs):8.0f}  p95 {p95:8.0f}")
    engine.dispose()


if __name__ == "__main__":
    main()
