"""Every problem set's own solution passes every hidden check, on many seeds.

The mutation banks grade the solution on a few seeds; a check whose tolerance is too tight for
float32 rounding, or whose random inputs sometimes have two right answers, would fail a correct
learner only now and then. Here the source notebook's code cells (solutions included; the test
cells are left out) run in this process — trusted instructor code, no sandbox — and every check
of every part is evaluated through the same wire format as in grading, on ``SEEDS`` seeds.
"""

from __future__ import annotations

import json
import warnings

import nbformat
import numpy as np
import pytest
from grading_support import REPO

from autograder.checks import load_parts, part_seed
from autograder.harness import in_kernel as harness_kernel

SEEDS = range(24)
PROBLEM_SETS = sorted(p.name for p in (REPO / "assignments" / "source").iterdir() if p.is_dir())


def solution_namespace(ps: str) -> dict:
    nb = nbformat.read(REPO / "assignments" / "source" / ps / f"{ps}.ipynb", as_version=4)
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
    return ps, namespace, load_parts(REPO / "assignments" / "source" / ps, ps)


@pytest.mark.parametrize("seed", SEEDS)
def test_solution_passes(problem_set: tuple[str, dict, list], seed: int) -> None:
    ps, namespace, parts = problem_set
    for part in parts:
        rng = np.random.default_rng(
            part_seed(
                "cryoem-study-group-2022", ps, f"learner{seed}", ps, "soundness", part.grade_id
            )
        )
        plans = [check.plan(rng) for check in part.checks]
        requests = [r for plan in plans for r in plan.requests]
        payload = json.dumps(
            {"nonce": "n", "requests": [{**r, "id": i} for i, r in enumerate(requests)]}
        )
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            answers = harness_kernel.run_requests(payload, namespace)["answers"]
        offset = 0
        for plan in plans:
            n = len(plan.requests)
            result = plan.evaluate(answers[offset : offset + n])
            offset += n
            assert result.passed == result.total, (
                ps,
                seed,
                part.grade_id,
                result.title,
                result.lines,
            )
