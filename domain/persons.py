"""A petitioner as the office recognises them again (信访人档案): the same person is the
same ID number, else the same name and phone; phone and ID numbers compared as typed
differently (spaces, dashes, a lower-case x); and the masks under which those outside the
handling chain see them. Used by repeat detection, the history page and the intake's
"来过 N 次"."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from domain.petition import Petitioner

_NOT_DIGIT = re.compile(r"[^0-9]")
_ID_JUNK = re.compile(r"[\s\-]")


def normal_text(value: str) -> str:
    """Text as it is compared: full-width forms made half-width (NFKC), case folded,
    ends stripped."""
    return unicodedata.normalize("NFKC", value).casefold().strip()


def normal_phone(phone: str | None) -> str:
    """A phone number's digits only ("139 1234-5678" and "+86 13912345678" are
    "13912345678")."""
    digits = _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", phone or ""))
    return digits[2:] if len(digits) == 13 and digits.startswith("861") else digits


def normal_id(id_number: str | None) -> str:
    """An ID number without spaces or dashes, its check letter upper-case."""
    return _ID_JUNK.sub("", unicodedata.normalize("NFKC", id_number or "")).upper()


def normal_name(name: str | None) -> str:
    """A name without surrounding or inner spaces (names are written without them)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or ""))


@dataclass(frozen=True)
class PersonKeys:
    """What finds a petitioner's cases: the ID number (normalised) if known; name and
    phone (normalised) if a phone is known; and the stored identity
    (``Petitioner.identity``) for one known by name alone."""

    id_number: str
    name: str
    phone: str
    identity: str

    @property
    def usable(self) -> bool:
        return bool(self.id_number or (self.name and self.phone) or self.identity)


def keys_of(p: Petitioner) -> PersonKeys:
    return PersonKeys(normal_id(p.id_number), normal_name(p.name), normal_phone(p.phone),
                      p.identity())


def same_person(a: Petitioner, b: Petitioner) -> bool:
    """Whether two petitions are the same person's: the same ID number when both have
    one; else the same name and phone (with no phone on either side: the same identity,
    name alone)."""
    ka, kb = keys_of(a), keys_of(b)
    if ka.id_number and kb.id_number:
        return ka.id_number == kb.id_number
    if ka.name != kb.name:
        return False
    if ka.phone and kb.phone:
        return ka.phone == kb.phone
    return ka.identity == kb.identity


def mask_phone(phone: str | None) -> str:
    """A phone number as someone outside the handling chain sees it: 139****5678."""
    digits = normal_phone(phone)
    if not digits:
        return ""
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:]


def mask_id(id_number: str | None) -> str:
    """An ID number as someone outside the handling chain sees it: its first four and
    last four characters."""
    value = normal_id(id_number)
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
