"""The house keeps its rooms: each layer imports only what it may (README "Architecture"),
no module imports another that imports it back, and a read command's module loads neither
Prefect nor Alembic. Every import counts, also one inside a function."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "storage", "notifications", "services", "flows", "cli")

# What each layer may never import (top-level names; ours or third-party).
FORBIDDEN = {
    "storage": {"prefect", "notifications", "services", "flows", "cli", "typer", "rich",
                "jinja2"},
    "notifications": {"prefect", "storage", "services", "flows", "cli", "typer", "rich",
                      "sqlalchemy"},
    "services": {"prefect", "typer", "rich", "fastapi", "flows", "cli"},
    "flows": {"typer", "cli", "web", "rich"},
    "cli": {"web"},
    "web": {"cli", "typer", "rich"},
}
# The CLI's read commands: their modules load neither Prefect nor Alembic.
READ_MODULES = ("cli.calendar", "cli.policy", "cli.office", "cli.cases", "cli.supervise",
                "cli.practices", "cli.outbox", "cli.clock", "cli.search")


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, absolute names, function bodies included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def graph() -> dict[str, set[str]]:
    """Module → the project's modules it imports (``from services import cases`` names the
    module ``services.cases``)."""
    known = modules()
    edges: dict[str, set[str]] = {m: set() for m in known}
    for name, path in known.items():
        for _, target in imports_of(path):
            if target in known and target != name:
                edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def violations(layer: str, files: Iterable[tuple[str, Path]]) -> list[str]:
    bad = []
    for name, path in files:
        for line, module in imports_of(path):
            if module.split(".")[0] in FORBIDDEN[layer]:
                bad.append(f"{name}:{line} imports {module}")
    return bad


def test_each_layer_imports_only_what_it_may():
    known = modules()
    bad = []
    for layer in FORBIDDEN:
        bad += violations(layer, ((n, p) for n, p in known.items()
                                  if n.split(".")[0] == layer))
    assert bad == []


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(graph()) == []


def test_the_cycle_check_catches_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_layer_check_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from prefect import flow\n    import typer\n")
    assert violations("services", [("services.x", bad)]) == [
        "services.x:2 imports prefect", "services.x:2 imports prefect.flow",
        "services.x:3 imports typer"]


def test_the_read_commands_load_neither_prefect_nor_alembic():
    code = f"""
import importlib, sys
from cli.main import build
for module in {READ_MODULES!r}:
    importlib.import_module(module)
build("show"); build("calendar"); build("timeline"); build("outbox"); build("signal")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("prefect", "alembic"))
print(" ".join(loaded[:5]))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_the_calendar_commands_load_no_database_library():
    code = """
import sys
from cli.main import build
build("calendar"); build("policy")
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "prefect"))[:5]))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
