"""Start a command tied to the process that started this one (Linux): the command gets
SIGTERM when its parent dies, even by SIGKILL, so nothing outlives ``petitions serve``.

    python -m flows.tether PARENT_PID -- COMMAND [ARGS...]

It sets the parent-death signal on itself, checks that its parent is still ``PARENT_PID``
(it may have died in between), and replaces itself with the command (``execv`` keeps the
signal). ``serve`` uses this instead of a ``preexec_fn``, which Python documents as unsafe
in a process with threads (the supervisor starts children while its watchdog runs).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> None:
    parent, sep, *command = argv
    if sep != "--" or not command:
        raise SystemExit("usage: python -m flows.tether PARENT_PID -- COMMAND [ARGS...]")
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != int(parent):  # the parent died before the signal was set
            raise SystemExit(0)
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
