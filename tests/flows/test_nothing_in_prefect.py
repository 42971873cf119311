"""Nothing of a petition reaches Prefect, whose API anyone who reaches its port could read
before it had a password (and its operators still can). A petition of each kind — a wage
complaint, an accusation, a group visit, a promoted signal — is registered through each
entrance (the CLI, the web intake form, the JSON API, ``signal promote``) against the served
engine, acted on (through the CLI and the web, which wake the suspended runs), swept; then
everything Prefect's API returns — flow runs and their inputs, task runs, artifacts, events,
logs, variables, blocks — and Prefect's own database file and results folder are read, and
none of the petitions' words (names, phones, ID numbers, addresses, subjects, contents, the
accused) may be there. Each word is looked for as text and as a JSON escape."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.flows.conftest import Engine

PASSWORD = "nothing-in-prefect-2026"
WORDS: list[str] = []  # every word of every petition below, filled as they are made


def _petition(name: str, phone: str, id_number: str, address: str, subject: str,
              content: str, **rest: Any) -> dict[str, Any]:
    WORDS.extend([name, phone, id_number, address, subject, content,
                  *rest.get("accused_persons", [])])
    return {"petitioner": {"name": name, "phone": phone, "id_number": id_number,
                           "address": address},
            "subject": subject, "content": content, **rest}


WAGE = _petition("欧阳明月", "13911112222", "11010119900307451X", "矿区幸福路17号",
                 "掘进二队夜班津贴长期漏发", "自八月起夜班津贴每月少发四百元，请求补发",
                 channel="letter", category="complaint", concerns_unit="mining1")
ACCUSED = _petition("司马青云", "13822223333", "14260119850412233X", "西山小区9栋",
                    "运输队调度员虚报加班费", "调度员多次虚报本人及亲属加班时长套取加班费",
                    channel="letter", category="accusation", concerns_unit="safety",
                    accused_persons=["huang.bin"])
GROUP = _petition("诸葛长风", "13733334444", "142601197711203345", "南山家属院3号楼",
                  "棚户区改造安置房漏水", "二十余户安置房雨季漏水严重，多次报修无人处理",
                  channel="visit", category="complaint", concerns_unit="logistics",
                  headcount=23, representatives=5)


def _web_login(engine: Engine, who: str) -> httpx.Client:
    web = httpx.Client(base_url=engine.web, timeout=30, follow_redirects=False)
    page = web.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    done = web.post("/login", data={"person_id": who, "password": PASSWORD,
                                    "csrf": token.group(1)})
    assert done.status_code == 303, done.text
    return web


def _csrf(web: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', web.get(path).text)
    assert found, f"no form on {path}"
    return found.group(1)


def _web_intake(web: httpx.Client) -> str:
    """The group visit through the web intake form; its number."""
    p = GROUP["petitioner"]
    done = web.post("/intake", data={
        "csrf": _csrf(web, "/intake"), "name": p["name"], "phone": p["phone"],
        "id_number": p["id_number"], "address": p["address"], "channel": GROUP["channel"],
        "category": GROUP["category"], "subject": GROUP["subject"],
        "content": GROUP["content"], "concerns_unit": GROUP["concerns_unit"],
        "headcount": "23", "representatives": "5"})
    assert done.status_code == 200, done.text[-2000:]
    found = re.search(r"(XF-\d{8}-[0-9A-F]{6})", done.text)
    assert found
    return found.group(1)


def _register_through_every_entrance(served: Engine, tmp_path: Path) -> list[str]:
    served.cli("user", "set-password", "qian.hui", "--password-stdin", stdin=PASSWORD + "\n")
    refs = []
    # The CLI: an ordinary petition and an accusation (from files, as a clerk types them).
    for number, petition in (("XF-P1", WAGE), ("XF-P2", ACCUSED)):
        path = tmp_path / f"{number}.json"
        path.write_text(json.dumps(petition, ensure_ascii=False))
        served.cli("intake", str(path), "--registration-no", number, "--actor", "qian.hui")
        refs.append(number)
    # The web intake form: a group visit.
    web = _web_login(served, "qian.hui")
    try:
        refs.append(_web_intake(web))
    finally:
        web.close()
    # The JSON API: another accusation, pushed by a hotline system.
    made = served.cli("token", "create", "hotline-p", "--as", "qian.hui").stdout
    secret = re.search(r"(hotline-p\.\S+)", made)
    assert secret
    api = _petition("上官晓雪", "13644445555", "142601199203154567", "东风巷21号",
                    "机电科采购员收受供应商回扣", "采购员在配件采购中收受供应商回扣",
                    channel="phone", category="accusation", concerns_unit="production",
                    accused_persons=["guo.peng"])
    pushed = httpx.post(f"{served.web}/api/v1/intake", json={**api, "registration_no": "XF-P4"},
                        headers={"Authorization": f"Bearer {secret.group(1)}"}, timeout=30)
    assert pushed.status_code == 201, pushed.text
    refs.append("XF-P4")
    # A promoted signal: the officer's summary, then the petitioner's particulars.
    WORDS.extend(["职工食堂饭菜发霉变质", "令狐冲霄", "13555556666"])
    recorded = served.cli("signal", "record", "--officer", "song.yu", "--unit", "logistics",
                          "--summary", "职工食堂饭菜发霉变质", "--risk", "medium")
    sid = recorded.stdout.split()[1]
    served.cli("signal", "promote", sid, "--name", "令狐冲霄", "--phone", "13555556666",
               "--actor", "qian.hui")
    refs += [s["case"] for s in json.loads(served.cli("signal", "list", "--json").stdout)
             if s["id"] == sid]
    return refs


def _act_on_them(served: Engine, refs: list[str]) -> None:
    """Acknowledge each from the CLI; accept the first from the web and report it done from
    the CLI, each with a text that quotes the petition (reasons and summaries stay ours);
    each wake reaches its run, which then waits at the next form."""
    for ref in refs:
        case = served.case(ref)
        served.paused_at(case["id"], "assigned-")
        served.cli("ack", ref, "--actor", case["responder"])
        served.paused_at(case["id"], "acknowledged-")
    first = served.case(refs[0])
    served.cli("user", "set-password", first["responder"], "--password-stdin",
               stdin=PASSWORD + "\n")
    web = _web_login(served, first["responder"])
    try:
        done = web.post(f"/cases/{refs[0]}/act", data={
            "csrf": _csrf(web, f"/cases/{refs[0]}"), "act": "accept",
            "reason": f"{WAGE['subject']}，属于本单位职责，予以受理"})
    finally:
        web.close()
    assert done.status_code == 303, done.text[-2000:]
    served.paused_at(first["id"], "handling-")
    served.cli("report-completion", refs[0], "--actor", first["responder"], "--summary",
               f"已核实{WAGE['petitioner']['name']}反映的{WAGE['content']}")
    served.wait_for(lambda: any(e["event"] == "CompletionReported"
                                for e in served.case(refs[0])["events"]), 60,
                    "the report committed")
    served.paused_at(first["id"], "handling-")
    served.cli("sweep")


def _all(served: Engine, path: str, body: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    while True:
        page = served.post(path, {**body, "offset": len(found), "limit": 200})
        found += page
        if len(page) < 200:
            return found


def _events(served: Engine) -> list[Any]:
    page = served.post("/events/filter", {"filter": {"occurred": {
        "since": "2000-01-01T00:00:00Z"}}, "limit": 50})
    found = list(page["events"])
    while page.get("next_page"):
        page = served.get(page["next_page"].split("/api", 1)[1])
        found += page["events"]
    return found


def _everything_prefect_says(served: Engine, case_ids: list[str]) -> dict[str, str]:
    runs = _all(served, "/flow_runs/filter", {})
    mine = [r["id"] for r in runs if r["parameters"].get("case_id") in case_ids]
    assert len(mine) >= len(case_ids)  # each case's lifecycle run is there, by id
    inputs = [served.post(f"/flow_runs/{r}/input/filter", {"prefix": "", "limit": 100})
              for r in mine]
    said = {
        "flow runs": runs, "flow run inputs": inputs,
        "task runs": _all(served, "/task_runs/filter", {}),
        "artifacts": _all(served, "/artifacts/filter", {}),
        "events": _events(served),
        "logs": _all(served, "/logs/filter", {}),
        "variables": _all(served, "/variables/filter", {}),
        "blocks": _all(served, "/block_documents/filter", {"include_secrets": True}),
        "deployments": _all(served, "/deployments/filter", {}),
    }
    return {what: json.dumps(value, ensure_ascii=False) for what, value in said.items()}


def _found(text: str) -> list[str]:
    """The words of ``WORDS`` in ``text``, as text or as JSON escapes."""
    return [w for w in WORDS if w in text or json.dumps(w)[1:-1] in text]


def test_nothing_of_a_petition_reaches_prefect_from_any_entrance(served, tmp_path):
    served.cli("clock", "set", "2026-11-26T10:00+08:00")
    refs = _register_through_every_entrance(served, tmp_path)
    assert len(refs) == 5
    case_ids = [served.case(ref)["id"] for ref in refs]
    _act_on_them(served, refs)
    # The cases hold every word (the test would find them if they leaked).
    held = json.dumps([served.case(ref) for ref in refs], ensure_ascii=False)
    assert {"欧阳明月", "掘进二队夜班津贴长期漏发", "诸葛长风"} <= set(_found(held))

    for what, text in _everything_prefect_says(served, case_ids).items():
        assert not _found(text), f"Prefect's {what} carry {_found(text)}"
    # And what the API may not show: Prefect's database itself, and the flows' results.
    prefect = served.home / "prefect"
    for path in [*prefect.glob("prefect.db*"), *sorted((prefect / "results").rglob("*"))]:
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace")
            assert not _found(text), f"{path.name} carries {_found(text)}"


def test_the_retired_intake_runs_are_forgotten(served):
    """Runs of the old petition-intake flow held whole petitions: the command deletes them."""
    flow = served.post("/flows/", {"name": "petition-intake"})
    old = served.post("/flow_runs/", {"flow_id": flow["id"], "parameters": {
        "petition": {"petitioner": {"name": "公孙旧案"}}, "registration_no": "XF-OLD"},
        "state": {"type": "COMPLETED"}})
    assert served.get(f"/flow_runs/{old['id']}")["parameters"]["registration_no"] == "XF-OLD"
    done = served.cli("forget-intake-runs")
    assert done.stdout.strip().startswith(("1 ", "2 ", "3 "))
    left = served.post("/flow_runs/filter", {"flows": {"name": {"any_": ["petition-intake"]}}})
    assert left == [] and served.get(f"/flow_runs/{old['id']}") is None
