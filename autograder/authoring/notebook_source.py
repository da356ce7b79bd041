"""A problem set's notebook source: one Python file in jupytext's percent format.

``assignments/problem_sets/<ps>/<ps>.py`` *is* the notebook: each cell starts with a ``# %%``
line carrying nbgrader's own cell metadata (``nbgrader={"grade": true, "grade_id": …,
"points": 4, …}``), markdown cells are comments, and solution regions sit between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` as nbgrader expects. Being plain Python, it is
formatted and linted with the rest of the code; being jupytext, it opens as a notebook in
JupyterLab (with jupytext installed) and converts both ways without loss.

Addresses are configured once, in ``_config.yml``: a markdown cell says ``{book_url}`` for the
book (``course.book_url``, e.g. ``[conventions]({book_url}/book/conventions.html)``) and
``{launch_folder}`` for the folder of the learner's home that the book's launch links pull into
(the learners' repository's name); both are filled when the source notebook is built.

Points are declared once, in the test cells' metadata. A markdown cell may say ``{points}``
(e.g. ``## Part A — The Hamilton product ({points} points)``): it is replaced by the points of
the test cells that follow it, up to the next cell that says ``{points}``. The book's problem-set
pages read the same parts (``notebook_parts``).

``build_source`` writes the nbgrader source notebook, ``assignments/source/<ps>/<ps>.ipynb``
(generated, never edited by hand), with the problem set's other learner-facing files; the
instructor-only files (``hidden_checks.py``, ``mutants.py``, the notebook source itself) never
enter nbgrader's source folder, so no configuration can release them.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

__all__ = [
    "INSTRUCTOR_FILES",
    "NotebookPart",
    "SourceError",
    "build_source",
    "notebook_parts",
    "problem_set_dir",
    "problem_sets",
    "read_notebook",
]

#: Files of a problem-set folder that stay with the instructor (besides ``<ps>.py``).
INSTRUCTOR_FILES = ("hidden_checks.py", "mutants.py", "__pycache__", "*.pyc", ".ipynb_checkpoints")

_POINTS = "{points}"
_SETTINGS = ("{book_url}", "{launch_folder}")
_HEADING = re.compile(r"^#+\s*(.*?)\s*$", re.M)


class SourceError(ValueError):
    """A problem set's source is malformed; the message says where."""


def problem_set_dir(course_root: Path, ps: str) -> Path:
    """``<course root>/problem_sets/<ps>``: everything the instructor writes for one set."""
    return course_root / "problem_sets" / ps


def problem_sets(course_root: Path) -> list[str]:
    """The problem sets of the course: folders ``problem_sets/<ps>/`` holding ``<ps>.py``."""
    base = course_root / "problem_sets"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / f"{p.name}.py").is_file())


