"""Write nbgrader source notebooks from readable Python (``assignments/authoring/<ps>.py``).

A problem set is a sequence of cells built with ``NotebookBuilder``; ``course author <ps>``
writes ``assignments/source/<ps>/<ps>.ipynb`` and ``course author --check`` fails when a
committed notebook differs from its script (CI runs it), so the two never drift.

Cell kinds, in nbgrader's terms (metadata schema 3):

* ``markdown`` / ``code(locked=True)``: read-only instructions or set-up;
* ``solution(grade_id, source)``: where the learner writes code; the source holds the
  instructor's answer between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, which
  ``generate_assignment`` replaces by a stub;
* ``tests(grade_id, points, source)``: an autograder-test cell holding only *visible* tests.
  Hidden checks live in ``hidden_checks.py`` and run outside the learner's kernel; a
  ``### BEGIN HIDDEN TESTS`` block is refused here, because nbgrader would run it in the kernel.
"""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["NotebookBuilder", "build_source", "load_builder"]


def _clean(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


class NotebookBuilder:
    """Accumulates cells; ``notebook()`` returns the nbformat v4 notebook."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cells: list[Any] = []
        self._ids: set[str] = set()

    def _meta(
        self, grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float = 0
    ) -> dict:
        if grade_id in self._ids:
            raise ValueError(f"duplicate grade_id {grade_id!r}")
        self._ids.add(grade_id)
        meta: dict[str, Any] = {
            "grade": grade,
            "grade_id": grade_id,
            "locked": locked,
            "schema_version": 3,
            "solution": solution,
            "task": False,
        }
        if grade:
            meta["points"] = points
        return {"nbgrader": meta}

    def markdown(self, text: str, grade_id: str | None = None) -> NotebookBuilder:
        gid = grade_id or f"md_{len(self.cells):02d}"
        cell = nbformat.v4.new_markdown_cell(
            _clean(text), metadata=self._meta(gid, grade=False, solution=False, locked=True)
        )
        self.cells.append(cell)
        return self

    def code(
        self, source: str, grade_id: str | None = None, locked: bool = True
    ) -> NotebookBuilder:
        gid = grade_id or f"code_{len(self.cells):02d}"
        meta = self._meta(gid, grade=False, solution=False, locked=True) if locked else {}
        self.cells.append(nbformat.v4.new_code_cell(_clean(source), metadata=meta))
        return self

    def solution(self, grade_id: str, source: str) -> NotebookBuilder:
        src = _clean(source)
        if "### BEGIN SOLUTION" not in src or "### END SOLUTION" not in src:
            raise ValueError(f"solution cell {grade_id!r} needs BEGIN/END SOLUTION markers")
        meta = self._meta(grade_id, grade=False, solution=True, locked=False)
        self.cells.append(nbformat.v4.new_code_cell(src, metadata=meta))
        return self

    def tests(self, grade_id: str, points: float, source: str) -> NotebookBuilder:
        src = _clean(source)
        if "BEGIN HIDDEN TESTS" in src:
            raise ValueError("hidden tests belong in hidden_checks.py, never in the notebook")
        meta = self._meta(grade_id, grade=True, solution=False, locked=True, points=points)
        self.cells.append(nbformat.v4.new_code_cell(src, metadata=meta))
        return self

    def notebook(self) -> nbformat.NotebookNode:
        nb = nbformat.v4.new_notebook()
        nb.cells = self.cells
        nb.metadata = {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"{self.name}-{i:03d}"
        return nb


def load_builder(script: Path) -> NotebookBuilder:
    """Run an authoring script and return its ``build()``'s ``NotebookBuilder``."""
    spec = importlib.util.spec_from_file_location(f"_authoring_{script.stem}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    builder = module.build()
    if not isinstance(builder, NotebookBuilder):
        raise TypeError(f"{script}: build() must return a NotebookBuilder")
    return builder


def build_source(course_root: Path, ps: str, check: bool = False) -> bool:
    """Write (or with ``check``, compare) ``source/<ps>/<ps>.ipynb``; True when up to date."""
    builder = load_builder(course_root / "authoring" / f"{ps}.py")
    text = nbformat.writes(builder.notebook()) + "\n"
    target = course_root / "source" / ps / f"{ps}.ipynb"
    current = target.read_text() if target.exists() else None
    if check:
        return current == text
    target.parent.mkdir(parents=True, exist_ok=True)
    if current != text:
        target.write_text(text)
    return True
