"""A part's answers are evaluated in a child process, within a time and memory budget.

``evaluate_part`` must give exactly ``PartPlan.evaluate``'s result for ordinary answers, and
the recorded verdict "could not be evaluated within the limits" — promptly, with the grading
process unharmed — for answers that would otherwise hang it, exhaust its memory or flood its
report. No sandbox is needed: the answers are handed over as the harness would send them.
"""

from __future__ import annotations

import os
import resource
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import sympy
from grading_support import REPO
from hypothesis import given
from hypothesis import strategies as st

from autograder.checks import answer_in_namespace, load_parts, plan_part
from autograder.checks.parts import CheckResult, Part
from autograder.grading.evaluation import (
    LIMIT_NOTE,
    EvaluationError,
    EvaluationLimits,
    evaluate_part,
    run_within,
)
from autograder.harness.in_kernel import encode_value

PS = "ps01_quaternions"
PARTS = {p.grade_id: p for p in load_parts(REPO / "assignments" / "problem_sets" / PS, PS)}
FAST = EvaluationLimits(seconds=3.0, memory=256 * 2**20)


def _plain(result: Any) -> Any:
    return (
        result.grade_id,
        result.title,
        result.score,
        result.max_score,
        result.note,
        [
            (c.title, c.passed, c.total, c.weight, c.lines, c.diagnosis and c.diagnosis.name)
            for c in result.checks
        ],
    )


def _solution_namespace() -> dict:
    import sys

    sys.path.insert(0, str(REPO / "tests"))
    from test_solutions_pass_on_every_seed import solution_namespace

    return solution_namespace(PS)


@pytest.fixture(scope="module")
def solution() -> dict:
    return _solution_namespace()