def _test_cell(cell: NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _fill_points(nb: NotebookNode, where: str) -> None:
    holders = [
        i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and _POINTS in c.source
    ]
    for k, i in enumerate(holders):
        end = holders[k + 1] if k + 1 < len(holders) else len(nb.cells)
        tests = [c for c in nb.cells[i + 1 : end] if _test_cell(c)]
        if not tests:
            raise SourceError(f"{where}: cell {i} says {_POINTS} but no test cell follows it")
        total = sum(float(c.metadata.nbgrader["points"]) for c in tests)
        nb.cells[i].source = nb.cells[i].source.replace(_POINTS, f"{total:g}")


def _fill_settings(nb: NotebookNode, course_root: Path, where: str) -> None:
    """Replace ``{book_url}`` and ``{launch_folder}`` in markdown cells (``_config.yml``)."""
    cells = [
        c for c in nb.cells if c.cell_type == "markdown" and any(t in c.source for t in _SETTINGS)
    ]
    if not cells:
        return
    from autograder.schedule.model import book_url, launch_folder, load_book_config

    # the course's _config.yml; a bare course folder (a test's) uses this repository's
    beside = course_root.parent / "_config.yml"
    cfg = load_book_config(course_root.parent if beside.is_file() else None)
    values = {"{book_url}": book_url(cfg), "{launch_folder}": launch_folder(cfg)}
    for cell in cells:
        for token, value in values.items():
            cell.source = cell.source.replace(token, value)


def _validate(nb: NotebookNode, where: str) -> None:
    seen: set[str] = set()
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        gid = meta.get("grade_id")
        if not gid:
            raise SourceError(f"{where}: cell {i} has nbgrader metadata without a grade_id")
        if gid in seen:
            raise SourceError(f"{where}: duplicate grade_id {gid!r}")
        seen.add(gid)
        if "BEGIN HIDDEN TESTS" in cell.source:
            raise SourceError(
                f"{where}: cell {gid!r} holds hidden tests; they belong in hidden_checks.py, "
                "which runs outside the learner's kernel"
            )
        if meta.get("solution") and cell.cell_type == "code":
            if "### BEGIN SOLUTION" not in cell.source or "### END SOLUTION" not in cell.source:
                raise SourceError(
                    f"{where}: solution cell {gid!r} needs BEGIN/END SOLUTION markers"
                )
        if _test_cell(cell) and float(meta.get("points", 0)) <= 0:
            raise SourceError(f"{where}: test cell {gid!r} has no points")


def read_notebook(course_root: Path, ps: str) -> NotebookNode:
    """The source notebook of ``ps`` (solutions included), points filled in, validated."""
    import jupytext

    path = problem_set_dir(course_root, ps) / f"{ps}.py"
    if not path.is_file():
        raise SourceError(f"no notebook source {path}")
    nb = jupytext.read(path, fmt="py:percent")
    for cell in nb.cells:  # keep nbgrader's metadata only (jupytext adds layout hints)
        cell.metadata = {k: v for k, v in cell.metadata.items() if k == "nbgrader"}
    _validate(nb, str(path))
    _fill_points(nb, str(path))
    _fill_settings(nb, course_root, str(path))
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{ps.split('_')[0]}-{i:03d}"
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


@dataclass(frozen=True)
class NotebookPart:
    """One graded part as the notebook presents it: its heading and its points."""

    heading: str
    points: float
    grade_ids: tuple[str, ...]


def notebook_parts(course_root: Path, ps: str) -> list[NotebookPart]:
    """The parts of ``ps`` in order: each markdown cell that says ``{points}``, with the heading
    it opens (points left out) and the test cells it counts."""
    import jupytext

    path = problem_set_dir(course_root, ps) / f"{ps}.py"
    nb = jupytext.read(path, fmt="py:percent")
    holders = [
        i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and _POINTS in c.source
    ]
    parts = []
    for k, i in enumerate(holders):
        end = holders[k + 1] if k + 1 < len(holders) else len(nb.cells)
        tests = [c for c in nb.cells[i + 1 : end] if _test_cell(c)]
        line = next(ln for ln in nb.cells[i].source.splitlines() if _POINTS in ln)
        match = _HEADING.match(line)
        heading = (match.group(1) if match else line).replace(f"({_POINTS} points)", "").strip()
        parts.append(
            NotebookPart(
                heading,
                sum(float(c.metadata.nbgrader["points"]) for c in tests),
                tuple(c.metadata.nbgrader["grade_id"] for c in tests),
            )
        )
    return parts


def build_source(course_root: Path, ps: str) -> Path:
    """Write nbgrader's source folder ``source/<ps>/`` from ``problem_sets/<ps>/``: the notebook
    (``<ps>.ipynb``) and the set's learner-facing files. Returns the folder. Idempotent; files
    are rewritten only when they change (nbgrader's timestamps stay meaningful)."""
    src = problem_set_dir(course_root, ps)
    dest = course_root / "source" / ps
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {f"{ps}.ipynb"}
    text = nbformat.writes(read_notebook(course_root, ps)) + "\n"
    target = dest / f"{ps}.ipynb"
    if not target.is_file() or target.read_text() != text:
        target.write_text(text)
    skip = shutil.ignore_patterns(f"{ps}.py", *INSTRUCTOR_FILES)
    for path in sorted(src.iterdir()):
        if skip(str(src), [path.name]):
            continue
        wanted.add(path.name)
        out = dest / path.name
        if path.is_dir():
            shutil.copytree(path, out, ignore=skip, dirs_exist_ok=True)
        elif not out.is_file() or out.read_bytes() != path.read_bytes():
            shutil.copy2(path, out)
    for stale in dest.iterdir():  # a file removed from the problem set leaves the source too
        if stale.name not in wanted:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    return dest
