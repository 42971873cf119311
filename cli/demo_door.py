"""The demo's petitioner at the public door (网上信访): they sign in with their mobile number
and the code the SMS provider's stand-in received for it, submit a petition online, and
later rate the written answer, through the same use cases as the door's pages
(``services.door_codes``, ``services.door``): registered by 网上信访 as channel online, the
rating recorded as the petitioner's own, channel online."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

from cli.demo_standins import SmsStandIn
from domain.case import Case
from domain.errors import ConfigError
from services import door
from services.bootstrap import App
from services.cases import Acted
from services.door_codes import send_code, sign_in
from services.ports import Runs

CLIENT = "demo"  # the address the demo's petitioner is counted under


def _signed_in(app: App, sms: SmsStandIn | None, phone: str) -> str:
    """The petitioner's number, proven with the code the stand-in received for it."""
    if sms is None:
        raise ConfigError("the demo's door needs its SMS stand-in", source="demo")
    send_code(app, phone, CLIENT)
    sent = [q for q in sms.received if q.get("PhoneNumbers") == phone]
    code = json.loads(sent[-1].get("TemplateParam") or "{}").get("code", "")
    return sign_in(app, phone, str(code), CLIENT)


def submit_online(app: App, sms: SmsStandIn | None, form: dict[str, Any], runs: Runs,
                  console: Console) -> Case:
    """``form`` (the door's fields and the petitioner's ``phone``) submitted online, its
    lifecycle run started."""
    number = _signed_in(app, sms, str(form["phone"]))
    case, _ = door.submit(app, number, {k: str(v) for k, v in form.items()}, [])
    console.print(f"  网上信访 /submit ← {case.ref} registered by 网上信访 (channel online), "
                  f"{case.stage.label}", highlight=False)
    why = runs.start(app, case.id)
    if why:
        console.print(f"  note: {case.ref}'s run not started now ({why})", highlight=False)
    return case


def door_address(web_port: int) -> str:
    """Where the public door is: the workplace's ``/submit``."""
    if web_port:
        return f"http://127.0.0.1:{web_port}/submit"
    return ("/submit on the office workplace (petitions demo --keep-serving serves it at "
            "http://127.0.0.1:8000/submit)")


def act_online(app: App, runs: Runs, sms: SmsStandIn | None, case: Case, act: str,
               fields: dict[str, Any]) -> Acted:
    """The petitioner's own ``act`` on ``case``, signed in at the door."""
    number = _signed_in(app, sms, str(case.petition.petitioner.phone))
    return door.take(app, runs, number, case.ref, act, rating=str(fields.get("rating", "")),
                     reason=str(fields.get("reason", "")))
