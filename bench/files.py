"""How long attaching a file and re-hashing the stored files take, on the local folder and on
an S3-compatible server (moto's, a local process: a floor for MinIO on the same host).

    .venv/bin/python bench/files.py [--sizes 0.1,1,19.9] [--repeat 5]

For each store and size: the ``attach`` use case end to end (bounded read, type by content,
SHA-256, the bytes written, the row and the audit event committed on SQLite), then
``verify_files`` over every file attached (``petitions audit verify --files``'s work).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pendulum

from services import attachments, cases
from services.bootstrap import sql_app
from services.clock import FixedClock
from services.config import load_office
from services.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade
from tests.conftest import SAMPLE_OFFICE, WAGE, wait_for
from tests.integration.test_file_store import _answers, _free_port


def png_of(mb: float, seed: int) -> bytes:
    """A PNG header and ``mb`` MB of distinct bytes (the type is judged by the header)."""
    body = os.urandom(int(mb * 1024 * 1024)) if seed >= 0 else b""
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + body


def run(label: str, files_url: str | None, sizes: list[float], repeat: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="files-bench-"))
    engine = make_engine(f"sqlite:///{home / 'petitions.db'}")
    upgrade(engine)
    office = load_office(SAMPLE_OFFICE)
    app = sql_app(Settings(home=home, config_dir=SAMPLE_OFFICE, files_url=files_url), office,
                  FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine)
    case = cases.register(app, WAGE, registration_no="XF-B", actor="qian.hui")
    cases.route_and_assign(app, case.id, actor="intake")
    n = 0
    for mb in sizes:
        times = []
        for _ in range(repeat):
            data = png_of(mb, n)
            n += 1
            start = time.perf_counter()
            attachments.attach(app, "XF-B", io.BytesIO(data), name=f"{n}.png",
                               actor="qian.hui")
            times.append(time.perf_counter() - start)
        print(f"{label:6} attach {mb:>5} MB: median {statistics.median(times) * 1000:7.1f} ms,"
              f" max {max(times) * 1000:7.1f} ms ({repeat} files)")
    start = time.perf_counter()
    with app.uow() as uow:
        found = attachments.verify_files(uow, app.files)
    took = time.perf_counter() - start
    total = sum(sizes) * repeat
    print(f"{label:6} verify --files: {found.checked} files, {total:.1f} MB in {took:.2f} s "
          f"({total / took:.0f} MB/s), {len(found.problems)} problems")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="0.1,1,19.9")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    run("local", None, sizes, args.repeat)
    port = _free_port()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(endpoint + "/moto-api/"), 60, "moto's server")
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
            Bucket="bench")
        run("s3", f"s3://bench/files?endpoint={endpoint}", sizes, args.repeat)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
