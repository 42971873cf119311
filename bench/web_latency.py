"""How fast the office workplace answers with 10,000 cases in the embedded SQLite database.

    .venv/bin/python bench/web_latency.py [--cases 10000] [--requests 60] [--home DIR]

Seeds a throw-away PETITIONS_HOME with the sample mine and N petitions received over the
past year (registered and routed through the use cases; of the last 90 days' a third left
assigned, a third accepted, a third closed; of the older ones 19 in 20 closed, the rest
open and overdue), starts the workplace as ``petitions serve`` does (uvicorn,
``web.main:create_app``, one process) and times, over real HTTP with a logged-in session:
the queue page of the busiest first responder, a case page, and the intake POST (register
and route in the request). Targets: p95 under 200 ms for the pages, under 500 ms for the
intake. No Prefect server runs: the intake's run start answers "not now" at once, as it
does when Prefect is down.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pendulum

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.acts import Act  # noqa: E402
from services import cases  # noqa: E402
from services.bootstrap import bootstrap  # noqa: E402
from services.clock import FileClock  # noqa: E402
from services.schema import migrated  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.users import set_password  # noqa: E402

NOW = pendulum.datetime(2026, 11, 25, 2, 0, tz="UTC")
PASSWORD = "bench-password-1"
SUBJECTS = [("工资未足额发放", "complaint", None),
            ("井下通风设备噪声扰民", "complaint", "safety"),
            ("食堂饭菜价格上涨", "suggestion", "logistics"),
            ("职称评定不公", "complaint", "hr"),
            ("绩效奖金核算有误", "complaint", "finance"),
            ("综采一队加班费", "complaint", "mining1")]


def seed(home: Path, n: int) -> None:
    env = {"PETITIONS_HOME": str(home), "PETITIONS_CONFIG_DIR": str(ROOT / "deploy" / "config"),
           "PETITIONS_SIMULATED_CLOCK": "1"}
    os.environ.update(env)
    settings = Settings.from_env()
    FileClock(home / "clock").set(NOW)
    app = migrated(bootstrap(settings))
    started = time.perf_counter()
    for i in range(n):
        subject, category, unit = SUBJECTS[i % len(SUBJECTS)]
        received = NOW.subtract(minutes=50 * (n - i))
        data = {"petitioner": {"name": f"信访人{i}", "phone": f"139{i:08d}"},
                "channel": "letter", "category": category, "subject": f"{subject}（{i}）",
                "content": "请求核查处理", "received_at": received.isoformat(),
                **({"concerns_unit": unit} if unit else {})}
        case = cases.register(app, data, registration_no=f"XF-B{i:06d}", actor="qian.hui")
        case = cases.route_and_assign(app, case.id, actor="intake")
        recent = NOW - received < dt.timedelta(days=90)
        if (i % 3 or not recent) and case.responder:  # older ones mostly closed
            who = case.responder
            for act in (Act.ACK, Act.ACCEPT):
                cases.act(app, case.id, cases.ActRequest(act, who, reason="受理"))
            if (i % 3 == 2) if recent else i % 20:
                cases.act(app, case.id, cases.ActRequest(Act.REPORT, who, summary="已核查"))
                cases.act(app, case.id, cases.ActRequest(
                    Act.CLOSE, who, outcome="support", resolution="resolved", summary="已办结"))
        if (i + 1) % 1000 == 0:
            print(f"  seeded {i + 1} cases ({time.perf_counter() - started:.0f} s)", flush=True)
    for person in app.office.org.people:
        set_password(app, person, PASSWORD, actor="bench")


def busiest_responder(home: Path) -> tuple[str, int, str]:
    app = bootstrap(Settings.from_env())
    with app.uow() as uow:
        open_cases = uow.open_cases()
    counts = collections.Counter(c.responder for c in open_cases if c.responder)
    who, count = counts.most_common(1)[0]
    ref = next(c.registration_no for c in open_cases if c.responder == who)
    return who, count, ref


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def login(base: str, who: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    page = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    done = client.post("/login", data={"person_id": who, "password": PASSWORD, "csrf": csrf})
    assert done.status_code == 303, done.text
    return client


def timed(label: str, requests: int, call) -> dict[str, float]:  # type: ignore[no-untyped-def]
    call()  # warm
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (label, response.status_code, response.text[:300])
    samples.sort()
    p50 = statistics.median(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * len(samples)) - 1)]
    print(f"{label:<34} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({requests} requests)")
    return {"p50": p50, "p95": p95}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--home", type=Path, help="a home seeded by an earlier run: reused")
    args = parser.parse_args()
    if args.home is not None and (args.home / "petitions.db").exists():
        home = args.home
        os.environ.update({"PETITIONS_HOME": str(home), "PETITIONS_SIMULATED_CLOCK": "1",
                           "PETITIONS_CONFIG_DIR": str(ROOT / "deploy" / "config")})
        print(f"reusing {home}")
    else:
        home = args.home or Path(tempfile.mkdtemp(prefix="petitions-web-bench-"))
        home.mkdir(parents=True, exist_ok=True)
        print(f"seeding {args.cases} cases in {home} (SQLite)")
        seed(home, args.cases)
    who, count, ref = busiest_responder(home)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (home / "web.log").open("ab")
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "web.main:create_app",
                               "--factory", "--port", str(port), "--no-access-log"],
                              env={**os.environ, "PETITIONS_PREFECT_PORT": str(free_port())},
                              stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/livez", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"the workplace did not start; see {home / 'web.log'}")
            time.sleep(0.3)
        responder = login(base, who)
        clerk = login(base, "qian.hui")
        print(f"{who}'s queue holds {count} open cases")
        results = {
            "queue": timed(f"GET / (queue, {count} cases)", args.requests,
                           lambda: responder.get("/")),
            "case": timed(f"GET /cases/{ref}", args.requests,
                          lambda: responder.get(f"/cases/{ref}")),
        }
        csrf = re.search(r'name="csrf" value="([^"]+)"',  # type: ignore[union-attr]
                         clerk.get("/intake").text).group(1)
        numbers = iter(range(10**6))

        def intake() -> httpx.Response:
            i = next(numbers)
            return clerk.post("/intake", data={
                "csrf": csrf, "name": f"新信访人{i}", "phone": f"137{i:08d}",
                "channel": "visit", "category": "complaint", "subject": f"工资拖欠（新{i}）",
                "content": "请求核查"})
        results["intake"] = timed("POST /intake (register and route)", args.requests, intake)
        # Beyond the targets, for the record: the pages that read every case.
        supervisor = login(base, "li.ming")
        timed("GET /supervise (measures, all cases)", 5, lambda: supervisor.get("/supervise"))
        token = subprocess.run(
            [sys.executable, "-c", "from cli.main import main; main()", "token", "create",
             f"bench-{port}", "--as", "li.ming"], capture_output=True, text=True,
            check=True, cwd=ROOT).stdout.splitlines()[0]
        api = httpx.Client(base_url=base, timeout=60,
                           headers={"Authorization": f"Bearer {token}"})
        timed("GET /api/v1/cases?limit=50", 5, lambda: api.get("/api/v1/cases?limit=50"))
        ok = results["queue"]["p95"] < 200 and results["case"]["p95"] < 200 and \
            results["intake"]["p95"] < 500
        print("targets (pages p95 < 200 ms, intake p95 < 500 ms):", "met" if ok else "NOT met")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
