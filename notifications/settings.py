"""The office's notification settings (``office.yaml``, section ``notifications``).

Pure: plain data in, a frozen object out; a bad field raises ``ConfigError`` naming it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from domain.errors import ConfigError
from domain.fields import Fields, parse_time

LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class QuietHours:
    """When non-urgent messages wait: a nightly window (it may cross midnight) and, with
    ``rest_days``, the whole of weekends and holidays (调休 workdays are working days)."""

    start: dt.time = dt.time(22, 0)
    end: dt.time = dt.time(7, 0)
    rest_days: bool = True


@dataclass(frozen=True)
class NotifySettings:
    language: str = "zh"
    sender_email: str = "xinfang@petitions.invalid"
    sender_name: str = "信访办公室"
    quiet: QuietHours | None = field(default_factory=QuietHours)
    # Whether breaches and escalations (urgent) go out in quiet hours too.
    urgent_bypasses_quiet_hours: bool = True
    digest_at: dt.time = dt.time(8, 0)
    # Who is told of a message that could not be delivered (a person id).
    alert_to: str | None = None
    # Who prints and posts notices for petitioners without an e-mail address.
    letters_to: str | None = None
    # Who does it for an accusation (检举控告); default: the head of the unit that takes
    # accusations. Never anyone in the accusation's accused set.
    confidential_letters_to: str | None = None


def notify_from_mapping(data: object, path: str = "notifications") -> NotifySettings:
    f = Fields(data, path, ("language", "sender", "quiet_hours", "urgent_bypasses_quiet_hours",
                            "digest_at", "alert_to", "letters_to", "confidential_letters_to"))
    language = f.text("language", "zh")
    if language not in LANGUAGES:
        raise ConfigError(f"unknown language {language!r}; expected one of "
                          f"{', '.join(LANGUAGES)}", field=f.at("language"))
    sender = Fields(f.data.get("sender") or {}, f.at("sender"), ("email", "name"))
    quiet: QuietHours | None = QuietHours()
    if "quiet_hours" in f.data and f.data["quiet_hours"] in (None, False):
        quiet = None
    elif f.has("quiet_hours"):
        q = Fields(f.raw("quiet_hours"), f.at("quiet_hours"), ("start", "end", "rest_days"))
        quiet = QuietHours(parse_time(q.text("start", "22:00"), q.at("start")),
                           parse_time(q.text("end", "07:00"), q.at("end")),
                           q.typed("rest_days", bool, True))
    return NotifySettings(
        language=language,
        sender_email=sender.text("email", NotifySettings.sender_email),
        sender_name=sender.text("name", NotifySettings.sender_name),
        quiet=quiet,
        urgent_bypasses_quiet_hours=f.typed("urgent_bypasses_quiet_hours", bool, True),
        digest_at=parse_time(f.text("digest_at", "08:00"), f.at("digest_at")),
        alert_to=f.text("alert_to") if f.has("alert_to") else None,
        letters_to=f.text("letters_to") if f.has("letters_to") else None,
        confidential_letters_to=f.text("confidential_letters_to")
        if f.has("confidential_letters_to") else None)
