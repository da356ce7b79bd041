"""The layout states the architecture: packages by pipeline stage, no import cycles, no module
reaching into another's private names, public APIs declared, and the harness — the only code
that runs inside a learner's kernel — importing nothing of the course."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("autograder", "reference_impl")
#: packages whose modules must not import private names across modules
CHECKED = ("autograder", "reference_impl")


def _modules() -> dict[str, Path]:
    found = {}
    for top in PACKAGES:
        for path in (REPO / top).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, list[str], bool]]:
    """(imported module, names, at module level) for every course import in ``path``."""
    tree = ast.parse(path.read_text())
    top_level = {id(node) for node in tree.body}
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                base = pkg.split(".")
                mod = ".".join(base[: len(base) - node.level + 1] + ([mod] if mod else []))
            if mod.split(".")[0] in PACKAGES:
                names = [a.name for a in node.names]
                # `from pkg import submodule` imports the submodule
                subs = [f"{mod}.{n}" for n in names if f"{mod}.{n}" in MODULES]
                for sub in subs:
                    out.append((sub, [], id(node) in top_level))
                rest = [n for n in names if f"{mod}.{n}" not in MODULES]
                if rest or not subs:
                    out.append((mod, rest, id(node) in top_level))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    out.append((alias.name, [], id(node) in top_level))
    return out


def test_no_module_imports_private_names_of_another() -> None:
    offenders = []
    for name, path in MODULES.items():
        if not name.startswith(CHECKED):
            continue
        for mod, names, _ in _imports(name, path):
            for n in names:
                if n.startswith("_") and mod != name:
                    offenders.append(f"{name} imports {mod}.{n}")
    assert not offenders, "\n".join(offenders)


def test_no_import_cycles_between_modules() -> None:
    """Imports — at module level or deferred into a function — form a DAG (a package's
    ``__init__`` re-exporting its own modules is not an edge back to the package from them)."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        edges = set()
        for mod, _, _top in _imports(name, path):
            target = mod
            while target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            if target != name and target in MODULES:
                edges.add(target)
        graph[name] = edges
    # `from autograder.grading import x` inside autograder.grading.* resolves through the
    # package __init__: forbid it (a module imports its siblings directly)
    inward = [
        f"{m} imports its own package {t}"
        for m, ts in graph.items()
        for t in ts
        if m.startswith(t + ".") and MODULES[t].name == "__init__.py"
    ]
    assert not inward, "\n".join(inward)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if MODULES[nxt].name == "__init__.py" and nxt in node:
                continue
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " → ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


@pytest.mark.parametrize(
    "package",
    sorted(n for n, p in MODULES.items() if p.name == "__init__.py"),
)
def test_every_package_states_its_public_api(package: str) -> None:
    module = importlib.import_module(package)
    assert (module.__doc__ or "").strip(), f"{package} has no docstring"
    if package in PACKAGES:
        return  # the top-level packages describe the layout
    exported = getattr(module, "__all__", None)
    assert exported, f"{package} declares no __all__"
    for name in exported:
        assert hasattr(module, name), f"{package}.__all__ names {name}, which it lacks"


@pytest.mark.parametrize(
    "package",
    sorted(n for n, p in MODULES.items() if p.name == "__init__.py"),
)
def test_no_public_name_is_also_a_submodule(package: str) -> None:
    """``from pkg import name`` must not depend on import order (a submodule named like a
    function of the package replaces it as an attribute when it is imported later)."""
    module = importlib.import_module(package)
    clashes = [n for n in getattr(module, "__all__", []) if f"{package}.{n}" in MODULES]
    assert not clashes, f"{package}: {clashes}"


def test_the_pipeline_reads_from_the_folder_names() -> None:
    stages = {p.name for p in (REPO / "autograder").iterdir() if (p / "__init__.py").is_file()}
    assert {
        "authoring",
        "release",
        "sandbox",
        "harness",
        "checks",
        "grading",
        "feedback",
        "publish",
        "schedule",
    } <= stages


def test_the_harness_imports_nothing_of_the_course() -> None:
    """Its source runs inside the learner's kernel, where the course is not installed."""
    path = REPO / "autograder" / "harness" / "in_kernel.py"
    assert not _imports("autograder.harness.in_kernel", path)
