"""bertlab's modules import each other without a loop (counting imports inside functions too).

A loop (``train → callbacks.hf_export → export → train`` was one) makes import order matter and hides which
module is the library and which the entry point.
"""

from __future__ import annotations

import ast
from pathlib import Path

import bertlab

SOURCE = Path(bertlab.__file__).parent


def module_names() -> dict[str, Path]:
    names = {}
    for path in SOURCE.rglob("*.py"):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imports(path: Path, modules: set[str]) -> set[str]:
    """The bertlab modules ``path`` imports anywhere in its body (``from pkg import mod`` counts ``pkg.mod``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name in modules and name != "bertlab"}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_reports_a_loop_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_bertlab_has_no_import_loop():
    modules = module_names()
    graph = {name: imports(path, set(modules)) - {name} for name, path in modules.items()}
    assert graph["bertlab.train"], "the parser found no imports: the test would pass vacuously"
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph))


def test_no_module_imports_the_training_entry_point():
    """``train`` is the composition root; export, evaluate and inspect rebuild runs with ``bertlab.build``."""
    modules = module_names()
    importers = {name for name, path in modules.items() if "bertlab.train" in imports(path, set(modules))}
    assert importers == set()
