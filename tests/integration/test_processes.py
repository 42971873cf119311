"""Nothing outlives its parent: a child started tied to its parent (the Prefect server of
``serve``, ``serve`` under the tests and the demo, the cluster's server and workers under
the tests) is gone when the parent dies, even by SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, wait_for

PARENT = """
import signal, subprocess, sys
from flows.prefect_env import tied_to_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                         preexec_fn=tied_to_parent(getattr(signal, sys.argv[1])))
print(child.pid, flush=True)
child.wait()
"""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_tied_child_dies_with_its_parent_killed_outright():
    for sig in ("SIGTERM", "SIGKILL"):  # the signal the child gets
        with subprocess.Popen([sys.executable, "-c", PARENT, sig], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True) as parent:
            assert parent.stdout is not None
            child = int(parent.stdout.readline())
            assert _alive(child)
            os.kill(parent.pid, signal.SIGKILL)
            parent.wait(30)
        wait_for(lambda c=child: not _alive(c), 60, f"the child {child} to die ({sig})")
