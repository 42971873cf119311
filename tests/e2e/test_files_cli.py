"""``petitions attach``, ``files``, ``withdraw-file`` and ``audit verify --files`` as a clerk
runs them: a real process, real files in the home."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SAMPLE_OFFICE
from tests.e2e.test_cli import _one_case, run
from tests.samples import EXE, image


def petitions(home: Path, *args: str):  # type: ignore[no-untyped-def]
    return run(*args, home=home, config_dir=str(SAMPLE_OFFICE))


def test_a_clerk_attaches_a_scan_lists_it_and_the_audit_check_rehashes_it(tmp_path):
    home = tmp_path / "home"
    _one_case(home)
    scan = tmp_path / "来信扫描.png"
    scan.write_bytes(image())
    done = petitions(home, "attach", "XF-c1", str(scan), "--actor", "qian.hui",
                     "--kind", "letter_scan")
    assert done.returncode == 0, done.stderr
    assert "来信扫描.png attached as 来信扫描件 (image/png" in done.stdout
    again = petitions(home, "attach", "XF-c1", str(scan), "--actor", "qian.hui")
    assert again.returncode == 0 and "already attached" in again.stdout
    listed = petitions(home, "files", "XF-c1", "--actor", "qian.hui", "--json")
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    assert found["count"] == 1 and found["files"][0]["name"] == "来信扫描.png"
    sha = found["files"][0]["sha256"]
    stored = home / "files" / "attachments" / sha[:2] / sha
    assert stored.read_bytes() == scan.read_bytes()

    verified = petitions(home, "audit", "verify", "--files")
    assert verified.returncode == 0, verified.stderr
    assert "1 attached files re-hashed, 0 not matching" in verified.stdout
    data = bytearray(stored.read_bytes())
    data[20] ^= 0xFF
    stored.write_bytes(bytes(data))
    broken = petitions(home, "audit", "verify", "--files")
    assert broken.returncode == 1
    assert "BROKEN case c1 file" in broken.stderr and "bytes changed" in broken.stderr
    assert petitions(home, "audit", "verify").returncode == 0  # the chain itself holds


def test_a_program_named_pdf_is_refused_in_one_line_and_nothing_is_kept(tmp_path):
    home = tmp_path / "home"
    _one_case(home)
    fake = tmp_path / "证据.pdf"
    fake.write_bytes(EXE)
    refused = petitions(home, "attach", "XF-c1", str(fake), "--actor", "qian.hui")
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0
    assert "application/x-msdownload" in refused.stderr and "by content" in refused.stderr
    assert not (home / "files" / "attachments").exists()
    outsider = petitions(home, "files", "XF-c1", "--actor", "yang.fan")
    assert outsider.returncode == 2 and "no case 'XF-c1'" in outsider.stderr


def test_a_file_withdrawn_from_the_command_line_is_kept_and_no_longer_listed(tmp_path):
    home = tmp_path / "home"
    _one_case(home)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(image("JPEG"))
    assert petitions(home, "attach", "XF-c1", str(photo), "--actor", "qian.hui",
                     "--kind", "photo").returncode == 0
    sha = json.loads(petitions(home, "files", "XF-c1", "--actor", "qian.hui",
                               "--json").stdout)["files"][0]["sha256"]
    gone = petitions(home, "withdraw-file", "XF-c1", sha, "--actor", "qian.hui",
                     "--reason", "传错了")
    assert gone.returncode == 0, gone.stderr
    table = petitions(home, "files", "XF-c1", "--actor", "qian.hui")
    assert "0 个附件" in table.stdout
    assert (home / "files" / "attachments" / sha[:2] / sha).exists()


def test_the_audit_check_finds_a_deleted_file_row_and_an_undone_withdrawal(tmp_path):
    import sqlite3

    home = tmp_path / "home"
    _one_case(home)
    for seed in (1, 2):
        photo = tmp_path / f"{seed}.png"
        photo.write_bytes(image(seed=seed))
        assert petitions(home, "attach", "XF-c1", str(photo), "--actor",
                         "qian.hui").returncode == 0
    ids = [f["id"] for f in json.loads(petitions(home, "files", "XF-c1", "--actor",
                                                 "qian.hui", "--json").stdout)["files"]]
    assert petitions(home, "withdraw-file", "XF-c1", ids[1], "--actor", "qian.hui",
                     "--reason", "传错了").returncode == 0
    assert petitions(home, "audit", "verify", "--files").returncode == 0
    with sqlite3.connect(home / "petitions.db") as db:
        db.execute("DELETE FROM case_files WHERE id = ?", (ids[0],))
        db.execute("UPDATE case_files SET withdrawn_at = NULL, withdrawn_by = NULL, "
                   "withdraw_reason = NULL WHERE id = ?", (ids[1],))
    broken = petitions(home, "audit", "verify", "--files")
    assert broken.returncode == 1, broken.stdout
    assert f"file {ids[0]}" in broken.stderr and "no row" in broken.stderr
    assert f"file {ids[1]}" in broken.stderr and "withdrawn" in broken.stderr
