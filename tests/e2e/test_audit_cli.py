"""``petitions audit verify`` as an operator runs it: every row by default (the authority
on what was written before the last checkpoint), or only what was written since the last
signed checkpoint."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.test_cli import _one_case, run


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_audit_verify_reads_every_row_and_records_a_signed_checkpoint(home):
    _one_case(home)
    first = run("audit", "verify", home=home)
    assert first.returncode == 0, first.stderr
    assert "1 case chains checked, 0 broken" in first.stdout
    assert "every audit row read (2); checkpoint 1 written" in first.stdout
    assert (home / "audit-key").exists()
    since = run("audit", "verify", "--since-checkpoint", home=home)
    assert since.returncode == 0, since.stderr
    assert "the audit rows since checkpoint 1 read (0); checkpoint 2 written" in since.stdout


def test_a_row_changed_before_the_checkpoint_waits_for_the_full_check(home):
    _one_case(home)
    assert run("audit", "verify", home=home).returncode == 0
    with sqlite3.connect(home / "petitions.db") as conn:
        conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 1")
    assert run("audit", "verify", "--since-checkpoint", home=home).returncode == 0
    full = run("audit", "verify", "--full", home=home)
    assert full.returncode == 1
    assert "BROKEN case c1: row 1" in full.stderr and "content was changed" in full.stderr


def test_a_forged_checkpoint_is_said_and_every_row_read(home):
    _one_case(home)
    assert run("audit", "verify", home=home).returncode == 0
    with sqlite3.connect(home / "petitions.db") as conn:
        conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
        conn.execute("UPDATE audit_checkpoints SET high_water = 1000")  # hide rows to come
    forged = run("audit", "verify", "--since-checkpoint", home=home)
    assert forged.returncode == 1
    assert "not trusted" in forged.stderr and "BROKEN case c1: row 2" in forged.stderr
    assert "every audit row read (2)" in forged.stdout