@pytest.mark.parametrize("grade_id", sorted(PARTS))
def test_same_result_as_in_process(solution: dict, grade_id: str) -> None:
    """Right answers, and answers with known mistakes (the part's own mutants are elsewhere):
    the child's result is the in-process one, field by field."""
    plan = plan_part(PARTS[grade_id], 4.0, np.random.default_rng(1))
    answers = answer_in_namespace(plan.requests, solution)
    assert _plain(evaluate_part(plan, answers, "a note")) == _plain(
        plan.evaluate(answers, "a note")
    )
    wrong = [
        None if a is None else {**a, "value": encode_value(0.5)} if i % 2 else a
        for i, a in enumerate(answers)
    ]
    assert _plain(evaluate_part(plan, wrong)) == _plain(plan.evaluate(wrong))


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_same_result_on_any_seed(seed: int) -> None:
    plan = plan_part(PARTS["test_quat_rotate"], 4.0, np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    answers = [
        {"id": i, "ok": True, "value": encode_value(rng.normal(size=3))}
        for i in range(len(plan.requests))
    ]
    assert _plain(evaluate_part(plan, answers)) == _plain(plan.evaluate(answers))


def _tower(depth: int) -> Any:
    e = sympy.Rational(3, 7)
    for _ in range(depth):
        e = sympy.Pow(e, 64, evaluate=False)
    return sympy.ImmutableMatrix(3, 3, [e] * 9)


def test_an_exploding_expression_is_a_verdict() -> None:
    """(3/7)**(64**6), sent as an unevaluated tree: rebuilding it would run for hours."""
    plan = plan_part(PARTS["test_symbolic_matrix"], 3.0, np.random.default_rng(0))
    answers = [
        {"id": i, "ok": True, "value": encode_value(_tower(6))} for i in range(len(plan.requests))
    ]
    t0 = time.monotonic()
    result = evaluate_part(plan, answers, "", FAST)
    assert time.monotonic() - t0 < FAST.seconds + 2
    assert result.score == 0 and result.note == LIMIT_NOTE
    assert all(LIMIT_NOTE in c.lines[0] for c in result.checks)
    assert [c.total for c in result.checks] == [9]  # the cases still count, for pass rates


@dataclass
class _Plan:
    requests: list[dict[str, Any]]
    action: str

    def evaluate(self, answers: Sequence[dict[str, Any] | None]) -> CheckResult:
        if self.action == "memory":
            hog = [bytearray(2**20) for _ in range(4096)]  # 4 GiB, touched page by page
            return CheckResult("hog", len(hog), 1, 1.0)
        if self.action == "spin":
            while True:
                pass
        if self.action == "lines":
            return CheckResult("t" * 10**6, 0, 1, 1.0, ["x" * 10**6] * 10**3)
        if self.action == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        if self.action == "bug":
            raise ValueError("a bug in the checks")
        return CheckResult("fine", 1, 1, 1.0)


@dataclass
class _Check:
    action: str
    weight: float = 1.0

    def plan(self, rng: np.random.Generator) -> _Plan:
        return _Plan([{"mode": "value", "name": "x"}], self.action)


def _part(action: str) -> Any:
    return plan_part(Part("p", "P", [_Check(action)]), 1.0, np.random.default_rng(0))


@pytest.mark.parametrize(
    ("action", "why"),
    [("memory", "MiB of memory"), ("spin", "s"), ("crash", "crashed")],
)
def test_over_the_limits_is_a_verdict(action: str, why: str) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    result = evaluate_part(_part(action), [None], "", FAST)
    # at most twice the budget: the checks' account of "no answers" runs in a child too
    assert time.monotonic() - t0 < 2 * FAST.seconds + 2
    assert result.score == 0 and result.note == LIMIT_NOTE and why in result.checks[0].lines[0]
    # the grading process did not grow by the child's allocation
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024


def test_a_flood_of_report_lines_is_capped() -> None:
    result = evaluate_part(_part("lines"), [None], "", FAST)
    check = result.checks[0]
    assert len(check.title) <= 300 and len(check.lines) <= 20
    assert all(len(line) <= 1000 for line in check.lines)


def test_a_bug_in_the_checks_is_an_error_not_a_verdict() -> None:
    with pytest.raises(EvaluationError, match="a bug in the checks"):
        evaluate_part(_part("bug"), [None], "", FAST)


def test_the_child_dies_with_the_grader() -> None:
    """A grading process killed while a child evaluates leaves no child behind."""
    read_fd, write_fd = os.pipe()
    grader = os.fork()
    if grader == 0:  # the grading process: evaluates a check that never ends
        os.close(read_fd)
        os.write(write_fd, b"go")
        try:
            evaluate_part(_part("spin"), [None], "", EvaluationLimits(seconds=600))
        finally:
            os._exit(0)
    os.close(write_fd)
    assert os.read(read_fd, 2) == b"go"
    deadline = time.monotonic() + 10
    children: list[int] = []
    while not children and time.monotonic() < deadline:
        with open(f"/proc/{grader}/task/{grader}/children") as f:
            children = [int(p) for p in f.read().split()]
        time.sleep(0.05)
    assert children, "the evaluation child did not start"
    os.kill(grader, signal.SIGKILL)
    os.waitpid(grader, 0)
    deadline = time.monotonic() + 5
    while any(os.path.exists(f"/proc/{c}") for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = [c for c in children if os.path.exists(f"/proc/{c}")]
    for c in alive:  # a zombie reparented to init is gone too; a running one is a failure
        with open(f"/proc/{c}/stat") as f:
            assert f.read().split(") ")[1][0] == "Z", f"evaluation child {c} outlived its grader"


def test_torch_in_the_child_after_the_parent_used_its_threads() -> None:
    """Checks that compute with torch (projections) run in the child after the grading process
    has run torch on several threads: forked, torch's OpenMP pool is gone, and a child that
    entered a parallel region would wait forever (it did, before the child set one thread)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        a = torch.randn(600, 600)
        for _ in range(3):
            (a @ a).sum()
        torch.exp(torch.randn(2_000_000)).sum()  # the parent's pool now exists

        def work() -> float:
            return float((a @ a).sum() + torch.exp(torch.randn(4_000_000)).sum() * 0)

        t0 = time.monotonic()
        payload, why = run_within(work, EvaluationLimits(seconds=30.0))
        assert why == "" and payload is not None, why
        assert payload["ok"] == pytest.approx(float((a @ a).sum()), rel=1e-4)
        assert time.monotonic() - t0 < 15
    finally:
        torch.set_num_threads(threads)
