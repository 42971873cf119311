"""Search (检索) as the domain sees it: what of a case can be found, how a query is read, and
which of the fields matched a viewer may have found it by.

A case is found by its registration number, its petitioner's name, phone and ID number,
and the words of its subject and content. Each query term of three or more characters is
looked for anywhere in that text (the databases index it by trigrams); a two-character term
as a pair of adjacent characters (indexed as bigrams); a query shorter than three
characters in all matches the registration number, name, phone or ID number exactly or by
prefix (and, of two characters, a pair of adjacent characters of the text).

Who finds what is ``domain.permissions.sight``'s: a viewer finds a case only through the
fields they may see. Those who see its material (``Sight.MATERIAL`` and ``FULL``) find it
by any field (the petitioner's phone and ID number too: a clerk finds a case by the phone
they typed, though they see it masked); an outline reader (an accusation, outside its
handling chain) only by its registration number; nobody else at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.offices import OfficeTree
from domain.permissions import supervisors
from domain.persons import normal_id, normal_name, normal_phone, normal_text

MAX_QUERY = 100  # characters of a query read
# a mobile number (11 digits, maybe +86) or a landline with its area code, as typed
_PHONE_LIKE = re.compile(r"^(\+?86)?1[0-9]{2}-?[0-9]{4}-?[0-9]{4}$|^0[0-9]{2,3}-[0-9]{7,8}$")


@dataclass(frozen=True)
class Query:
    """A query as searched: its terms (normalised, each at least one character), and
    whether it is short (under three characters in all)."""

    text: str
    terms: tuple[str, ...]

    @property
    def short(self) -> bool:
        return sum(len(t) for t in self.terms) < 3

    @property
    def joined(self) -> str:
        return "".join(self.terms)

    def __bool__(self) -> bool:
        return bool(self.terms)


def read_query(text: str) -> Query:
    """The terms of ``text``: split at spaces and Chinese punctuation, normalised
    (``normal_text``); a phone number typed with dashes or +86 reduced to its digits."""
    text = text[:MAX_QUERY]
    raw = re.split(r"[\s，,、；;。]+", normal_text(text))
    terms = tuple(dict.fromkeys(  # a country code typed apart is no term ("+86 139…")
        normal_phone(t) if _PHONE_LIKE.match(t) else t for t in raw if t and t != "+86"))
    return Query(text.strip(), tuple(t for t in terms if t))


@dataclass(frozen=True)
class Searchable:
    """What of one case is searched, normalised and case folded: ``reg`` (registration
    number), ``name``, ``phone``, ``id_number``; ``words`` (all of them, subject and
    content, one per line), and ``grams`` (each pair of adjacent characters of ``words``,
    once, between spaces)."""

    reg: str
    name: str
    phone: str
    id_number: str
    words: str
    grams: str


def searchable(registration_no: str, name: str, phone: str | None, id_number: str | None,
               subject: str, content: str) -> Searchable:
    reg = normal_text(registration_no)
    who = (normal_name(name).casefold(), normal_phone(phone), normal_id(id_number).casefold())
    words = "\n".join([reg, *who, normal_text(subject), normal_text(content)])
    return Searchable(reg, *who, words, bigrams(words))


def bigrams(words: str) -> str:
    """Each pair of adjacent characters within a run without spaces, once, in order of
    first appearance, between spaces: ``" 工资 资未 "``."""
    seen: dict[str, None] = {}
    for run in words.split():
        for i in range(len(run) - 1):
            seen.setdefault(run[i:i + 2], None)
    return " " + " ".join(seen) + " " if seen else ""


def matches(s: Searchable, q: Query) -> bool:
    """Whether ``q`` finds ``s`` through any of its fields (the in-memory store's search;
    the databases' indexes answer the same)."""
    if q.short:
        if prefixed(s, q.joined):
            return True
        return len(q.joined) == 2 and f" {q.joined} " in s.grams
    return all(t in s.words if len(t) != 2 else f" {t} " in s.grams for t in q.terms)


def prefixed(s: Searchable, value: str) -> bool:
    """Whether a field (number, name, phone, ID number) starts with ``value``."""
    return any(f.startswith(value) for f in (s.reg, s.name, s.phone, s.id_number) if f)


def found_by_number(registration_no: str, q: Query) -> bool:
    """Whether ``q`` finds a case through its registration number alone (all an outline
    reader may find an accusation by)."""
    reg = normal_text(registration_no)
    if q.short:
        return reg.startswith(q.joined)
    return all(t in reg for t in q.terms)


def snippet(content: str, q: Query, width: int = 60) -> str:
    """Some of ``content`` around the first term found in it (for a reader of the
    material only), else its beginning."""
    text = " ".join(content.split())
    low = normal_text(text)
    at = min((i for t in q.terms if (i := low.find(t)) >= 0), default=0)
    start = max(0, at - width // 3)
    piece = text[start:start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


@dataclass(frozen=True)
class Scope:
    """Where a viewer's hits may come from, for the databases' coarse filter (a superset
    of what ``sight`` lets through): ``offices`` they may find cases of; whether they
    ``supervise`` them (an ordinary petition's material, an accusation's outline); their
    ``home`` office, the ``units`` of it they head or are in charge of, and whether they
    are its mine head or party secretary (``top``: in every case's chain, as re-reviewer)."""

    viewer: str
    home: str
    offices: tuple[str, ...]
    supervisor: bool
    units: tuple[str, ...]
    top: bool
    everywhere: bool = False  # ``offices`` are all there are: no condition on them


NOWHERE = Scope("", "", (), False, (), False)


def scope_of(tree: OfficeTree, person: str) -> Scope:
    """``person``'s search scope in ``tree`` (nobody's: ``NOWHERE``)."""
    home = tree.home(person)
    if home is None:
        return NOWHERE
    org = tree.org(home)
    units = tuple(sorted(u.id for u in org.units.values() if person in (u.head, u.leader)))
    offices = tuple(tree.offices_seen_by(person))
    return Scope(person, home, offices, person in supervisors(org), units,
                 person in (org.mine_head, org.party_secretary),
                 set(offices) == set(tree.nodes))
