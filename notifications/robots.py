"""企业微信 (WeCom) and 钉钉 (DingTalk) group robots: a JSON POST to the robot's webhook.

A robot posts to a group chat, so what it says is short and says nothing the group's members
may not all see: the message kind, the case's number and what is due, and a mention of the
person it is for (by mobile number); never the petitioner, the subject or the content. Whether
a case's message may go through a robot at all (every member of the group may see the case,
none of them is in its accused set) is decided before it is sent (``services/channels.py``).

The webhook URL holds the robot's key, and DingTalk's signing secret (加签) signs each request
(``timestamp`` and ``sign`` in the query: HMAC-SHA256 over ``timestamp\\nsecret``, base64,
URL-encoded). Neither is ever written to a log or an error. Both answer HTTP 200 with an
``errcode``: 0 is sent; a rate-limit code (WeCom 45009, DingTalk 130101) or HTTP 429 is
``Held`` a minute (not a failed try), a busy server ``TransientError``, any other code
``PermanentError``. A connection that could not be made is ``TransientError``; a request sent
without an answer (read timeout, reset) is ``Unconfirmed``: the group may have it already,
and a robot takes no idempotency key, so it is not posted again (the outbox writes instead).
Apprise (installed with Prefect) speaks both robots, but answers only True or False, so it
cannot tell a rate-limit reply from a wrong key, nor say when to try again: this module does
it instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
import urllib.parse
from dataclasses import dataclass

import httpx

from notifications.transports import (
    Held,
    PermanentError,
    TransientError,
    Unconfirmed,
    redact,
    retry_after_seconds,
    scrub,
)

RATE_LIMITED = {"wecom": {45009, 45033}, "dingtalk": {130101, 130102}}
BUSY = {-1}
MINUTE = 60.0


@dataclass(frozen=True)
class RobotMessage:
    key: str        # the outbox key
    title: str      # one line: what happened
    text: str       # a few lines of markdown, nothing of the petition itself
    mobiles: tuple[str, ...] = ()  # whom to mention
    link: str = ""  # the case's page in the workplace (PETITIONS_WEB_BASE_URL), if any


class Robot:
    """One group robot. ``url``: its webhook (with its key); ``secret``: DingTalk's signing
    secret, if the robot has 加签 on."""

    def __init__(self, kind: str, url: str, secret: str | None = None,
                 timeout: float = 10.0) -> None:
        if kind not in RATE_LIMITED:
            raise ValueError(f"unknown robot kind {kind!r}")
        self.kind, self.name = kind, kind
        self._url, self._secret, self.timeout = url, secret, timeout
        # httpx logs each request's URL (the robot's key) at INFO: never with the key.
        for logger in (logging.getLogger("httpx"), logging.getLogger("httpcore")):
            redact(logger, urllib.parse.urlsplit(url).query, secret)

    def _clean(self, text: str) -> str:
        return scrub(text, self._url, urllib.parse.urlsplit(self._url).query, self._secret)

    def _body(self, m: RobotMessage) -> dict[str, object]:
        mentions = "".join(f" @{mobile}" for mobile in m.mobiles)
        if self.kind == "wecom":  # WeCom makes a link of an address in a text message
            link = f"\n{m.link}" if m.link else ""
            return {"msgtype": "text", "text": {
                "content": f"{m.title}\n{m.text}{link}",
                "mentioned_mobile_list": list(m.mobiles)}}
        link = f"\n\n[打开办理页面]({m.link})" if m.link else ""
        return {"msgtype": "markdown",
                "markdown": {"title": m.title,
                             "text": f"### {m.title}\n\n{m.text}{link}{mentions}"},
                "at": {"atMobiles": list(m.mobiles), "isAtAll": False}}

    def _signed(self) -> str:
        if self.kind != "dingtalk" or not self._secret:
            return self._url
        stamp = str(round(time.time() * 1000))
        digest = hmac.new(self._secret.encode("utf-8"),
                          f"{stamp}\n{self._secret}".encode(), hashlib.sha256).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest))
        return f"{self._url}{'&' if '?' in self._url else '?'}timestamp={stamp}&sign={sign}"

    def send(self, message: RobotMessage) -> str:
        who = f"{self.kind} robot"
        try:
            r = httpx.post(self._signed(), json=self._body(message), timeout=self.timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
            raise TransientError(self._clean(f"{who} unreachable: {type(e).__name__}: {e}")
                                 ) from None
        except httpx.HTTPError as e:  # it went out: the group may have it
            raise Unconfirmed(self._clean(f"{who} did not answer: {type(e).__name__}: {e}")
                              ) from None
        if r.status_code == 429:
            raise Held(f"{who}: HTTP 429",
                       retry_after_seconds(r.headers.get("Retry-After")) or MINUTE)
        if r.status_code >= 500:
            raise TransientError(f"{who}: HTTP {r.status_code}",
                                 retry_after_seconds(r.headers.get("Retry-After")))
        if r.status_code != 200:
            raise PermanentError(self._clean(f"{who}: HTTP {r.status_code}: {r.text[:300]}"))
        try:
            answer = r.json()
            code = int(answer.get("errcode", -2))
        except (ValueError, AttributeError, TypeError):
            raise TransientError(f"{who}: an answer that is not its JSON: "
                                 f"{self._clean(r.text[:200])}") from None
        what = self._clean(f"{who}: errcode {code}: {str(answer.get('errmsg', ''))[:300]}")
        if code == 0:
            return f"{self.kind}:{message.key}"
        if code in RATE_LIMITED[self.kind]:
            raise Held(what, MINUTE)  # held a minute, never dropped
        if code in BUSY:
            raise TransientError(what)
        raise PermanentError(what)
