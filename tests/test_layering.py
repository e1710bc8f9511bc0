"""The package's imports point one way: the import graph of ``rdmf/`` has no cycle, and no module
imports another module's ``_private`` name.

The graph is built from the source with ``ast``: every ``import`` and ``from ... import`` anywhere
in a module (function bodies included), relative imports resolved against the module's package.
``from pkg import name`` where ``pkg.name`` is a module counts as an import of that module.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "rdmf"
ROOT = Path(__file__).resolve().parents[1]


def module_files(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> source file, for every ``.py`` file of the package."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_package(name: str, files: dict[str, Path]) -> bool:
    return files[name].name == "__init__.py"


def _resolve(module: str | None, level: int, current: str, files: dict[str, Path]) -> str:
    """Absolute dotted name of ``from <level dots><module> import ...`` inside ``current``."""
    if level == 0:
        return module or ""
    base = current.split(".")
    if not _is_package(current, files):
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _owner(name: str, files: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is a module of the package."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in files:
            return candidate
        parts.pop()
    return None


def imports(files: dict[str, Path]) -> tuple[dict[str, set[str]], list[str]]:
    """(graph: module -> modules of the package it imports, private imports as messages)."""
    graph: dict[str, set[str]] = {name: set() for name in files}
    private: list[str] = []
    for name, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        aliases: dict[str, str] = {}  # local name bound to a module of the package -> module
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = _owner(alias.name, files)
                    if target is None:
                        continue
                    graph[name].add(target)
                    if alias.asname:
                        aliases[alias.asname] = target
                    else:
                        aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(node.module, node.level, name, files)
                target = _owner(source, files)
                if target is None:
                    continue
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    if submodule in files:  # ``from pkg import module``: an edge to the module
                        graph[name].add(submodule)
                        aliases[alias.asname or alias.name] = submodule
                        continue
                    graph[name].add(target)  # a name defined (or re-exported) by ``target``
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        private.append(f"{name}: from {source} import {alias.name}")
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                dotted = _dotted(node.value)
                if dotted is None or dotted.split(".")[0] not in aliases:
                    continue
                head, *rest = dotted.split(".")
                module = ".".join([aliases[head], *rest])
                if module in files and module != name:
                    private.append(f"{name}: {dotted}.{node.attr}")
        graph[name].discard(name)
    return graph, private


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None. A submodule that imports a name
    from its own package's ``__init__`` depends on that ``__init__`` like on any other module."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_graph_sees_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text("def f():\n    from . import b\n    return b\n")
    (pkg / "sub" / "b.py").write_text("from ..c import _hidden\n")
    (pkg / "c.py").write_text("import pkg.sub.a as a\n_hidden = a.f()._x\n")
    files = module_files(tmp_path, "pkg")
    graph, private = imports(files)
    assert graph["pkg.sub.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.c"}
    assert graph["pkg.c"] == {"pkg.sub.a"}
    assert find_cycle(graph) == ["pkg.c", "pkg.sub.a", "pkg.sub.b", "pkg.c"]
    assert private == ["pkg.sub.b: from pkg.c import _hidden"]
    (pkg / "d.py").write_text("import pkg.sub.b as mod\ny = mod._z\n")
    _, private = imports(module_files(tmp_path, "pkg"))
    assert "pkg.d: mod._z" in private


def test_import_graph_has_no_cycle():
    graph, _ = imports(module_files())
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_module_imports_another_modules_private_names():
    _, private = imports(module_files())
    assert not private, "imports of private names:\n" + "\n".join(private)
