"""Checks planned and judged with torch on one thread.

A check whose references are small torch computations (projections of 10³ volumes) spends
most of its time in torch's thread pool when the machine is loaded — parallel grading workers
each wanting every core — and can become a hundred times slower. ``OneThread(check)`` plans and
evaluates ``check`` under ``one_torch_thread()``; its results are the same.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.checks.parts import Check, CheckResult, Plan

__all__ = ["OneThread", "one_torch_thread"]


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """torch on one intra-op thread inside the block; the previous count restored after it."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass(frozen=True)
class OneThread:
    """``check`` (any ``Check``) planned and evaluated under ``one_torch_thread``."""

    check: Check

    @property
    def weight(self) -> float:
        return float(self.check.weight)

    def plan(self, rng: np.random.Generator) -> _OneThreadPlan:
        with one_torch_thread():
            return _OneThreadPlan(self.check.plan(rng))


class _OneThreadPlan:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.requests: list[dict[str, Any]] = plan.requests

    def evaluate(self, answers: Sequence[dict[str, Any] | None]) -> CheckResult:
        with one_torch_thread():
            return self.plan.evaluate(answers)
