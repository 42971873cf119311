"""What a person reads must be Chinese prose: the checks the page tests (TestClient and
browser) apply to a page's visible text. A page fails on an internal event name
(``CaseRegistered``), a snake_case id (``leader_pending``), a ``key=value`` detail, a
case's internal id (``p-…``), or an id of the office's people (``qian.hui``) or units
(``mining1``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

CAMEL = re.compile(r"\b[A-Z][a-z]+[A-Z][A-Za-z]+\b")
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
KEY_VALUE = re.compile(r"\b\w+=\S+")
CASE_ID = re.compile(r"\bp-[0-9a-f]{12}\b")  # a case's internal id (its number is shown)


def unreadable(text: str, ids: Iterable[str]) -> list[str]:
    """What in ``text`` a person should not be shown: each offending match, once."""
    found = [m.group(0) for p in (CAMEL, SNAKE, KEY_VALUE, CASE_ID) for m in p.finditer(text)]
    for i in ids:
        # an id as a word of its own: "office" inside "officer" or an e-mail is not one
        if re.search(rf"(?<![\w.@-]){re.escape(i)}(?![\w@-]|\.\w)", text):
            found.append(i)
    return sorted(set(found))


class _Visible(HTMLParser):
    """The text a browser shows: the title and the body's text, option labels included;
    not scripts, styles, attributes or form values."""

    HIDDEN = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return "\n".join(p.strip() for p in parser.parts if p.strip())
