"""How long finding and claiming 1,000 due rungs takes among 10,000 and 1,000,000 open cases.

    .venv/bin/python bench/sweep_scaling.py [--pg URL] [--sizes 10000 1000000]

Each open case has one pending rung row (its next firing) in ``rung_schedule``; 1,000 of
them are due. The claim is the sweeper's own ``claim_due`` in one transaction, committed.
Targets: 1,000 due rungs claimed in under 1 s; ratio (large/small) at most 1.5.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pendulum
from sqlalchemy import Engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.db import make_engine
from storage.migrate import upgrade
from storage.repository import claim_due
from storage.tables import rung_schedule

DUE = 1_000
NOW = pendulum.datetime(2026, 6, 1, tz="UTC")


def fill(engine: Engine, open_cases: int) -> None:
    past, future = NOW.subtract(hours=1), NOW.add(days=30)
    chunk = 50_000
    with engine.begin() as conn:
        for start in range(0, open_cases, chunk):
            conn.execute(insert(rung_schedule), [
                {"case_id": f"c{i:08d}", "clock": "handling", "rung": "warning",
                 "fire_at": past if i % (open_cases // DUE) == 0 else future.add(minutes=i)}
                for i in range(start, min(start + chunk, open_cases))])
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def measure(engine: Engine) -> tuple[float, int]:
    started = time.perf_counter()
    with engine.begin() as conn:
        claimed = claim_due(conn, NOW, "bench", DUE)
    return time.perf_counter() - started, len(claimed)


def fresh(url: str | None, tmp: Path, size: int) -> Engine:
    if url is None:
        engine = make_engine(f"sqlite:///{tmp / f'sweep-{size}.db'}")
    else:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    return engine


def run(label: str, url: str | None, sizes: list[int], tmp: Path) -> None:
    times = {}
    for size in sizes:
        engine = fresh(url, tmp, size)
        t0 = time.perf_counter()
        fill(engine, size)
        filled = time.perf_counter() - t0
        runs = []
        for _ in range(3):  # claim, then un-claim, so each run sees the same 1,000 due rungs
            seconds, count = measure(engine)
            assert count == DUE, count
            runs.append(seconds)
            with engine.begin() as conn:
                conn.execute(text("UPDATE rung_schedule SET claimed_at = NULL, "
                                  "claimed_by = NULL WHERE claimed_by = 'bench'"))
        times[size] = statistics.median(runs)
        print(f"{label:10} {size:>9,} open cases: filled in {filled:6.1f} s; "
              f"claim {DUE} due rungs: median {times[size] * 1000:7.1f} ms "
              f"(runs: {', '.join(f'{r * 1000:.1f}' for r in runs)} ms)", flush=True)
        engine.dispose()
    small, large = min(sizes), max(sizes)
    print(f"{label:10} ratio {large:,}/{small:,}: {times[large] / times[small]:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="PostgreSQL URL (its public schema is dropped)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run("sqlite", None, args.sizes, Path(tmp))
        if args.pg:
            run("postgresql", args.pg, args.sizes, Path(tmp))


if __name__ == "__main__":
    main()
