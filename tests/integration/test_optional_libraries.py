"""The newcomer's test command on a machine without an optional system library: WeasyPrint's
Pango, or HarfBuzz's subset library (Debian 12 with ``libpango-1.0-0`` and no
``libharfbuzz-subset0``: WeasyPrint then warns at import, and under the suite's
``filterwarnings = error`` that stopped the whole run at collection). Each absence is
simulated in a process of its own (cffi's ``dlopen`` refuses the library's names, as the
dynamic loader would when it is not installed): a missing subset library changes nothing
but a note, a missing Pango skips exactly the notice tests with the reason."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from services.pdf import unavailable

ROOT = Path(__file__).resolve().parents[2]
HIDE = textwrap.dedent('''
    import os
    import cffi

    _hidden = [h for h in os.environ.get("HIDE_LIBRARIES", "").split(",") if h]
    _dlopen = cffi.FFI.dlopen

    def dlopen(self, name, flags=0):
        if name and any(h in str(name) for h in _hidden):
            raise OSError(f"cannot load library '{name}': not installed (simulated)")
        return _dlopen(self, name, flags)

    cffi.FFI.dlopen = dlopen
''')


def _run(tmp_path: Path, hidden: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "sitecustomize.py").write_text(HIDE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # a newcomer's machine
    env.update(HIDE_LIBRARIES=hidden, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.skipif(unavailable() is not None, reason=f"no Pango here: {unavailable()}")
def test_without_harfbuzz_subset_notices_still_print_and_warnings_stay_errors(tmp_path):
    done = _run(tmp_path, "harfbuzz-subset", "-W", "error", "-c",
                "from services.pdf import html_to_pdf, note, unavailable\n"
                "pdf = html_to_pdf('<p>受理告知书</p>')\n"
                "print(pdf[:5].decode(), unavailable(), note())")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("%PDF- None HarfBuzz's subset library is missing"), done.stdout
    tests = _run(tmp_path, "harfbuzz-subset", "-m", "pytest", "-q", "--collect-only",
                 "-p", "no:cacheprovider", "tests/integration/test_notices.py")
    assert tests.returncode in (0, 5), tests.stdout[-3000:]  # 5: skipped (no font here)
    assert "error" not in tests.stdout.lower().split("\n")[-2], tests.stdout[-3000:]


def test_without_pango_the_notice_tests_are_skipped_with_the_reason(tmp_path):
    done = _run(tmp_path, "pango", "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                "tests/integration/test_notices.py", "tests/unit/test_purity.py")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]  # the run goes on
    assert re.search(r" passed, \d+ skipped", done.stdout), done.stdout[-2000:]
    assert "WeasyPrint cannot load Pango here" in done.stdout
    assert "install libpango-1.0-0 and libpangoft2-1.0-0" in done.stdout
    assert "could not import some external libraries" not in done.stdout  # its banner
