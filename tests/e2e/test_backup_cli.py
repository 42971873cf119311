"""``petitions backup`` and ``petitions restore`` as the operator runs them: real processes,
a home with a case and an attached scan, restored into a new home that has nothing; there the
audit check passes and the workplace shows the case."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from services.bootstrap import bootstrap
from services.settings import Settings
from tests.conftest import SAMPLE_OFFICE
from tests.e2e.test_cli import _one_case, run
from tests.integration.test_web import RecordingRuns, csrf_of
from tests.samples import image
from web.main import create_app

WORD = "备份口令 horse battery"
PASSWORD = "correct-horse-7"


def test_a_home_backed_up_and_restored_into_a_new_home_verifies_and_shows_its_case(tmp_path):
    old, new, out = tmp_path / "old", tmp_path / "new", tmp_path / "b.tar"
    _one_case(old)
    scan = tmp_path / "来信扫描.png"
    scan.write_bytes(image())
    cfg = {"config_dir": str(SAMPLE_OFFICE)}
    assert run("attach", "XF-c1", str(scan), "--actor", "qian.hui", home=old,
               **cfg).returncode == 0
    assert run("user", "set-password", "qian.hui", "--password-stdin", stdin=PASSWORD + "\n",
               home=old, **cfg).returncode == 0

    made = run("backup", str(out), "--passphrase-stdin", stdin=WORD + "\n", home=old, **cfg)
    assert made.returncode == 0, made.stderr
    assert "1 cases" in made.stdout and "1 files" in made.stdout
    assert "keys sealed" in made.stdout and made.stderr == ""

    wrong = run("restore", str(out), home=new, backup_passphrase="not the passphrase")
    assert wrong.returncode == 2 and wrong.stderr.strip().count("\n") == 0
    assert "wrong passphrase" in wrong.stderr
    assert not (new / "petitions.db").exists() and not (new / "config").exists()

    done = run("restore", str(out), home=new, backup_passphrase=WORD)
    assert done.returncode == 0, done.stderr
    assert "1 cases" in done.stdout and "1 files" in done.stdout
    verified = run("audit", "verify", "--files", home=new)
    assert verified.returncode == 0, verified.stderr
    assert "case chains checked, 0 broken" in verified.stdout
    assert "1 attached files re-hashed, 0 not matching" in verified.stdout
    listed = json.loads(run("list", "--json", home=new).stdout)
    assert [c["ref"] for c in listed] == ["XF-c1"]

    # The workplace on the restored home: the restored password logs in, the case is shown.
    app = bootstrap(Settings(home=new))
    with TestClient(create_app(app, RecordingRuns()), base_url="http://127.0.0.1") as c:
        page = c.post("/login", data={"person_id": "qian.hui", "password": PASSWORD,
                                      "csrf": csrf_of(c.get("/login").text)})
        assert page.status_code in (200, 303), page.text
        shown = c.get("/cases/XF-c1")
        assert shown.status_code == 200 and "来信扫描.png" in shown.text
    assert app.engine is not None
    app.engine.dispose()
    assert Path(out).stat().st_mode & 0o077 == 0  # the backup is its owner's alone
