"""The public door's sign-in (网上信访): a petitioner proves they hold a mobile number with a
six-digit code sent to it by SMS, through the office's provider (``notifications.sms``).

A code is good for ``CODE_TTL`` (10 minutes) and once. It is never stored: what is kept is
an HMAC of the number and the code under the installation's key (the query codes' key,
``services.progress``), as a row of the look-up ledger (``lookup_attempts``, keyed
``door-code:<number's HMAC>:<code's HMAC>``), so one table and one gate count both doors'
attempts. The caps, each refused with 429 and the time to wait:

- codes sent: ``SENDS_PER_NUMBER`` an hour to one number, ``SENDS_PER_CLIENT`` an hour from
  one address (an IPv6 client's /64);
- wrong codes: ``TRIES`` in ``CODE_TTL`` for one number (past it, every code sent to it in
  that time is dead, the right one too), ``TRIES_PER_CLIENT`` in ``CODE_TTL`` from one
  address.

The count and the record are one step (``uow.lookups.gate``), so parallel requests cannot
slip past a cap. Sending a code never looks at cases: the answer is the same whether the
number has cases or not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass

from domain.door import mobile
from domain.errors import PetitionError
from notifications.sms import TextMessage
from notifications.transports import PermanentError, TransientError
from services.bootstrap import App
from services.channels import texter
from services.progress import client_of, installation_mac_key

CODE_TTL = dt.timedelta(minutes=10)
SEND_WINDOW = dt.timedelta(hours=1)
SENDS_PER_NUMBER, SENDS_PER_CLIENT = 5, 20
TRIES, TRIES_PER_CLIENT = 5, 20
CODE = re.compile(r"[0-9]{6}")


class DoorClosed(PetitionError):
    """This office takes no petitions online (office.yaml ``online.enabled``)."""


class BadNumber(PetitionError):
    """Not a mainland mobile number."""


class WrongCode(PetitionError):
    """The code is wrong, used, or older than ten minutes (one answer for all three)."""


class SmsFailed(PetitionError):
    """The provider did not take the code's SMS (its refusal or silence, scrubbed)."""


class TooMany(PetitionError):
    """Past a cap: ``wait`` seconds until the next try may be made."""

    def __init__(self, what: str, wait: int) -> None:
        self.wait = max(1, wait)
        super().__init__(f"too many {what}: try again in {self.wait} seconds")

    @property
    def minutes(self) -> int:
        return math.ceil(self.wait / 60)


@dataclass(frozen=True)
class Sent:
    number: str
    provider_id: str


def _mac(app: App, text: str) -> str:
    return hmac.new(installation_mac_key(app), text.encode(), hashlib.sha256).hexdigest()[:40]


def _number(app: App, phone: str) -> str:
    if not app.office.online.enabled:
        raise DoorClosed("this office takes no petitions online")
    number = mobile(phone)
    if not number:
        raise BadNumber("请填写 11 位手机号码")
    return number


def _wait(times: list[dt.datetime], cap: int, window: dt.timedelta, now: dt.datetime
          ) -> int:
    """Seconds until fewer than ``cap`` of ``times`` lie in the window before then."""
    ordered = sorted(times)
    return math.ceil((ordered[len(ordered) - cap] + window - now).total_seconds())


def send_code(app: App, phone: str, client: str) -> Sent:
    """Send a fresh code to ``phone``: counted and recorded first (one gated step), then
    sent through the office's SMS provider. ``BadNumber``, ``DoorClosed``, ``TooMany``;
    a provider that refuses or fails raises its error (the send counts all the same)."""
    number = _number(app, phone)
    online, sms = app.office.online, app.office.notify.sms
    assert online.code_template is not None and sms is not None  # checked at load
    now = app.clock.now()
    code = f"{secrets.randbelow(10**6):06d}"
    by_number, by_client = f"door-send:{_mac(app, number)}", \
        f"door-send-ip:{client_of(client)}"[:128]
    with app.uow() as uow:
        uow.lookups.gate()
        for key, cap in ((by_number, SENDS_PER_NUMBER), (by_client, SENDS_PER_CLIENT)):
            times = uow.lookups.times(key, now - SEND_WINDOW)
            if len(times) >= cap:
                raise TooMany("codes sent", _wait(times, cap, SEND_WINDOW, now))
        uow.lookups.record([by_number, by_client, _code_key(app, number, code)], now, False)
        uow.commit()
    params = {name: code for name, _ in online.code_template.params}
    message = TextMessage(f"door-code:{_mac(app, number + now.isoformat())}", number,
                          sms.sign_name, online.code_template.code, params, now)
    try:
        return Sent(number, texter(app, sms).send(message))
    except (TransientError, PermanentError) as e:  # no retry: the petitioner asks again
        raise SmsFailed(f"the sign-in code's SMS did not go: {e}") from None


def _code_key(app: App, number: str, code: str) -> str:
    return f"door-code:{_mac(app, number)[:32]}:{_mac(app, f'{number}:{code}')[:64]}"


def sign_in(app: App, phone: str, code: str, client: str) -> str:
    """The mobile number ``phone`` proven by ``code`` (its eleven digits), or
    ``WrongCode`` (wrong, used, expired alike), ``TooMany``, ``BadNumber``."""
    number = _number(app, phone)
    code = code.strip()
    now = app.clock.now()
    tries, tries_ip = f"door-try:{_mac(app, number)}", f"door-try-ip:{client_of(client)}"[:128]
    key = _code_key(app, number, code if CODE.fullmatch(code) else "------")
    used = f"door-used:{key[10:]}"[:128]
    with app.uow() as uow:
        uow.lookups.gate()
        for counted, cap in ((tries, TRIES), (tries_ip, TRIES_PER_CLIENT)):
            times = uow.lookups.times(counted, now - CODE_TTL)
            if len(times) >= cap:
                raise TooMany("wrong codes", _wait(times, cap, CODE_TTL, now))
        good = CODE.fullmatch(code) is not None \
            and bool(uow.lookups.times(key, now - CODE_TTL)) \
            and not uow.lookups.times(used, now - CODE_TTL)
        uow.lookups.record([used] if good else [tries, tries_ip], now, False)
        uow.commit()
    if not good:
        raise WrongCode("验证码不正确或已过期")
    return number
