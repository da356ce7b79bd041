"""A learner's answer that a hidden check's comparison cannot handle is a wrong answer, not a crash.

Before ``autograder.checks.function._compare``, an exception inside a comparison (e.g. ``np.asarray`` of a
ragged list returned by the learner's ``matrix_to_euler`` in problem set 1) escaped
``evaluate``, failed nbgrader's autograde, and left the submission ungraded ("error", retried on
every run) — a learner could make their own notebook ungradable.
"""

from __future__ import annotations

import numpy as np
from grading_support import REPO

from autograder.checks import Case, FunctionCheck, ValueCheck, answer_of, load_parts


def _raises(value, expected, case):
    raise TypeError("cannot compare")


def test_a_comparison_that_raises_fails_the_case() -> None:
    check = FunctionCheck("f", lambda rng: [Case((1.0,)), Case((2.0,))], None, _raises)
    plan = check.plan(np.random.default_rng(0))
    result = plan.evaluate([answer_of(1.0)] * 2)
    assert (result.passed, result.total) == (0, 2)
    assert "could not be checked (TypeError)" in result.lines[0]

    value = ValueCheck("ANSWER", 3, _raises).plan(np.random.default_rng(0))
    result = value.evaluate([answer_of("three")])
    assert result.passed == 0 and "could not be checked" in result.lines[0]


def test_a_ragged_answer_to_problem_set_1_is_graded() -> None:
    parts = load_parts(
        REPO / "assignments" / "problem_sets" / "ps01_quaternions", "ps01_quaternions"
    )
    (euler,) = [p for p in parts if p.grade_id == "test_euler"]
    plan = euler.checks[1].plan(np.random.default_rng(0))  # matrix_to_euler
    ragged = answer_of([[1.0, 2.0], [3.0]])
    result = plan.evaluate([ragged] * len(plan.requests))
    assert result.passed == 0 and result.total == len(plan.requests)
