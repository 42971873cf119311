"""How fast the public door (网上信访) takes a submission over a large database, and whether
50 at once are each registered once.

    .venv/bin/python bench/door_latency.py --db /tmp/scale/scale-100000.db \
        --config /tmp/scale/config [--requests 60] [--at-once 50]

Copies the given SQLite database (e.g. the 100,000 petitions ``bench/scale.py`` writes)
into a throw-away home, opens the door of the installation's root office with an SMS
stand-in (``tests/door_standin.py``, in this process), serves the workplace with uvicorn in
this process (no Prefect: the run start answers "not now") and, over real HTTP with a signed
door session per petitioner (sign-in itself is capped per address, so the sessions are
signed here as the door signs them):

- ``--requests`` submissions one after another, each a new petitioner with a scan (a PNG
  page): p50 and p95 (target p95 < 500 ms);
- ``--at-once`` different petitioners submitting at the same instant: each registered once;
- ``--at-once`` copies of one petitioner's same matter at the same instant: one case.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import os
import re
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from itsdangerous import TimestampSigner  # noqa: E402
from werkzeug import Request  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from services.bootstrap import bootstrap  # noqa: E402
from services.config import Installation  # noqa: E402
from services.schema import migrated  # noqa: E402
from services.settings import Settings  # noqa: E402
from tests.door_standin import KEY_ID, KEY_SECRET, Phones, door_open  # noqa: E402
from tests.samples import image  # noqa: E402
from web.auth import session_secret  # noqa: E402
from web.main import create_app  # noqa: E402

REF = re.compile(r'id="door-ref" class="door-big">([^<]+)<')


class NoRuns:
    def start(self, app: Any, case_id: str) -> str | None:
        return "not now"

    def wake(self, run_id: str, request: Any) -> str | None:
        return "not now"

    def heal(self, app: Any, case_id: str) -> list[str]:
        return []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--requests", type=int, default=60)
    ap.add_argument("--at-once", type=int, default=50)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="door-bench-"))
    db = home / "petitions.db"
    t0 = time.perf_counter()
    shutil.copy(args.db, db)
    os.environ.update({"PETITIONS_HOME": str(home), "PETITIONS_CONFIG_DIR": str(args.config),
                       "PETITIONS_DATABASE_URL": f"sqlite:///{db}",
                       "TEST_DOOR_SMS_ID": KEY_ID, "TEST_DOOR_SMS_SECRET": KEY_SECRET})
    app = migrated(bootstrap(Settings.from_env()))
    with app.engine.connect() as c:  # type: ignore[union-attr]
        total = c.exec_driver_sql("SELECT count(*) FROM cases").scalar()
    print(f"copied and migrated {total:,} petitions in {time.perf_counter() - t0:.0f} s")
    phones = Phones()
    sms = make_server("127.0.0.1", 0, Request.application(phones))
    threading.Thread(target=sms.serve_forever, daemon=True).start()
    opened = door_open(app, f"http://127.0.0.1:{sms.server_port}").office
    app = dataclasses.replace(app, office=opened, _rules={}, installation=Installation.of(
        *[opened if o.id == opened.id else o for o in app.offices.offices.values()]))
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(app, NoRuns()), host="127.0.0.1",
                                           port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.1)
    base = f"http://127.0.0.1:{port}"
    signer = TimestampSigner(session_secret(app.settings), salt="petitions-door")
    scan = image("PNG", seed=1, size=(600, 800))

    def submit(number: str, subject: str) -> tuple[float, str]:
        with httpx.Client(base_url=base, timeout=120) as c:
            c.cookies.set("petitions_door", signer.sign(f"{number}:tok").decode(),
                          path="/submit")
            start = time.perf_counter()
            r = c.post("/submit/new", data={
                "csrf": "tok", "name": "测试信访人", "category": "complaint",
                "subject": subject, "content": "井下作业补贴未按标准发放，请予核查。"},
                files=[("files", ("scan.png", scan, "image/png"))])
            took = time.perf_counter() - start
        found = REF.search(r.text)
        assert r.status_code == 200 and found, (r.status_code, r.text[:500])
        return took, found.group(1)

    submit("15900000000", "预热")
    times = [submit(f"159{i:08d}", f"补贴未发放{i}")[0] * 1000
             for i in range(1, args.requests + 1)]
    q = statistics.quantiles(times, n=20)
    print(f"submission, one at a time ({args.requests}): p50 {statistics.median(times):.1f} ms,"
          f" p95 {q[18]:.1f} ms (target < 500 ms: {'met' if q[18] < 500 else 'NOT met'})")

    def together(jobs: list[tuple[str, str]]) -> list[tuple[float, str]]:
        with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
            return list(pool.map(lambda j: submit(*j), jobs))

    n = args.at_once
    many = together([(f"158{i:08d}", f"同时提交{i}") for i in range(n)])
    refs = {ref for _, ref in many}
    with app.uow() as uow:
        stored = [uow.cases.get(ref, lock=False) for ref in refs]
    slowest = max(t for t, _ in many) * 1000
    print(f"{n} petitioners at once: {len(refs)} numbers, {len(stored)} cases "
          f"(slowest answer {slowest:.0f} ms)")
    same = together([("15700000000", "同一事项")] * n)
    one = {ref for _, ref in same}
    with app.uow() as uow:
        mine = uow.phone_cases("15700000000")
    print(f"one matter {n} times at once: {len(one)} number(s), {len(mine)} case(s)")
    assert len(refs) == len(stored) == n and len(one) == len(mine) == 1
    server.should_exit = True
    sms.shutdown()
    shutil.rmtree(home)


if __name__ == "__main__":
    main()
