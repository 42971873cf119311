"""The demo's stand-ins for what an office reaches outside: the leaders' 企业微信 group robot
and Alibaba Cloud's SMS endpoint. Each is a local HTTP server that takes what the real one
would (WeCom: a JSON POST; SMS: the SDK's signed SendSms request), answers as it does, and
keeps what it received so the demo can show it.

The demo never reaches the real ones, whatever the user's environment holds: its processes
run on a copy of the office's configuration whose every robot and SMS account is pointed at
these stand-ins through variables only the demo sets (``demo_config``), in an environment
without any of the user's ``PETITIONS_*`` variables (a real robot's webhook, a SendGrid key)
or the address of a real Prefect server or database (``demo_environment``)."""

from __future__ import annotations

import json
import re
import shutil
import threading
import urllib.parse
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from domain.errors import ConfigError
from services.config import OFFICES

# Set by the demo alone: every robot's webhook and signing secret, and every SMS AccessKey,
# of the demo's copy of the configuration names one of these.
ROBOT_ENV = "PETITIONS_DEMO_ROBOT_WEBHOOK"
ROBOT_SECRET_ENV = "PETITIONS_DEMO_ROBOT_SECRET"
SMS_ENV = ("PETITIONS_DEMO_SMS_KEY_ID", "PETITIONS_DEMO_SMS_SECRET")
# What a real installation is reached by besides its PETITIONS_* variables: its Prefect
# server, the server's database and password, its Prefect home (profiles naming a server).
FOREIGN = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_API_DATABASE_CONNECTION_URL",
           "PREFECT_HOME", "PREFECT_PROFILE", "PREFECT_API_AUTH_STRING",
           "PREFECT_SERVER_API_AUTH_STRING")
# The demo office's "approved" templates (an office registers its own with the provider).
SMS_TEMPLATES = {
    "acceptance_notice": {"code": "SMS_DEMO_ACCEPTED", "params": {"no": "ref", "due": "due"}},
    "decision_notice": {"code": "SMS_DEMO_DECIDED", "params": {"no": "ref", "date": "date"}},
}
# The demo office's public door (网上信访): its texts and its SMS templates.
ONLINE = {"enabled": True,
          "notice": "本矿信访办公室受理职工、家属和周边群众的建议意见、检举控告和申诉求决。",
          "privacy": "您提交的个人信息仅用于办理本信访事项，依法保密，不向被反映人透露。",
          "sms_code_template": "SMS_DEMO_CODE",
          "sms_registered_template": "SMS_DEMO_REGISTERED"}


class _JsonHandler(BaseHTTPRequestHandler):
    """Answers in JSON and logs nothing (a robot's URL holds its key)."""

    def answer(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, *_: Any) -> None:
        pass


class _StandIn:
    def __init__(self, handler: type[_JsonHandler]) -> None:
        self.shown = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        # polls for stop every 0.1 s (not 0.5): stopping a stand-in is quick
        threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RobotStandIn(_StandIn):
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        stand_in = self

        class Handler(_JsonHandler):
            def do_POST(self) -> None:
                try:
                    stand_in.received.append(json.loads(self.body()))
                    self.answer({"errcode": 0, "errmsg": "ok"})
                except ValueError:
                    self.answer({"errcode": 40008, "errmsg": "invalid message type"})

        super().__init__(Handler)
        self.url = f"{self.base}/cgi-bin/webhook/send?key=demo-robot"

    def new(self) -> list[str]:
        """The first line of each message received since the last call, with its mention."""
        out = []
        for m in self.received[self.shown:]:
            text = m.get("text") or {}
            mention = ", ".join(text.get("mentioned_mobile_list") or [])
            out.append(str(text.get("content", "")).splitlines()[0]
                       + (f"  (@{mention})" if mention else ""))
        self.shown = len(self.received)
        return out


