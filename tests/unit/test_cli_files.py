"""An export the CLI writes holds petitioners' names and phones: its owner's only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cli.common import write_file


def test_an_export_is_written_readable_by_its_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask: a default file would be world-readable
    try:
        fresh = tmp_path / "out" / "cases.xlsx"
        write_file(fresh, b"names and phones")
        there = tmp_path / "there.xlsx"
        there.write_bytes(b"old")
        there.chmod(0o644)
        write_file(there, b"new")
    finally:
        os.umask(old)
    for path, body in ((fresh, b"names and phones"), (there, b"new")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert path.read_bytes() == body
