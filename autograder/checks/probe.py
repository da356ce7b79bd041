"""Checks whose cases send several requests and are judged on all their answers together.

A ``FunctionCheck`` compares one answer per case with an expected value. Some properties need
more: equivariance (the answer for G·Rᵢ·H against the answer for Rᵢ — two calls), a gradient
against finite differences of the learner's own forward (a ``Vjp`` and two ``Call``s), the
dot-product test of an adjoint, a module's learnable parameters (a ``MethodCall``). A ``Probe``
is one such case: the ``Case`` it is about and its requests (``checks.requests``). A
``ProbeCheck``'s ``judge(values, probe)`` decides from the decoded answers, in the grader process,
and returns None when they are right, else a reason that holds no expected value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.checks.cases import Case
from autograder.checks.function import decode_answers, hidden_failures
from autograder.checks.parts import CheckResult, Mistake, best_mistake
from autograder.checks.requests import Request, to_wire

__all__ = ["Judge", "Probe", "ProbeCheck"]


@dataclass(frozen=True)
class Probe:
    """One case of a ``ProbeCheck``: its ``requests``, and the ``case`` the judge reads
    (arguments, key, tags) and the mistakes are computed from."""

    case: Case
    requests: Sequence[Request]


#: ``judge(values, probe)``: the decoded answers to ``probe.requests``, in order → None when
#: they are right, else a reason without expected values.
Judge = Callable[[list[Any], Probe], str | None]


@dataclass(frozen=True)
class ProbeCheck:
    """``probes(rng)`` draws the probes; a probe passes when ``judge`` accepts its answers —
    every answer must have come back, without an exception, as plain data.

    A wrong probe is matched to a ``Mistake`` when ``mistake.compare(values,
    mistake.answer(*case.args, **case.kwargs), case)`` is None, ``values`` being the decoded
    answers: every mistake of a probe check needs its own ``compare``.
    """

    title: str
    probes: Callable[[np.random.Generator], Sequence[Probe]]
    judge: Judge
    mistakes: Sequence[Mistake] = ()
    weight: float = 1.0

    def __post_init__(self) -> None:
        for mistake in self.mistakes:
            if mistake.compare is None:
                raise ValueError(f"{self.title}: mistake {mistake.name!r} needs a compare")

    def plan(self, rng: np.random.Generator) -> _ProbePlan:
        probes = list(self.probes(rng))
        requests = [to_wire(r) for p in probes for r in p.requests]
        return _ProbePlan(self, probes, requests)


@dataclass
class _ProbePlan:
    check: ProbeCheck
    probes: list[Probe]
    requests: list[dict[str, Any]]

    def evaluate(self, answers: Sequence[dict[str, Any] | None]) -> CheckResult:
        chk = self.check
        res = CheckResult(chk.title, 0, len(self.probes), chk.weight)
        failed: list[str] = []
        wrong: list[tuple[Case, list[Any]]] = []
        offset = 0
        for probe in self.probes:
            values, reason = decode_answers(answers[offset : offset + len(probe.requests)])
            offset += len(probe.requests)
            if reason is None:
                try:
                    reason = chk.judge(values, probe)
                except Exception as exc:  # an answer of the wrong shape or type
                    reason = f"returned something that could not be checked ({type(exc).__name__})"
                if reason is not None:
                    wrong.append((probe.case, values))
            if reason is None:
                res.passed += 1
            else:
                failed.append(reason)
        res.lines += hidden_failures(failed)
        res.diagnosis = best_mistake(chk.mistakes, wrong)
        return res
