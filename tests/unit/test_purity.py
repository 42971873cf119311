"""The domain stays pure: no framework, no I/O modules, no clock."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
ALLOWED_THIRD_PARTY = {"pendulum", "holidays", "domain"}
FORBIDDEN_STDLIB = {"os", "subprocess", "socket", "shutil", "pathlib", "io", "time",
                    "sqlite3", "urllib", "http", "random"}
CLOCK_CALLS = {"now", "today", "utcnow", "monotonic", "perf_counter"}


def _modules(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module.split(".")[0]))
    return out


def test_domain_imports_only_the_standard_library_pendulum_and_holidays():
    bad = []
    for path in sorted(DOMAIN.rglob("*.py")):
        for line, module in _modules(ast.parse(path.read_text(encoding="utf-8"))):
            stdlib = module in sys.stdlib_module_names or module == "__future__"
            if module in FORBIDDEN_STDLIB or not (stdlib or module in ALLOWED_THIRD_PARTY):
                bad.append(f"{path.name}:{line} imports {module}")
    assert bad == []


def test_domain_never_reads_the_clock():
    calls = []
    for path in sorted(DOMAIN.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and (node.func.attr in CLOCK_CALLS
                         # time.time() reads the clock; dt.time(8, 0) builds a time of day
                         or (node.func.attr == "time" and not node.args))):
                calls.append(f"{path.name}:{node.lineno} calls .{node.func.attr}()")
    assert calls == []


def test_the_clock_check_catches_a_call_to_now():
    tree = ast.parse("import pendulum\nx = pendulum.now('UTC')\n")
    assert any(isinstance(n, ast.Call) and getattr(n.func, "attr", "") in CLOCK_CALLS
               for n in ast.walk(tree))


def test_the_purity_check_catches_a_forbidden_import():
    tree = ast.parse("import os\nfrom sqlalchemy import orm\nimport datetime\n")
    found = [m for _, m in _modules(tree)]
    assert found == ["os", "sqlalchemy", "datetime"]
