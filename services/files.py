"""The office's YAML (and JSON) files, read with the line of every node, so that a bad field is
reported as ``file:line (field 'a.b[2]')``. Light on purpose: the calendar commands load the
calendar file with this alone.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from domain.calendar import PackageCalendar, WorkingCalendar, calendar_from_mapping
from domain.errors import ConfigError

T = TypeVar("T")


_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _line_of(root: yaml.Node | None, field: str) -> int | None:
    """The 1-based line of the deepest node on the dotted ``field`` path."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for name, index in _TOKEN.findall(field):
        child = None
        if isinstance(node, yaml.MappingNode) and name:
            child = next((v for k, v in node.value if str(k.value) == name), None)
            key = next((k for k, _ in node.value if str(k.value) == name), None)
            if child is None and key is None:
                break
            if child is not None and key is not None and not isinstance(
                    child, (yaml.MappingNode, yaml.SequenceNode)):
                child = key if child.start_mark.line == key.start_mark.line else child
        elif isinstance(node, yaml.SequenceNode) and index and int(index) < len(node.value):
            child = node.value[int(index)]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


# libyaml's loader when the C extension is there (ten times the pure-Python one's speed).
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", source=str(path)) from None


def _parse_yaml(text: str, path: Path) -> Any:
    try:
        return yaml.load(text, Loader=_LOADER)  # a safe loader (C or Python)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise ConfigError(f"not valid YAML: {e.problem or e}", source=str(path),
                          line=mark.line + 1 if mark else None) from None


def read_data(path: Path) -> Any:
    """The parsed content of a YAML (or JSON) file."""
    return _parse_yaml(_read(path), path)


def load_file(path: Path, parse: Callable[[Any], T]) -> T:
    """Parse a YAML (or JSON) file with ``parse``; errors name file, line and field. The
    node tree that locates a bad field is built only when a field is bad."""
    text = _read(path)
    data = _parse_yaml(text, path)
    try:
        return parse(data)
    except ConfigError as e:
        root = yaml.compose(text, Loader=_LOADER)
        raise e.located(str(path), _line_of(root, e.field)) from None


def load_json(path: Path | None) -> Any:
    """A JSON document from a file, or from stdin when ``path`` is None or ``-``."""
    try:
        text = sys.stdin.read() if path is None or str(path) == "-" else \
            path.read_text(encoding="utf-8")
        return json.loads(text)
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", source=str(path)) from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"not valid JSON: {e.msg}", source=str(path or "<stdin>"),
                          line=e.lineno) from None


def load_calendar(path: Path | None, package: PackageCalendar | None = None
                  ) -> WorkingCalendar:
    """The working calendar, with overrides from ``path`` when it exists; ``package`` is
    the ``holidays`` package's data read ahead (``services.package_cache``)."""
    if path is None:
        return WorkingCalendar(package=package)
    return load_file(path, lambda data: calendar_from_mapping(data, package))
