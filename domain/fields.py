"""Reading plain mappings (parsed YAML or JSON) into domain objects, naming the bad field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from domain.errors import ConfigError

T = TypeVar("T")


class Fields:
    """One mapping being read; every error names ``path.field``."""

    def __init__(self, data: object, path: str, allowed: Sequence[str]) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"expected a mapping, got {type(data).__name__}", field=path)
        unknown = [str(k) for k in data if k not in allowed]
        if unknown:
            raise ConfigError(f"unknown field; expected one of {', '.join(allowed)}",
                              field=self._join(path, unknown[0]))
        self.data: Mapping[Any, Any] = data
        self.path = path

    @staticmethod
    def _join(path: str, name: object) -> str:
        return f"{path}.{name}" if path else str(name)

    def at(self, name: object) -> str:
        """The dotted path of a field."""
        return self._join(self.path, name)

    def has(self, name: str) -> bool:
        return name in self.data and self.data[name] is not None

    def raw(self, name: str) -> Any:
        if not self.has(name):
            raise ConfigError("required field is missing", field=self.at(name))
        return self.data[name]

    def typed(self, name: str, kind: type[T], default: T | None = None) -> T:
        """A required (or defaulted) field of one Python type."""
        if not self.has(name):
            if default is not None:
                return default
            raise ConfigError("required field is missing", field=self.at(name))
        value = self.data[name]
        if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
            raise ConfigError(f"expected {kind.__name__}, got {value!r}", field=self.at(name))
        return value

    def text(self, name: str, default: str | None = None) -> str:
        value = self.typed(name, str, default)
        if not value.strip():
            raise ConfigError("must not be empty", field=self.at(name))
        return value.strip()

    def text_list(self, name: str) -> tuple[str, ...]:
        """An optional list of non-empty strings."""
        if not self.has(name):
            return ()
        value = self.data[name]
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise ConfigError(f"expected a list, got {value!r}", field=self.at(name))
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise ConfigError(f"expected a non-empty string, got {item!r}",
                                  field=f"{self.at(name)}[{i}]")
            out.append(item.strip())
        return tuple(out)

    def items(self, name: str) -> list[tuple[str, Any]]:
        """Entries of a list field, each with its path ``name[i]``."""
        if not self.has(name):
            return []
        value = self.data[name]
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise ConfigError(f"expected a list, got {value!r}", field=self.at(name))
        return [(f"{self.at(name)}[{i}]", item) for i, item in enumerate(value)]

    def date(self, name: str) -> dt.date:
        return parse_date(self.raw(name), self.at(name))


def parse_date(value: object, field: str) -> dt.date:
    """A date from a YAML date or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(value, dt.datetime):
        raise ConfigError(f"expected a date, got a date and time {value}", field=field)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"expected a date YYYY-MM-DD, got {value!r}", field=field)


def parse_enum(kind: type[T], value: object, field: str) -> T:
    """An Enum member by its value, naming the known values on error."""
    members = list(kind)  # type: ignore[call-overload]
    for member in members:
        if member.value == value:
            return member  # type: ignore[no-any-return]
    known = ", ".join(str(m.value) for m in members)
    raise ConfigError(f"unknown value {value!r}; expected one of {known}", field=field)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_time(value: object, field: str) -> dt.time:
    """A local time of day, ``HH:MM``."""
    try:
        return dt.time.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"expected a time HH:MM, got {value!r}", field=field) from None


def parse_weekday(value: object, field: str) -> int:
    """A weekday by its English name: 0 for ``monday`` … 6 for ``sunday``."""
    if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
        return WEEKDAYS.index(value.strip().lower())
    raise ConfigError(f"unknown weekday {value!r}; expected one of {', '.join(WEEKDAYS)}",
                      field=field)
