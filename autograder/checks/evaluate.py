"""Plan a part's checks, and evaluate the answers: the one loop every caller shares.

``plan_part`` draws a part's cases from the learner's generator and turns every check into wire
requests, numbered in one list; whoever has a kernel (the grader's ``SandboxedAutograde``, a
test that runs a solution in a plain kernel) sends them and hands the answers — ``None`` for a
request that got none — to ``PartPlan.evaluate``, which scores the part in the grader process.
``check_in_namespace`` is that loop with this process as the kernel (for tests of a problem
set's solution or reference, never for grading a learner); ``answer_of`` is the answer a kernel
sends for a value, for tests that hand a check the answers of a chosen learner.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.checks.cases import part_seed
from autograder.checks.parts import Part, PartResult, Plan, score_part
from autograder.harness.in_kernel import encode_value, run_requests

__all__ = [
    "PartPlan",
    "answer_in_namespace",
    "answer_of",
    "check_in_namespace",
    "part_rng",
    "plan_part",
]


def part_rng(
    course_id: str, assignment: str, learner: str, notebook: str, run_id: str, grade_id: str
) -> np.random.Generator:
    """The generator a part's hidden cases are drawn from: one per learner, run and part."""
    return np.random.default_rng(
        part_seed(course_id, assignment, learner, notebook, run_id, grade_id)
    )


@dataclass
class PartPlan:
    """A part's checks, planned: ``requests`` (ids 0…n−1) for the kernel, in check order."""

    part: Part
    max_score: float
    plans: list[Plan]
    requests: list[dict[str, Any]]

    def evaluate(self, answers: Sequence[dict[str, Any] | None], note: str = "") -> PartResult:
        """Score the part from ``answers`` (one per request, in order; ``None`` = no answer)."""
        if len(answers) != len(self.requests):
            raise ValueError(f"{len(answers)} answers for {len(self.requests)} requests")
        results = []
        offset = 0
        for plan in self.plans:
            n = len(plan.requests)
            results.append(plan.evaluate(answers[offset : offset + n]))
            offset += n
        return score_part(self.part, self.max_score, results, note)

    def asks(self, index: int) -> set[str]:
        """The learner's names (functions, classes, variables) the ``index``-th check asks for."""
        return {str(r.get("fn", r.get("cls", r.get("name")))) for r in self.plans[index].requests}

    def no_answers(self, note: str) -> PartResult:
        """The part's result when its requests could not be sent (``note`` says why)."""
        return self.evaluate([None] * len(self.requests), note)


def plan_part(part: Part, max_score: float, rng: np.random.Generator) -> PartPlan:
    """Plan every check of ``part`` with ``rng``; requests are numbered across the checks."""
    plans = [check.plan(rng) for check in part.checks]
    requests = [
        {**req, "id": i} for i, req in enumerate(req for plan in plans for req in plan.requests)
    ]
    return PartPlan(part, max_score, plans, requests)


def answer_in_namespace(
    requests: Sequence[dict[str, Any]], namespace: dict[str, Any]
) -> list[dict[str, Any] | None]:
    """The harness's answers to ``requests``, computed in this process on ``namespace`` — no
    kernel, no sandbox. For testing a problem set's solution, or the reference, against its
    checks; never for grading a learner."""
    payload = json.dumps(
        {"nonce": "local", "requests": [{**r, "id": i} for i, r in enumerate(requests)]}
    )
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        answers = run_requests(payload, namespace)["answers"]
    by_id: list[dict[str, Any] | None] = [None] * len(requests)
    for ans in answers:
        by_id[ans["id"]] = ans
    return by_id


def check_in_namespace(
    part: Part, namespace: dict[str, Any], rng: np.random.Generator, max_score: float = 1.0
) -> tuple[PartPlan, PartResult]:
    """``part`` planned with ``rng``, answered in this process on ``namespace``
    (``answer_in_namespace``) and evaluated: the plan (for ``PartPlan.asks``) and the result,
    whose ``checks`` are in the order of ``part.checks``."""
    plan = plan_part(part, max_score, rng)
    return plan, plan.evaluate(answer_in_namespace(plan.requests, namespace))


def answer_of(value: Any) -> dict[str, Any]:
    """The answer a kernel sends when the learner's function returned ``value`` (encoded, and
    through JSON as it travels)."""
    return {"ok": True, "value": json.loads(json.dumps(encode_value(value)))}
