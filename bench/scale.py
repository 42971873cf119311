"""A mining group at a city's scale: 40 mines, 10,000 and 100,000 petitions over two years.

    .venv/bin/python bench/scale.py [--sizes 10000,100000] [--db sqlite,postgresql]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--mines 40]

For each size, builds the group (``bench/scale_data.py``: the sample mine copied 40 times
under the group's office, every petition taken through the domain's own methods at its own
instants, a fifth still open) once, writes it in bulk into a fresh SQLite file and a fresh
PostgreSQL database (then ``VACUUM ANALYZE``, as autovacuum does within a minute of a bulk
load), checks it with the audit verification, and times on each, in this process against
that database (no Prefect server; the clock fixed at the data's "now"):

- ``list`` (first page), ``overdue``, ``show`` and ``timeline`` of a case, ``kpi`` for a
  year, the report (the last month), as the CLI commands call them;
- the web workplace's queue of the busiest first responder and a case page (FastAPI's
  TestClient, logged in), an action (acknowledging an assigned case), an intake (register
  and route);
- a ``daily-checks`` run (the audit chains from the signed checkpoint the import's
  ``audit verify --full`` wrote) and a sweep claiming up to 1,000 due rungs;

then prints median and p95 of each, and the ratio of the 100,000 figures to the 10,000
ones. ``serve`` start to ready is timed by ``bench/serve_start.py``.

With ``--reuse`` (and the same ``--home``), each database written is kept as a pristine
copy (SQLite: ``HOME/scale-N.pristine.db``; PostgreSQL: the database
``petitions_scale_N_pristine``), and a later run copies it instead of generating and
writing the petitions again (then upgrades the copy: a new migration runs on 100,000
petitions as an office's upgrade would); the data are the same for the same seed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pendulum

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scale_data import Built, generate, write, write_group  # noqa: E402
from domain.acts import Act  # noqa: E402
from services import cases, reading, sweep, users  # noqa: E402
from services.bootstrap import App, sql_app  # noqa: E402
from services.clock import FixedClock  # noqa: E402
from services.config import load_installation  # noqa: E402
from services.measures import kpis  # noqa: E402
from services.report import render_report  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.timeline import event_rows  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from web.main import create_app  # noqa: E402  (loaded now: edits during a run are not)

NOW = pendulum.datetime(2026, 11, 25, 2, 0)  # Wednesday 10:00 local
PASSWORD = "bench-password-1"
PREFIX = ["petitions_scale"]  # the PostgreSQL databases' names (--pg-prefix)


def timed(call: Callable[[], Any], times: int) -> list[float]:
    out = []
    for _ in range(times):
        t0 = time.perf_counter()
        call()
        out.append(time.perf_counter() - t0)
    return out


def _pg(pg_url: str, *statements: str) -> list[Any]:
    from sqlalchemy import create_engine, text

    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        out = [conn.execute(text(s)).all() if s.startswith("SELECT") else
               conn.execute(text(s)) and None for s in statements]
    admin.dispose()
    return out


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def fresh_database(kind: str, pg_url: str, home: Path, n: int, *, reuse: bool = False
                   ) -> tuple[str, bool]:
    """A database for ``n`` petitions: empty, or with ``reuse`` a copy of the pristine one
    kept by an earlier run if there is one; its URL and whether it is that copy."""
    if kind == "sqlite":
        path, pristine = home / f"scale-{n}.db", home / f"scale-{n}.pristine.db"
        for f in _sqlite_files(path):
            f.unlink(missing_ok=True)
        copied = reuse and pristine.exists()
        if copied:
            shutil.copyfile(pristine, path)
        return f"sqlite:///{path}", copied
    name = f"{PREFIX[0]}_{n}"
    pristine_db = f"{name}_pristine"
    found = _pg(pg_url, f"SELECT 1 FROM pg_database WHERE datname = '{pristine_db}'")[0]
    copied = reuse and bool(found)
    _pg(pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
        f"CREATE DATABASE {name}" + (f" TEMPLATE {pristine_db}" if copied else ""))
    return pg_url.rsplit("/", 1)[0] + "/" + name, copied


def keep_pristine(kind: str, pg_url: str, home: Path, n: int) -> None:
    """Keep the database just written as the pristine copy ``--reuse`` starts from."""
    if kind == "sqlite":
        shutil.copyfile(home / f"scale-{n}.db", home / f"scale-{n}.pristine.db")
        return
    name = f"{PREFIX[0]}_{n}"
    _pg(pg_url, f"DROP DATABASE IF EXISTS {name}_pristine WITH (FORCE)",
        f"CREATE DATABASE {name}_pristine TEMPLATE {name}")


def has_pristine(kind: str, pg_url: str, home: Path, n: int) -> bool:
    if kind == "sqlite":
        return (home / f"scale-{n}.pristine.db").exists()
    return bool(_pg(pg_url, "SELECT 1 FROM pg_database WHERE datname = "
                            f"'{PREFIX[0]}_{n}_pristine'")[0])


class Web:
    """The workplace in-process (TestClient), logged in as one person."""

    def __init__(self, app: App, person: str) -> None:
        import re

        from fastapi.testclient import TestClient

        class NoRuns:
            def wake(self, *a: Any) -> str:
                return "bench"

            def start(self, *a: Any) -> str:
                return "bench"

            def heal(self, *a: Any) -> list[str]:
                return []

            def intake(self, *a: Any) -> None:
                raise AssertionError

        users.set_password(app, person, PASSWORD, actor="bench")
        self.client = TestClient(create_app(app, NoRuns()), follow_redirects=False)
        page = self.client.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf
        done = self.client.post("/login", data={"person_id": person, "password": PASSWORD,
                                                "csrf": csrf.group(1)})
        assert done.status_code == 303, done.text

    def get(self, path: str) -> None:
        r = self.client.get(path)
        assert r.status_code == 200, (path, r.status_code)


def measure(app: App, n: int, rnd: random.Random) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {}
    with app.uow() as uow:
        open_cases = uow.find_cases(limit=2000)
        assigned = uow.find_cases(stage="assigned", limit=50)
        load = uow.cases.workload()
    refs = [c.id for c in rnd.sample(open_cases, min(20, len(open_cases)))]
    busiest = max(load, key=lambda p: load[p])
    mine = app.at(app.tree.home(busiest) or "group")
    figures["list (first page)"] = timed(lambda: reading.open_case_rows(app), 10)
    figures["督查 page"] = []  # timed below, logged in as the group's petition office head
    def overdue() -> None:  # as `petitions overdue` does by default
        reading.overdue_rows(app, limit=reading.OVERDUE_PAGE)
        reading.overdue_summary(app)
    figures["overdue (200 worst, counts)"] = timed(overdue, 5)
    it = iter(refs * 3)
    figures["show"] = timed(lambda: reading.case_and_history(app, next(it)), 20)

    def timeline() -> None:
        case, audit = reading.case_and_history(app, next(it))
        event_rows(audit)
        case.deadlines(app.rules_for(case), app.clock.now())
    figures["timeline"] = timed(timeline, 20)
    year = (dt.date(2025, 11, 25), dt.date(2026, 11, 24))
    figures["kpi (a year)"] = timed(lambda: kpis(app, *year, None), 3)
    month = (dt.date(2026, 10, 25), dt.date(2026, 11, 24))
    figures["report (a month)"] = timed(lambda: render_report(app, *month, None), 3)
    head = app.tree.org("group").office_head or "sx.han"
    boss = Web(app.at("group"), head)
    figures["督查 page"] = timed(lambda: boss.get("/supervise?start=2026-01-01&end=2026-11-24"),
                               3)
    web = Web(mine, busiest)
    figures[f"web queue ({load[busiest]} open)"] = timed(lambda: web.get("/"), 10)
    with app.uow() as uow:
        held = [c.id for c in uow.find_cases(people=[busiest], limit=20)]
    pages = iter(held * 10)
    figures["web case page"] = timed(lambda: web.get(f"/cases/{next(pages)}"), 10)
    acts = iter(assigned)

    def act() -> None:
        c = next(acts)
        cases.act(app, c.id, cases.ActRequest(Act.ACK, str(c.responder)))
    figures["action (ack)"] = timed(act, min(10, len(assigned)))
    numbers = iter(range(10**6))
    sample = {"petitioner": {"name": "测试", "phone": "13900000000"}, "channel": "visit",
              "category": "complaint", "subject": "工资未按时发放",
              "content": "请求核查补发工资", "concerns_unit": None}

    def intake() -> None:
        clerk = mine.office.org.office_staff
        who = sorted(p for p in clerk if mine.office.org.people[p].responder)[0]
        c = cases.register(mine, sample, registration_no=f"XF-BENCH-{next(numbers)}",
                           actor=who)
        cases.route_and_assign(mine, c.id, actor="intake")
    figures["intake"] = timed(intake, 10)
    figures["sweep (<= 1,000 due rungs)"] = timed(
        lambda: sweep.sweep(app, sweeper="bench", limit=1000), 1)
    # the configuration is new to this database (a mark left by a run on another is not)
    (app.settings.home / sweep.SCHEDULES_MARK).unlink(missing_ok=True)
    figures["daily-checks (config new: all rescheduled)"] = timed(
        lambda: sweep.daily_checks(app), 1)
    figures["daily-checks (the next morning)"] = timed(lambda: sweep.daily_checks(app), 1)
    return figures


def timed_each(call: Callable[[str], Any], args: list[str]) -> list[float]:
    out = []
    for arg in args:
        t0 = time.perf_counter()
        call(arg)
        out.append(time.perf_counter() - t0)
    return out


def searches(app: App, rnd: random.Random) -> dict[str, list[float]]:
    """Search (the use case the search box, the API and the CLI call: the database's
    candidates, each judged with ``sight``, a page of 20) as the group's petition office
    head (every mine's ordinary petitions; accusations by number only) and as the busiest
    first responder (their own cases); and a petitioner's history."""
    from services import history, search

    with app.uow() as uow:
        sample = rnd.sample(uow.find_cases(limit=3000, open_only=False), 10)
        load = uow.cases.workload()
    busiest = max(load, key=lambda p: load[p])
    with app.uow() as uow:
        held = uow.find_cases(people=[busiest], limit=10, open_only=False)
    head = app.tree.org("group").office_head or "sx.han"
    figures: dict[str, list[float]] = {}
    for who, viewer, cases_ in (("supervisor", head, sample), ("handler", busiest, held)):
        queries = {
            "phone": [str(c.petition.petitioner.phone) for c in cases_],
            "name": [c.petition.petitioner.name for c in cases_],
            "registration no": [c.registration_no for c in cases_],
            "two words (绩效 补发)": ["绩效 补发"] * 10,
            "a phrase (出差报销)": ["出差报销"] * 10,
            "2 characters (职工)": ["职工"] * 10,
        }
        for what, texts in queries.items():
            figures[f"search {what}, {who}"] = timed_each(
                lambda text, v=viewer: search.search(app, v, text), texts)
    anchors = iter([c.id for c in held] * 2)
    figures["history (信访人档案), handler"] = timed(
        lambda: history.petitioner_history(app, busiest, next(anchors)), 10)
    return figures


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--mines", type=int, default=40)
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--pg-prefix", default=PREFIX[0],
                    help="the PostgreSQL databases' names: PREFIX_N (and _pristine)")
    ap.add_argument("--only", default="",
                    help="time only the measures whose name starts with one of these "
                    "(comma-separated), e.g. 'search,history'")
    ap.add_argument("--reuse", action="store_true",
                    help="start from the pristine copies an earlier run kept in --home")
    args = ap.parse_args()
    PREFIX[0] = args.pg_prefix
    home = args.home or Path(tempfile.mkdtemp(prefix="petitions-scale-"))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "config"
    t0 = time.perf_counter()
    write_group(config, args.mines)
    installation = load_installation(config)
    print(f"home {home}: the group and {args.mines} mines configured in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    results: dict[tuple[str, int], dict[str, list[float]]] = {}
    for n in (int(x) for x in args.sizes.split(",")):
        t0 = time.perf_counter()
        built: list[Built] = []
        if not (args.reuse and all(has_pristine(k, args.pg_url, home, n)
                                   for k in args.db.split(","))):
            probe = App(Settings(home=home), installation.office(None), FixedClock(NOW),
                        lambda: None, None, installation)  # type: ignore[arg-type,return-value]
            built = list(generate(probe, n, NOW))
            open_n = sum(1 for b in built if b.case.stage.value != "closed")
            print(f"{n:,} petitions built through the domain in "
                  f"{time.perf_counter() - t0:.0f} s: {len(built):,} cases (with the "
                  f"group's reviews), {open_n:,} open, "
                  f"{sum(len(b.case.events) for b in built):,} audit events", flush=True)
        for kind in args.db.split(","):
            url, copied = fresh_database(kind, args.pg_url, home, n, reuse=args.reuse)
            engine = make_engine(url)
            t0 = time.perf_counter()
            upgrade(engine)
            if copied:
                print(f"  {kind}: the pristine copy taken and upgraded in "
                      f"{time.perf_counter() - t0:.1f} s", flush=True)
            else:
                t0 = time.perf_counter()
                write(engine, built)
                print(f"  {kind}: written in {time.perf_counter() - t0:.0f} s", flush=True)
                if args.reuse:
                    engine.dispose()
                    keep_pristine(kind, args.pg_url, home, n)
            if kind == "postgresql":  # as autovacuum does within a minute of a bulk load
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.exec_driver_sql("VACUUM ANALYZE")
            app = sql_app(Settings(home=home, config_dir=config, database_url=url),
                          installation, FixedClock(NOW), engine)
            t0 = time.perf_counter()
            with app.uow() as uow:  # as `petitions audit verify` after an import
                found = uow.audit_verify(app.audit_key, NOW, full=True)
                uow.commit()
            print(f"  {kind}: audit verify --full {found.checked:,} chains, "
                  f"{len(found.breaks)} broken, {found.rows_read:,} rows, "
                  f"{time.perf_counter() - t0:.1f} s; checkpoint {found.checkpoint} written",
                  flush=True)
            only = tuple(w for w in args.only.split(",") if w)
            figures: dict[str, list[float]] = {}
            if not only or any(w.startswith(("search", "history")) for w in only):
                figures.update(searches(app, random.Random(n)))
            if not only or any(not w.startswith(("search", "history")) for w in only):
                figures.update(measure(app, n, random.Random(n)))
            results[(kind, n)] = {k: v for k, v in figures.items()
                                  if not only or k.startswith(only)}
            for what, xs in results[(kind, n)].items():
                print(f"  {kind} {n:>7,} {what:<32} p50 {statistics.median(xs):8.3f} s  "
                      f"p95 {pct(xs, 0.95):8.3f} s", flush=True)
            engine.dispose()
    sizes = sorted({n for _, n in results})
    if len(sizes) == 2:
        small, big = sizes
        print(f"\nratio {big:,} / {small:,} (p95)")
        for kind in args.db.split(","):
            a, b = results.get((kind, small)), results.get((kind, big))
            if not a or not b:
                continue
            for (what, xs), ys in zip(a.items(), b.values(), strict=True):
                print(f"  {kind:<10} {what:<32} {pct(ys, 0.95) / max(pct(xs, 0.95), 1e-9):6.2f}")


if __name__ == "__main__":
    main()
