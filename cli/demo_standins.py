"""The demo's stand-ins for what an office reaches outside: the leaders' 企业微信 group robot
and Alibaba Cloud's SMS endpoint. Each is a local HTTP server that takes what the real one
would (WeCom: a JSON POST; SMS: the SDK's signed SendSms request), answers as it does, and
keeps what it received so the demo can show it. The demo never reaches the real ones."""

from __future__ import annotations

import json
import shutil
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

ENV = "PETITIONS_WECOM_LEADERS_WEBHOOK"  # deploy/config/office.yaml: robot "leaders"
SMS_ENV = ("PETITIONS_DEMO_SMS_KEY_ID", "PETITIONS_DEMO_SMS_SECRET")
# The demo office's "approved" templates (an office registers its own with the provider).
SMS_TEMPLATES = {
    "acceptance_notice": {"code": "SMS_DEMO_ACCEPTED", "params": {"no": "ref", "due": "due"}},
    "decision_notice": {"code": "SMS_DEMO_DECIDED", "params": {"no": "ref", "date": "date"}},
}


class RobotStandIn:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.shown = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    stand_in.received.append(json.loads(body))
                    answer = {"errcode": 0, "errmsg": "ok"}
                except ValueError:
                    answer = {"errcode": 40008, "errmsg": "invalid message type"}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:  # the URL holds the robot's key
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = (f"http://127.0.0.1:{self.server.server_address[1]}"
                    "/cgi-bin/webhook/send?key=demo-robot")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

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

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmsStandIn:
    """Alibaba Cloud's SMS endpoint: takes the SDK's SendSms (its parameters in the query),
    answers ``OK`` with a BizId."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.shown = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                query = urllib.parse.urlsplit(self.path).query
                stand_in.received.append(dict(urllib.parse.parse_qsl(query)))
                data = json.dumps({"Code": "OK", "Message": "OK", "RequestId": "demo",
                                   "BizId": f"demo-{len(stand_in.received)}^0"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def new(self) -> list[str]:
        out = []
        for q in self.received[self.shown:]:
            phone = q.get("PhoneNumbers", "")
            out.append(f"{q.get('TemplateCode')} {q.get('TemplateParam')} to "
                       f"{phone[:3]}****{phone[-4:]} ({q.get('SignName')})")
        self.shown = len(self.received)
        return out


def texting_config(config: Path, home: Path, endpoint: str) -> Path:
    """A copy of the office's configuration in ``home`` with SMS to petitioners through
    ``endpoint`` (the demo's stand-in) and the demo's templates."""
    copy = home / "config"
    shutil.copytree(config, copy, dirs_exist_ok=True)
    office_yaml = copy / "office.yaml"
    data = yaml.safe_load(office_yaml.read_text(encoding="utf-8")) or {}
    data.setdefault("notifications", {})["sms"] = {
        "sign_name": "示范煤矿信访", "access_key_id": f"env:{SMS_ENV[0]}",
        "access_key_secret": f"env:{SMS_ENV[1]}", "endpoint": endpoint,
        "templates": SMS_TEMPLATES}
    office_yaml.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                           encoding="utf-8")
    return copy
