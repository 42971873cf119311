"""An outsider guessing one clerk's password, and whether a wrong id answers differently.

    .venv/bin/python bench/login_guessing.py [--connections 24] [--seconds 90]
        [--database-url postgresql+psycopg://...] [--timing-tries 200]

1. Guessing: the workplace served by uvicorn (one process, as ``petitions serve`` runs it)
   over a fresh database (SQLite under a temporary home; or, given a PostgreSQL URL, a
   database of its own made on that server, ``petitions_bench_login_*``, dropped at the
   end), the sample office, ``lin.na``'s password set. Then ``--connections`` HTTP
   connections (httpx clients, one thread each) post wrong passwords for ``lin.na`` as fast
   as they are answered for ``--seconds``. Prints how many were judged (401), refused
   before their turn (429), and the judged ones per minute.
2. Timing: ``users.log_in`` with a wrong password for a known id and for ids nobody has,
   ``--timing-tries`` each, interleaved, the clock moved past every hold between tries (a
   ``FixedClock``), so every try is judged: medians and 90th percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pendulum
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services import login_gate, users  # noqa: E402
from services.bootstrap import App, sql_app  # noqa: E402
from services.clock import Clock, FixedClock, SystemClock  # noqa: E402
from services.config import load_office  # noqa: E402
from services.settings import Settings  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

SAMPLE = ROOT / "deploy" / "config"
PASSWORD = "correct-horse-7"


def fresh_app(home: Path, url: str | None, clock: Clock) -> App:
    home.mkdir(parents=True, exist_ok=True)
    db = url or f"sqlite:///{home / 'petitions.db'}"
    engine = make_engine(db)
    upgrade(engine)
    app = sql_app(Settings(home=home, config_dir=SAMPLE), load_office(SAMPLE), clock, engine)
    users.set_password(app, "lin.na", PASSWORD, actor="bench")
    return app


def guessing(app: App, connections: int, seconds: float) -> None:
    import socket

    import uvicorn

    from web.main import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(app), host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.1)
    base = f"http://127.0.0.1:{port}"
    counts: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def guess(n: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as c:
            page = c.get("/login").text
            csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            i = 0
            while time.monotonic() < stop:
                i += 1
                code = c.post("/login", data={"person_id": "lin.na", "csrf": csrf,
                                              "password": f"guess-{n}-{i}"}).status_code
                with lock:
                    counts[code] = counts.get(code, 0) + 1

    started = time.monotonic()
    threads = [threading.Thread(target=guess, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    server.should_exit = True
    judged, refused = counts.get(401, 0), counts.get(429, 0)
    print(f"{connections} connections guessing lin.na's password for {took:.0f} s: "
          f"{judged} judged (401), {refused} refused before their turn (429), "
          f"other {sorted((k, v) for k, v in counts.items() if k not in (401, 429))}; "
          f"{judged / took * 60:.1f} judged a minute")


def timing(app: App, clock: FixedClock, tries: int) -> None:
    known: list[float] = []
    unknown: list[float] = []
    for i in range(tries):
        for who, into in (("lin.na", known), (f"nobody.{i}", unknown)):
            clock.advance(seconds=login_gate.MAX_HOLD + 1)
            t0 = time.perf_counter()
            assert users.log_in(app, who, "guess-guess", via="bench").person is None
            into.append((time.perf_counter() - t0) * 1000)
        if i % 90 == 89:  # stay clear of the lock: this measures time, not the lock
            login_gate.unlock(app, "lin.na", actor="bench")

    def q(xs: list[float]) -> str:
        xs = sorted(xs)
        return f"median {statistics.median(xs):.1f} ms, p90 {xs[int(len(xs) * 0.9)]:.1f} ms"

    print(f"a wrong password, {tries} tries each: known id {q(known)}; "
          f"unknown ids {q(unknown)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=24)
    ap.add_argument("--seconds", type=float, default=90)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--timing-tries", type=int, default=200)
    a = ap.parse_args()
    logging.getLogger("petitions.access").setLevel(logging.ERROR)  # a line per guess else
    with tempfile.TemporaryDirectory() as home, own_databases(a.database_url) as urls:
        print(f"database: {'PostgreSQL' if a.database_url else 'SQLite'}")
        guessing(fresh_app(Path(home) / "g", urls[0], SystemClock()), a.connections,
                 a.seconds)
        clock = FixedClock(pendulum.now("UTC"))
        timing(fresh_app(Path(home) / "t", urls[1], clock), clock, a.timing_tries)


@contextlib.contextmanager
def own_databases(url: str | None) -> Iterator[list[str | None]]:
    """Two new databases on the server of ``url`` (dropped after); SQLite: none needed."""
    if not url:
        yield [None, None]
        return
    names = [f"petitions_bench_login_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield [make_url(url).set(database=n).render_as_string(hide_password=False)
               for n in names]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