class SmsStandIn(_StandIn):
    """Alibaba Cloud's SMS endpoint: takes the SDK's SendSms (its parameters in the query),
    answers ``OK`` with a BizId."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        stand_in = self

        class Handler(_JsonHandler):
            def do_POST(self) -> None:
                self.body()
                query = urllib.parse.urlsplit(self.path).query
                stand_in.received.append(dict(urllib.parse.parse_qsl(query)))
                self.answer({"Code": "OK", "Message": "OK", "RequestId": "demo",
                             "BizId": f"demo-{len(stand_in.received)}^0"})

        super().__init__(Handler)
        self.endpoint = self.base

    def new(self) -> list[str]:
        out = []
        for q in self.received[self.shown:]:
            phone = q.get("PhoneNumbers", "")
            out.append(f"{q.get('TemplateCode')} {q.get('TemplateParam')} to "
                       f"{phone[:3]}****{phone[-4:]} ({q.get('SignName')})")
        self.shown = len(self.received)
        return out


def demo_environment(environ: Mapping[str, str], own: Mapping[str, str], robot_url: str
                     ) -> dict[str, str]:
    """The environment of the demo's processes (and so of every process they start):
    ``environ`` without any ``PETITIONS_*`` variable or a real installation's Prefect
    (``FOREIGN``), with the demo's ``own`` variables and the stand-ins' credentials."""
    kept = {k: v for k, v in environ.items()
            if not k.startswith("PETITIONS_") and k not in FOREIGN}
    return {**kept, **own, ROBOT_ENV: robot_url, ROBOT_SECRET_ENV: "demo-robot-secret",
            SMS_ENV[0]: "demo-key-id", SMS_ENV[1]: "demo-key-secret"}


def demo_config(config: Path, home: Path, sms_endpoint: str) -> Path:
    """A copy of the installation's configuration in ``HOME/config`` whose robots post to
    the robot stand-in and whose SMS goes to ``sms_endpoint``, each through the demo's own
    variables. One office also texts its petitioners (with the demo's templates); a tree's
    offices (``offices.yaml``) are each copied into a folder of the copy."""
    copy = home / "config"
    tree = config / OFFICES
    if not tree.exists():
        shutil.copytree(config, copy, dirs_exist_ok=True)
        _to_stand_ins(copy, sms_endpoint, texting=True)
        return copy
    data = _load(tree)
    copy.mkdir(parents=True, exist_ok=True)
    offices = (data.get("offices") if isinstance(data, dict) else None) or []
    for i, item in enumerate(offices if isinstance(offices, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            continue  # the loader says what is wrong with it
        name = str(item.get("id"))
        folder = copy / (name if re.fullmatch(r"\w[\w.-]*", name) else f"office-{i}")
        shutil.copytree((config / item["path"]).resolve(), folder, dirs_exist_ok=True)
        _to_stand_ins(folder, sms_endpoint, texting=False)
        item["path"] = folder.name
    (copy / OFFICES).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                encoding="utf-8")
    return copy


def _to_stand_ins(folder: Path, sms_endpoint: str, texting: bool) -> None:
    office_yaml = folder / "office.yaml"
    if not office_yaml.exists() and not texting:
        return
    data = (_load(office_yaml) if office_yaml.exists() else None) or {}
    if not isinstance(data, dict):
        return  # the loader says what is wrong with it
    notify = data.setdefault("notifications", {}) if texting else data.get("notifications")
    if not isinstance(notify, dict):
        return
    for robot in notify.get("robots") or []:
        if isinstance(robot, dict):
            robot["webhook"] = f"env:{ROBOT_ENV}"
            if "secret" in robot:
                robot["secret"] = f"env:{ROBOT_SECRET_ENV}"
    sms = notify.get("sms")
    if texting:
        notify["sms"] = {"sign_name": "示范煤矿信访", "templates": SMS_TEMPLATES}
        data.setdefault("online", ONLINE)
    if texting or isinstance(sms, dict):
        notify["sms"].update({"access_key_id": f"env:{SMS_ENV[0]}",
                              "access_key_secret": f"env:{SMS_ENV[1]}",
                              "endpoint": sms_endpoint})
    office_yaml.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                           encoding="utf-8")


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"not YAML: {e}", source=str(path)) from None
