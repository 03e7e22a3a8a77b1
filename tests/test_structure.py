"""The house rules the layout promises, checked on the source: the import graph has no cycle, the
library never imports the CLI, no converter imports an engine adapter; the generated corpora match
their phrase tables; the README's gate table is the one the code enforces."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# source folder -> the package it is installed as (pyproject's package-dir)
PACKAGE_DIRS = {"crest_edge": "crest_edge", "convert": "crest_edge.convert", "runtimes": "crest_edge.runtimes"}


def _modules() -> dict[str, Path]:
    found = {}
    for folder, package in PACKAGE_DIRS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the crest_edge modules it imports (at module level or inside functions)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    origin = ".".join(base + ([node.module] if node.module else []))
                else:
                    origin = node.module or ""
                # `from pkg import sub` imports the submodule; `from pkg import name` the package
                targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules else origin for a in node.names]
            else:
                continue
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_import_graph_has_no_cycle():
    assert _cycles(import_graph()) == []


def test_library_never_imports_the_cli():
    graph = import_graph()
    arrows = [
        (a, b)
        for a, targets in graph.items()
        if not a.startswith("crest_edge.cli")
        for b in targets
        if b.startswith("crest_edge.cli")
    ]
    assert arrows == []


def test_no_converter_imports_an_engine_adapter():
    from crest_edge.registry import ENGINES

    adapters = {spec.adapter for spec in ENGINES.values()} | {"crest_edge.runtimes"}
    graph = import_graph()
    arrows = [
        (a, b)
        for a, targets in graph.items()
        if a.startswith("crest_edge.convert")
        for b in targets
        if b in adapters or b.startswith("crest_edge.runtimes.")
    ]
    assert arrows == []


def test_every_adapter_follows_the_engine_protocol():
    import importlib

    from crest_edge.registry import ENGINES

    for name, spec in ENGINES.items():
        module = importlib.import_module(spec.adapter)  # importable without its engine installed
        assert module.NAME == name
        for function in ("devices", "open_engine", "capabilities"):
            assert callable(getattr(module, function)), (name, function)


def test_generated_corpora_match_their_phrase_tables():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_corpora.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_gate_table_is_the_enforced_one():
    from crest_edge.parity.gates import markdown_table

    assert markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8")
