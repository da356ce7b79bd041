"""Parts, checks and their results: the vocabulary of a problem set's hidden checks.

A ``Part`` is the hidden checks of one nbgrader autograder-test cell (``grade_id``); its points
are the cell's, declared once in the notebook. A check (``FunctionCheck``, ``ValueCheck``,
``ProbeCheck``…) plans requests for the learner's kernel and evaluates the answers into a
``CheckResult``; ``score_part`` turns a part's results into its credit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from autograder.checks.cases import Case
from autograder.checks.compare import Compare

__all__ = [
    "Check",
    "CheckResult",
    "Mistake",
    "Part",
    "PartResult",
    "Plan",
    "best_mistake",
    "score_part",
]


@dataclass(frozen=True)
class Mistake:
    """A known mistake: ``answer`` computes what that mistake returns for the same arguments;
    ``compare`` (default: the check's ``diagnose``) decides whether the learner's answer is it."""

    name: str
    message: str
    answer: Callable[..., Any]
    compare: Compare | None = None


def best_mistake(
    mistakes: Sequence[Mistake], wrong: Sequence[tuple[Case, Any]], default: Compare | None = None
) -> Mistake | None:
    """The known mistake that explains most of the ``wrong`` answers — at least half of them —
    or None. An answer ``(case, value)`` is explained by a mistake when its ``compare`` (or
    ``default``) accepts ``value`` against ``mistake.answer(*case.args, **case.kwargs)``; a
    mistake's answer or comparison that fails explains nothing."""
    if not wrong or not mistakes:
        return None
    best, best_n = None, 0
    for mistake in mistakes:
        cmp = mistake.compare or default
        if cmp is None:
            raise ValueError(f"mistake {mistake.name!r} has no comparison")
        n = 0
        for case, value in wrong:
            try:
                if cmp(value, mistake.answer(*case.args, **case.kwargs), case) is None:
                    n += 1
            except Exception:
                continue
        if n > best_n:
            best, best_n = mistake, n
    return best if best_n * 2 >= len(wrong) else None


@dataclass
class CheckResult:
    title: str
    passed: int
    total: int
    weight: float
    lines: list[str] = field(default_factory=list)
    diagnosis: Mistake | None = None

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0


class Check(Protocol):
    """Anything that plans requests for the kernel and judges their answers."""

    @property
    def weight(self) -> float: ...

    def plan(self, rng: np.random.Generator) -> Plan: ...


class Plan(Protocol):
    requests: list[dict[str, Any]]

    def evaluate(self, answers: Sequence[dict[str, Any] | None]) -> CheckResult: ...


@dataclass(frozen=True)
class Part:
    """The hidden checks of one autograder-test cell (``grade_id``); its points are the cell's."""

    grade_id: str
    title: str
    checks: Sequence[Check]


@dataclass
class PartResult:
    grade_id: str
    title: str
    score: float
    max_score: float
    checks: list[CheckResult]
    note: str = ""

    @property
    def diagnoses(self) -> list[Mistake]:
        return [c.diagnosis for c in self.checks if c.diagnosis is not None]


def score_part(
    part: Part, max_score: float, results: list[CheckResult], note: str = ""
) -> PartResult:
    """Credit = ``max_score`` × the weighted fraction of cases passed (exact at full marks)."""
    total_w = sum(r.weight for r in results) or 1.0
    frac = sum(r.weight * r.fraction for r in results) / total_w
    score = max_score if frac >= 1.0 else math.floor(max_score * frac * 100) / 100
    return PartResult(part.grade_id, part.title, score, max_score, results, note)
