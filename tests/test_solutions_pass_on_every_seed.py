"""Every problem set's own solution passes every hidden check, on many seeds.

The mutation banks grade the solution on a few seeds; a check whose tolerance is too tight for
float32 rounding, or whose random inputs sometimes have two right answers, would fail a correct
learner only now and then. Here the source notebook's code cells (solutions included; the test
cells are left out) run in this process — trusted instructor code, no sandbox — and every check
of every part is evaluated through the same wire format as in grading, on ``SEEDS`` seeds.
"""

from __future__ import annotations

import warnings

import pytest
from grading_support import REPO

from autograder.authoring import problem_sets, read_notebook
from autograder.checks import check_in_namespace, load_parts, part_rng
from autograder.config import COURSE_ID

SEEDS = range(24)
PROBLEM_SETS = problem_sets(REPO / "assignments")


def solution_namespace(ps: str) -> dict:
    nb = read_notebook(REPO / "assignments", ps)
    namespace: dict = {"__name__": f"solution_{ps}"}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
            continue  # the tests are what is being checked, not part of the answer
        exec(compile(cell.source, f"<{ps} {meta.get('grade_id', '?')}>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module", params=PROBLEM_SETS)
def problem_set(request: pytest.FixtureRequest) -> tuple[str, dict, list]:
    ps = request.param
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        namespace = solution_namespace(ps)
    return ps, namespace, load_parts(REPO / "assignments" / "problem_sets" / ps, ps)


@pytest.mark.parametrize("seed", SEEDS)
def test_solution_passes(problem_set: tuple[str, dict, list], seed: int) -> None:
    ps, namespace, parts = problem_set
    for part in parts:
        rng = part_rng(COURSE_ID, ps, f"learner{seed}", ps, "soundness", part.grade_id)
        _, result = check_in_namespace(part, namespace, rng)
        for check in result.checks:
            assert check.passed == check.total, (ps, seed, part.grade_id, check.title, check.lines)
