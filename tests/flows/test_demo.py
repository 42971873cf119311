"""``petitions demo`` as a newcomer runs it: its own engine on a throw-away home, four
petitions over 100 simulated days, every flow run healthy, nothing left running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from cli.demo_script import PETITIONS


def _left_running(home: Path) -> list[int]:
    mine = f"PETITIONS_HOME={home}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mine in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_the_demo_runs_four_petitions_through_every_stage(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PETITIONS_", "PREFECT_"))}
    done = subprocess.run([sys.executable, "-c", "from cli.main import main; main()", "demo",
                           "--home", str(home)], env=env, capture_output=True, text=True,
                          timeout=400)
    (tmp_path / "demo-output.txt").write_text(done.stdout + done.stderr)  # kept for a look
    notes = [line for line in done.stdout.splitlines() if "note:" in line]
    assert done.returncode == 0, "\n".join(notes) + done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "flow runs       petition-intake: 4 Completed" in out
    assert "flow runs       petition-lifecycle: 3 Completed, 1 Suspended" in out
    assert "Failed" not in out and "Crashed" not in out
    assert "Prefect UI      http://127.0.0.1:" in out and "outbox " in out

    alias = {p["subject"]: name for name, p in PETITIONS.items()}
    db = create_engine(f"sqlite:///{home / 'petitions.db'}")
    with db.connect() as conn:
        cases = {alias[json.loads(r.body)["petition"]["subject"]]: r for r in conn.execute(
            text("SELECT id, stage, body FROM cases"))}
        events = {name: [(e.type, json.loads(e.data)) for e in conn.execute(text(
            "SELECT type, data FROM audit_events WHERE case_id = :c ORDER BY seq"),
            {"c": row.id})] for name, row in cases.items()}
        queued = {r.recipient for r in conn.execute(text("SELECT recipient FROM outbox"))}
        sent = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'sent'")).scalar()
        by_robot = [r.key for r in conn.execute(text(
            "SELECT key FROM outbox WHERE status = 'sent' AND channel = 'leaders'"))]
        texted = conn.execute(text(
            "SELECT count(*) FROM outbox WHERE status = 'sent' AND channel = 'sms'")).scalar()
    db.dispose()
    assert {n: r.stage for n, r in cases.items()} == {
        "group": "closed", "accusation": "rated", "wage": "closed", "repeat": "closed"}

    def types(name: str) -> list[str]:
        return [t for t, _ in events[name]]

    escalated_to = [d["recipient"] for t, d in events["accusation"] if t == "Escalated"]
    assert escalated_to == ["feng.bo", "gao.jian"]  # the owning leader, then the mine head
    assert types("accusation").count("DeadlineBreached") == 1
    assert "RatingExpired" in types("accusation")
    assert "DeadlineExtended" in types("group") and "DeadlineBreached" not in types("group")
    assert "RepeatLinked" in types("repeat")
    assert ["ReviewRequested", "ReviewDecided"] == [
        t for t in types("wage") if t.startswith("Review")]
    assert {"feng.bo", "gao.jian"} <= queued  # the escalations are in the outbox
    files = {p.name: p.read_bytes() for p in (home / "outbox").glob("*.eml")}
    assert len(files) + len(by_robot) + texted == sent > 0  # e-mails, robot posts, SMS: once
    # The leaders chose their WeCom group for breaches and escalations: the escalation to
    # the mine head went there (the local stand-in), saying nothing of the accusation.
    assert any("Escalated" in k and "gao.jian" in k for k in by_robot)
    posts = [line for line in out.splitlines() if "group robot (local stand-in) ←" in line]
    assert any("【信访超期升级督办】高建" in p and "@13900000001" in p for p in posts), posts
    assert not any("违章指挥" in p or "137" in p for p in posts)
    assert files  # the rest by e-mail (.eml files without a SendGrid key)
    # The petitioners who gave a mobile number were texted the approved template on
    # acceptance (the provider's local stand-in), with the number and the handling due date.
    sms = [line for line in out.splitlines() if "Aliyun SMS (local stand-in) ←" in line]
    assert texted == len(sms) > 0
    assert any("SMS_DEMO_ACCEPTED" in line and '"no":"XF-' in line and "年" in line
               for line in sms), sms
    assert _left_running(home) == []


def test_the_demo_at_a_group_has_the_review_decided_by_the_groups_office(tmp_path: Path
                                                                        ) -> None:
    """``petitions demo --config deploy/group``: the same hundred days at the group's
    sample mine, the wage complainant's review decided by the group's office in a case of
    its own, both timelines showing it."""
    home = tmp_path / "group-demo"
    config = Path(__file__).resolve().parents[2] / "deploy" / "group"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PETITIONS_", "PREFECT_"))}
    done = subprocess.run([sys.executable, "-c", "from cli.main import main; main()", "demo",
                           "--home", str(home), "--config", str(config)], env=env,
                          capture_output=True, text=True, timeout=400)
    (tmp_path / "demo-output.txt").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "flow runs       petition-lifecycle: 4 Completed, 1 Suspended" in done.stdout
    assert "Failed" not in done.stdout and "Crashed" not in done.stdout
    db = create_engine(f"sqlite:///{home / 'petitions.db'}")
    with db.connect() as conn:
        rows = list(conn.execute(text("SELECT id, registration_no, office, stage, body "
                                      "FROM cases")))
        review = next(r for r in rows if r.registration_no.endswith("-FC"))
        wage = next(r for r in rows if json.loads(review.body)["links"]["review_of"] == r.id)
        events = {r.id: [(e.type, json.loads(e.data)) for e in conn.execute(text(
            "SELECT type, data FROM audit_events WHERE case_id = :c ORDER BY seq"),
            {"c": r.id})] for r in (wage, review)}
    db.dispose()
    assert {r.office for r in rows} == {"mine-a", "group"}
    assert (wage.office, wage.stage, review.office, review.stage) == (
        "mine-a", "closed", "group", "closed")
    decided = [d for t, d in events[wage.id] if t == "ReviewDecided"]
    assert decided and decided[0]["decided_by_office"] == "group"
    assert decided[0]["review_case"] == review.id
    assert ("ReferredUp" in [t for t, _ in events[review.id]]
            and "DecisionIssued" in [t for t, _ in events[review.id]])
    assert review.registration_no in done.stdout and "ReviewDecided" in done.stdout
    assert not _left_running(home)
