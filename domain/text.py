"""What text a person may enter: a size limit per field, and no characters that are not text.

Checked before anything is stored or handed to Prefect (whose run parameters stop at
512 KiB, and whose logs would otherwise carry the payload). Refused everywhere:
- control characters (NUL cannot even be stored in PostgreSQL text; ESC and BEL act on the
  terminal that prints them), except newline and tab in multi-line fields;
- bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), which make a name or
  a subject read differently from what it is ("Trojan Source").
"""

from __future__ import annotations

import unicodedata

from domain.errors import ConfigError

# Characters, per field. Names and subjects are one line; the others may have several.
LIMITS: dict[str, int] = {
    "name": 50,
    "phone": 32,
    "id_number": 32,
    "email": 254,
    "address": 200,
    "subject": 200,
    "content": 20_000,
    "reason": 2_000,
    "summary": 4_000,
    "actor": 64,
    "registration_no": 64,
}
MULTILINE = frozenset({"content", "reason", "summary", "address"})
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


def check_text(value: str, field: str, *, limit: int | None = None,
               multiline: bool | None = None) -> str:
    """``value`` if it may be stored as ``field``; else a ``ConfigError`` naming the field
    and what is wrong (its length and the limit, or the character and where it is)."""
    kind = field.rsplit(".", 1)[-1]
    limit = limit if limit is not None else LIMITS.get(kind, 2_000)
    multiline = multiline if multiline is not None else kind in MULTILINE
    if len(value) > limit:
        raise ConfigError(f"{len(value):,} characters; at most {limit:,} are allowed",
                          field=field)
    for i, ch in enumerate(value):
        if ch in BIDI_CONTROLS:
            raise ConfigError(f"character U+{ord(ch):04X} ({unicodedata.name(ch, 'bidi')}) "
                              f"at {i + 1} is not allowed: it reorders the text shown",
                              field=field)
        if unicodedata.category(ch) == "Cc" and not (multiline and ch in "\n\r\t"):
            raise ConfigError(f"control character U+{ord(ch):04X} at {i + 1} is not "
                              "allowed" + ("" if multiline else "; this field is one line"),
                              field=field)
    return value
