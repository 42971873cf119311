"""What an intake clerk registers (登记): the petition, the petitioner, channel and category."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from domain import labels
from domain.errors import ConfigError, UnknownName
from domain.fields import Fields
from domain.instants import as_utc
from domain.text import LIMITS, check_text

# 第二十条: a group visit chooses representatives, no more than five.
MAX_REPRESENTATIVES = 5


class Channel(enum.Enum):
    LETTER = "letter"        # 来信
    VISIT = "visit"          # 来访
    ONLINE = "online"        # 网上信访
    PHONE = "phone"          # 电话
    RECEPTION = "reception"  # 领导接待日

    @property
    def label(self) -> str:
        return labels.CHANNELS[self.value]


class Category(enum.Enum):
    SUGGESTION = "suggestion"  # 建议意见类
    ACCUSATION = "accusation"  # 检举控告类
    COMPLAINT = "complaint"    # 申诉求决类

    @property
    def label(self) -> str:
        return labels.CATEGORIES[self.value]


@dataclass(frozen=True)
class Petitioner:
    """The person who petitions; phone, ID number and address are shown only to handlers."""

    name: str
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    email: str | None = None  # for written notices by e-mail; else they are posted

    def identity(self) -> str:
        """What makes two petitions the same petitioner's: the ID number if known,
        else name and phone."""
        if self.id_number:
            return f"id:{self.id_number.upper()}"
        return f"name:{self.name}|{self.phone or ''}"


@dataclass(frozen=True)
class Petition:
    """A petition as registered. ``received_at`` is a UTC instant; the acceptance-notice
    period (15 days) runs from its local date."""

    petitioner: Petitioner
    channel: Channel
    category: Category
    subject: str
    content: str
    received_at: dt.datetime
    concerns_unit: str | None = None
    accused_persons: tuple[str, ...] = ()
    headcount: int = 1
    representatives: int = 1
    key_person: bool = False
    repeat_of: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "received_at", as_utc(self.received_at))
        if not self.subject.strip():
            raise ConfigError("a petition needs a subject", field="subject")
        if self.headcount < 1:
            raise ConfigError("headcount must be at least 1", field="headcount")
        if not 1 <= self.representatives <= min(self.headcount, MAX_REPRESENTATIVES):
            raise ConfigError(
                f"{self.representatives} representatives for {self.headcount} people; a group "
                f"visit sends 1 to {MAX_REPRESENTATIVES} representatives (第二十条)",
                field="representatives")
        if self.category is Category.ACCUSATION and not (self.concerns_unit or
                                                           self.accused_persons):
            raise ConfigError("an accusation names the accused unit ('concerns_unit') or "
                              "persons ('accused_persons')", field="concerns_unit")

    @property
    def is_accusation(self) -> bool:
        return self.category is Category.ACCUSATION

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.content}"


def _enum(kind: type[Channel] | type[Category], value: str, what: str) -> Channel | Category:
    try:
        return kind(value)
    except ValueError:
        raise UnknownName(what, value, [m.value for m in kind]) from None


def petition_from_mapping(data: object, *, received_at: dt.datetime | None = None) -> Petition:
    """A petition from intake JSON. ``received_at`` fills in a missing ``received_at``."""
    f = Fields(data, "", ("petitioner", "channel", "category", "subject", "content",
                          "received_at", "concerns_unit", "accused_persons", "headcount",
                          "representatives", "key_person", "repeat_of"))
    p = Fields(f.raw("petitioner"), "petitioner",
               ("name", "id_number", "phone", "address", "email"))
    petitioner = Petitioner(
        name=p.text("name"),
        id_number=p.text("id_number") if p.has("id_number") else None,
        phone=p.text("phone") if p.has("phone") else None,
        address=p.text("address") if p.has("address") else None,
        email=p.text("email") if p.has("email") else None)
    if f.has("received_at"):
        raw = f.typed("received_at", str)
        try:
            when = dt.datetime.fromisoformat(raw)
            when = as_utc(when)
        except ValueError as e:
            raise ConfigError(f"expected an ISO time with zone, got {raw!r}: {e}",
                              field="received_at") from None
    elif received_at is not None:
        when = received_at
    else:
        raise ConfigError("required field is missing", field="received_at")
    channel = _enum(Channel, f.text("channel"), "channel")
    category = _enum(Category, f.text("category"), "category")
    assert isinstance(channel, Channel) and isinstance(category, Category)
    return _checked(Petition(
        petitioner=petitioner, channel=channel, category=category,
        subject=f.text("subject"), content=f.typed("content", str, ""),
        received_at=when,
        concerns_unit=f.text("concerns_unit") if f.has("concerns_unit") else None,
        accused_persons=f.text_list("accused_persons"),
        headcount=f.typed("headcount", int, 1),
        representatives=f.typed("representatives", int, 1),
        key_person=f.typed("key_person", bool, False),
        repeat_of=f.text("repeat_of") if f.has("repeat_of") else None,
    ))


def _checked(p: Petition) -> Petition:
    """``p`` once every text in it is within its limit and is text (``domain.text``)."""
    who = p.petitioner
    for field, value in (("petitioner.name", who.name), ("petitioner.phone", who.phone),
                         ("petitioner.id_number", who.id_number),
                         ("petitioner.address", who.address),
                         ("petitioner.email", who.email), ("subject", p.subject),
                         ("content", p.content), ("concerns_unit", p.concerns_unit),
                         ("repeat_of", p.repeat_of),
                         *((f"accused_persons[{i}]", a)
                           for i, a in enumerate(p.accused_persons))):
        if value is not None:
            check_text(value, field, limit=LIMITS.get(field.rsplit(".", 1)[-1], 64))
    return p


def check_received(petition: Petition, now: dt.datetime) -> None:
    """A petition is registered when, or after, it was received: never before."""
    if petition.received_at > as_utc(now):
        raise ConfigError(f"received_at {petition.received_at.isoformat()} is in the future "
                          f"(now is {as_utc(now).isoformat()})", field="received_at")
