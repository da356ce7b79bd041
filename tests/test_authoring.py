"""A problem set's folder → nbgrader's source notebook (``autograder.authoring``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.authoring import (
    SourceError,
    build_source,
    load_mutants,
    notebook_parts,
    problem_set_dir,
    problem_sets,
    read_notebook,
)

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "assignments"
PROBLEM_SETS = problem_sets(COURSE)


def test_every_problem_set_is_one_folder() -> None:
    assert len(PROBLEM_SETS) >= 4
    for ps in PROBLEM_SETS:
        folder = problem_set_dir(COURSE, ps)
        assert {f"{ps}.py", "hidden_checks.py", "mutants.py"} <= {p.name for p in folder.iterdir()}


@pytest.mark.parametrize("ps", PROBLEM_SETS)
def test_the_source_is_canonical_jupytext(ps: str) -> None:
    """Opening and saving the notebook in Jupyter (jupytext) changes nothing but the header's
    version line: the file is the notebook, byte for byte."""
    path = problem_set_dir(COURSE, ps) / f"{ps}.py"
    text = path.read_text()
    again = jupytext.writes(jupytext.reads(text, fmt="py:percent"), fmt="py:percent")
    strip = lambda t: "\n".join(l for l in t.splitlines() if "jupytext_version" not in l)  # noqa: E731
    assert strip(again) == strip(text)


@pytest.mark.parametrize("ps", PROBLEM_SETS)
def test_points_are_declared_once_in_the_test_cells(ps: str) -> None:
    nb = read_notebook(COURSE, ps)
    tests = {
        c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"])
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
    }
    parts = notebook_parts(COURSE, ps)
    assert sum(p.points for p in parts) == sum(tests.values())
    assert [g for p in parts for g in p.grade_ids] == list(tests)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "{points}" not in text
    for part in parts:
        assert f"{part.heading} ({part.points:g} points)" in text


def _course_with(tmp_path: Path, ps: str, edit) -> Path:
    root = tmp_path / "assignments"
    shutil.copytree(problem_set_dir(COURSE, ps), problem_set_dir(root, ps))
    path = problem_set_dir(root, ps) / f"{ps}.py"
    path.write_text(edit(path.read_text()))
    return root


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("### END SOLUTION", "", 1), "BEGIN/END SOLUTION"),
        (
            lambda t: t.replace(
                "assert np.allclose(quat_multiply(i, j), k)",
                "### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS",
                1,
            ),
            "hidden tests",
        ),
        (
            lambda t: t.replace(
                '"grade_id": "test_quat_rotate"', '"grade_id": "test_quat_multiply"'
            ),
            "duplicate",
        ),
        (lambda t: t.replace('"points": 4,', '"points": 0,', 1), "no points"),
    ],
)
def test_a_malformed_source_is_refused_with_its_reason(tmp_path: Path, edit, message: str) -> None:
    root = _course_with(tmp_path, "ps01_quaternions", edit)
    with pytest.raises(SourceError, match=message):
        read_notebook(root, "ps01_quaternions")


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=5), st.integers(0, 3))
def test_points_fill_each_heading_with_the_tests_that_follow_it(points, extra_tests) -> None:
    """``{points}`` is the sum of the test cells up to the next ``{points}``, whatever their
    number and layout."""
    cells = ["# %%\nimport numpy as np\n"]
    for k, p in enumerate(points):
        cells.append(f"# %% [markdown]\n# ## Part {k} ({{points}} points)\n")
        n = 1 + (extra_tests if k == 0 else 0)
        for j in range(n):
            meta = f'{{"grade": true, "grade_id": "t{k}_{j}", "locked": true, "points": {p}, "schema_version": 3, "solution": false, "task": false}}'
            cells.append(f"# %% nbgrader={meta}\nassert True\n")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "assignments"
        folder = problem_set_dir(root, "ps99_demo")
        folder.mkdir(parents=True)
        (folder / "ps99_demo.py").write_text("\n".join(cells))
        parts = notebook_parts(root, "ps99_demo")
        expected = [p * (1 + (extra_tests if k == 0 else 0)) for k, p in enumerate(points)]
        assert [part.points for part in parts] == expected
        nb = read_notebook(root, "ps99_demo")
        headings = [c.source for c in nb.cells if c.cell_type == "markdown"]
        assert headings == [f"## Part {k} ({e:g} points)" for k, e in enumerate(expected)]


def test_instructor_files_never_reach_nbgraders_source(tmp_path: Path) -> None:
    root = tmp_path / "assignments"
    ps = "ps01_quaternions"
    shutil.copytree(problem_set_dir(COURSE, ps), problem_set_dir(root, ps))
    (problem_set_dir(root, ps) / "data.txt").write_text("learners need this")
    dest = build_source(root, ps)
    assert sorted(p.name for p in dest.iterdir()) == ["data.txt", f"{ps}.ipynb"]
    nbformat.validate(nbformat.read(dest / f"{ps}.ipynb", as_version=4))
    # a file removed from the problem set leaves nbgrader's source on the next build
    (problem_set_dir(root, ps) / "data.txt").unlink()
    build_source(root, ps)
    assert sorted(p.name for p in dest.iterdir()) == [f"{ps}.ipynb"]


@pytest.mark.parametrize("ps", PROBLEM_SETS)
def test_each_bank_names_real_cells(ps: str) -> None:
    nb = read_notebook(COURSE, ps)
    ids = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata}
    mutants = load_mutants(problem_set_dir(COURSE, ps))
    assert len(mutants) >= 12
    for m in mutants:
        assert m.cell in ids, m.name
        assert m.loses <= ids, m.name


@pytest.mark.parametrize("ps", PROBLEM_SETS)
def test_the_books_page_takes_the_points_from_the_notebook(ps: str) -> None:
    """The page includes the table generated from the notebook's test cells, and writes no
    points of its own (a second declaration that could disagree with the grader)."""
    import re
    import sys

    sys.path.insert(0, str(REPO / "book" / "_ext"))
    from problem_sets_ext import parts_markdown

    page = (REPO / "book" / "problem-sets" / f"{ps}.md").read_text()
    assert f"_generated/problem-sets/{ps}-parts.md" in page
    assert not re.search(r"^\| [A-Z] \| \d+(\.\d+)? \|", page, re.M), "points written by hand"
    table = parts_markdown(REPO, ps)
    total = sum(p.points for p in notebook_parts(COURSE, ps))
    assert f"**{total:g}**" in table
    for part in notebook_parts(COURSE, ps):
        assert f"| {part.heading} | {part.points:g} |" in table
