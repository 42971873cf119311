"""How a rendered message leaves: SendGrid's v3 mail send, or an ``.eml`` file.

A transport sends one envelope and returns where it went (the provider's message id, the
file). It raises ``TransientError`` for what a later try may fix (429, 5xx, a timeout, a
refused connection; with the server's Retry-After when it gave one) and ``PermanentError``
for what it will not (any other 4xx). A provider's request to wait (a robot's or the SMS
service's rate limit) is ``Held``: not a failed try. A request that went out without an
answer (a read timeout) is ``Unconfirmed`` where sending again could deliver it twice (the
group robots, which take no idempotency key). The API key never appears in an error.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
import urllib.error
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Envelope:
    key: str             # the outbox key: the same message always has the same key
    to_email: str
    to_name: str
    from_email: str
    from_name: str
    subject: str
    text: str
    html: str


class TransientError(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Held(TransientError):
    """The provider asks us to wait ``retry_after`` seconds (its rate limit, its flow
    control): the message is held that long and the try is not counted against it."""


class PermanentError(Exception):
    pass


class Unconfirmed(Exception):
    """The request went out and no answer came back: the provider may have taken it, so it
    is not sent again the same way."""


class Transport(Protocol):
    name: str

    def send(self, envelope: Envelope) -> str: ...


MAX_WAIT = 86400.0  # a provider's Retry-After is believed up to a day


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header: seconds, or an HTTP date; at most ``MAX_WAIT``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_WAIT)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return min(max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0), MAX_WAIT)


class Redact(logging.Filter):
    """Takes a secret (an API key, a robot's webhook key) out of every record of an HTTP
    client's logger (SendGrid's logs the request headers at DEBUG, httpx the URL at
    INFO)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if self.secret in text:
            record.msg, record.args = text.replace(self.secret, "***"), None
        return True


def redact(logger: logging.Logger, *secrets: str | None) -> None:
    """Take each of ``secrets`` out of every record of ``logger`` (one filter a secret)."""
    for secret in secrets:
        if secret and not any(isinstance(f, Redact) and f.secret == secret
                              for f in logger.filters):
            logger.addFilter(Redact(secret))


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with each of ``secrets`` in it replaced by ``***`` (an error's text)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


_HTTP_LOG = logging.getLogger("python_http_client.client")


class SendGridTransport:
    """The official ``sendgrid`` client. ``host`` is configurable (a local stand-in in
    tests); ``timeout`` bounds each call."""

    name = "sendgrid"

    def __init__(self, api_key: str, host: str = "https://api.sendgrid.com",
                 timeout: float = 10.0) -> None:
        self._key = api_key
        self.host = host
        self.timeout = timeout
        # The client logs headers and the whole payload at DEBUG: never the key, and no
        # petition text in debug logs either.
        _HTTP_LOG.setLevel(logging.INFO)
        redact(_HTTP_LOG, api_key)

    def _clean(self, text: str) -> str:
        return scrub(text, self._key)

    def send(self, envelope: Envelope) -> str:
        # The SendGrid client is loaded by the first message sent, not by every process
        # that imports the transports (the CLI's outbox listing, the flows' start-up).
        from python_http_client.exceptions import HTTPError
        from sendgrid import SendGridAPIClient
        from sendgrid.helpers.mail import Content, CustomArg, From, Mail, Subject, To

        mail = Mail(from_email=From(envelope.from_email, envelope.from_name),
                    to_emails=To(envelope.to_email, envelope.to_name),
                    subject=Subject(envelope.subject))
        mail.content = [Content("text/plain", envelope.text),
                        Content("text/html", envelope.html)]
        mail.custom_arg = CustomArg("outbox_key", envelope.key)
        client = SendGridAPIClient(api_key=self._key, host=self.host)
        client.client.timeout = self.timeout
        try:
            response = client.send(mail)
        except HTTPError as e:
            body = e.body.decode("utf-8", "replace") if isinstance(e.body, bytes) else str(e.body)
            what = self._clean(f"SendGrid {e.status_code}: {body[:500]}")
            headers = e.headers or {}
            if e.status_code == 429:  # its rate limit: held, not a failed try
                raise Held(what, retry_after_seconds(headers.get("Retry-After")) or 60.0
                           ) from None
            if e.status_code >= 500:
                raise TransientError(what, retry_after_seconds(headers.get("Retry-After"))
                                     ) from None
            raise PermanentError(what) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise TransientError(self._clean(f"SendGrid unreachable: {reason}")) from None
        headers = response.headers or {}
        return str(headers.get("X-Message-Id") or f"sendgrid:{response.status_code}")


class EmlTransport:
    """The embedded default: each message a readable ``.eml`` file in ``directory``. The
    file is named by the message key, so writing it again replaces it."""

    name = "eml"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, envelope: Envelope) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        msg = EmailMessage()
        msg["From"] = email.utils.formataddr((envelope.from_name, envelope.from_email))
        msg["To"] = email.utils.formataddr((envelope.to_name, envelope.to_email))
        msg["Subject"] = envelope.subject
        msg["Date"] = email.utils.formatdate(localtime=False)
        msg["Message-ID"] = email.utils.make_msgid(domain="petitions.local")
        msg["X-Outbox-Key"] = envelope.key
        msg.set_content(envelope.text)
        msg.add_alternative(envelope.html, subtype="html")
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", envelope.key)[:180] + ".eml"
        path = self.directory / name
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(msg))
        tmp.replace(path)
        return str(path)
