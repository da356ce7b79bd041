"""Checks that call the learner's functions (``FunctionCheck``) or read their variables
(``ValueCheck``) on hidden cases, and compare the answers with the reference here.

``FunctionCheck`` draws cases from a NumPy generator seeded per learner and per run, asks the
kernel to call the learner's function on them, and compares each answer with the reference
(``reference_impl``). The part's credit is the weighted fraction of cases passed. When wrong
answers match a ``Mistake`` — the reference with one known error applied — the feedback names it.
Hidden failures are described by count and by a reason that holds no expected value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.checks.cases import Case
from autograder.checks.compare import Compare, choice, compare_safely
from autograder.checks.parts import CheckResult, Mistake, best_mistake
from autograder.checks.requests import Call, ReadValue, to_wire
from autograder.harness.in_kernel import DecodeError, decode_value

__all__ = [
    "NO_ANSWER",
    "FunctionCheck",
    "ValueCheck",
    "decode_answers",
    "hidden_failures",
]


def _format(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=4, suppress_small=True, max_line_width=100)
    return repr(x)[:200]


@dataclass(frozen=True)
class FunctionCheck:
    """Call ``function`` on ``cases(rng)`` in the kernel; compare with ``expected(*args)``.

    ``expected`` may be ``None`` when ``compare`` checks a property of the answer instead (e.g.
    a round trip). A wrong answer is matched to a ``Mistake`` with the mistake's own comparison,
    else ``diagnose``, else ``compare``. A case that needs more than one call, or a gradient, is
    a ``ProbeCheck``'s.
    """

    function: str
    cases: Callable[[np.random.Generator], Sequence[Case]]
    expected: Callable[..., Any] | None
    compare: Compare
    mistakes: Sequence[Mistake] = ()
    diagnose: Compare | None = None  # how a wrong answer is matched to a mistake (default: compare)
    weight: float = 1.0
    title: str = ""

    def plan(self, rng: np.random.Generator) -> _FunctionPlan:
        cases = list(self.cases(rng))
        requests = [to_wire(Call(self.function, case.args, case.kwargs)) for case in cases]
        return _FunctionPlan(self, cases, requests)


@dataclass
class _FunctionPlan:
    check: FunctionCheck
    cases: list[Case]
    requests: list[dict[str, Any]]

    def evaluate(self, answers: Sequence[dict[str, Any] | None]) -> CheckResult:
        chk = self.check
        title = chk.title or f"`{chk.function}`"
        res = CheckResult(title, 0, len(self.cases), chk.weight)
        hidden_fail: list[str] = []
        values: list[tuple[Case, Any]] = []
        for case, ans in zip(self.cases, answers, strict=True):
            value: Any = None
            if ans is None:
                reason: str | None = NO_ANSWER
            elif not ans.get("ok"):
                reason = f"raised {str(ans.get('error', 'an error'))[:300]}"
            else:
                expected = chk.expected(*case.args, **case.kwargs) if chk.expected else None
                reason = _safe_compare(chk.compare, ans.get("value"), expected, case)
                value = _decoded(ans.get("value"))
                if reason is not None:
                    values.append((case, value))
            if reason is None:
                res.passed += 1
            elif case.visible:
                line = f"✗ {case.label or 'visible test'}: {reason}"
                if chk.expected is not None and value is not None:
                    line += f" — expected {_format(expected)}"
                res.lines.append(line)
            else:
                hidden_fail.append(reason)
        res.lines += hidden_failures(hidden_fail)
        res.diagnosis = best_mistake(chk.mistakes, values, chk.diagnose or chk.compare)
        return res


NO_ANSWER = "no answer (the call timed out or the kernel died)"


def decode_answers(answers: Sequence[dict[str, Any] | None]) -> tuple[list[Any], str | None]:
    """The decoded values of one case's answers (a case may send several requests), or the
    reason the first unusable answer fails the case: none, an exception, not plain data."""
    values: list[Any] = []
    for ans in answers:
        if ans is None:
            return values, NO_ANSWER
        if not ans.get("ok"):
            return values, f"raised {str(ans.get('error', 'an error'))[:300]}"
        try:
            values.append(decode_value(ans.get("value")))
        except DecodeError as exc:
            return values, f"returned something that is not plain data ({exc})"
    return values, None


def hidden_failures(failed: Sequence[str]) -> list[str]:
    """The feedback line for failed hidden cases: how many, and the first one's reason."""
    if not failed:
        return []
    n = len(failed)
    return [f"✗ {n} hidden case{'s' if n > 1 else ''} failed; the first one {failed[0]}"]


def _decoded(wire: Any) -> Any:
    try:
        return decode_value(wire)
    except DecodeError:
        return None


def _safe_compare(compare: Compare, wire: Any, expected: Any, case: Case) -> str | None:
    """Decode a learner's answer and compare it; any failure is the answer's, never the grader's:
    a value that cannot be decoded or breaks the comparison is a wrong answer, with a reason."""
    try:
        value = decode_value(wire)
    except DecodeError as exc:
        return f"returned something that is not plain data ({exc})"
    return compare_safely(compare, value, expected, case)


@dataclass(frozen=True)
class ValueCheck:
    """Read the learner's variable ``name`` and compare it with ``expected``."""

    name: str
    expected: Any
    compare: Compare = field(default_factory=choice)
    weight: float = 1.0
    title: str = ""
    mistakes: Sequence[Mistake] = ()

    def plan(self, rng: np.random.Generator) -> _ValuePlan:
        return _ValuePlan(self, [to_wire(ReadValue(self.name))])


@dataclass
class _ValuePlan:
    check: ValueCheck
    requests: list[dict[str, Any]]

    def evaluate(self, answers: Sequence[dict[str, Any] | None]) -> CheckResult:
        chk = self.check
        res = CheckResult(chk.title or f"`{chk.name}`", 0, 1, chk.weight)
        ans = answers[0]
        value: Any = None
        if ans is None:
            reason: str | None = "no answer (timed out or the kernel died)"
        elif not ans.get("ok"):
            reason = str(ans.get("error", "error"))[:300]
        else:
            value = _decoded(ans.get("value"))
            reason = _safe_compare(chk.compare, ans.get("value"), chk.expected, Case())
        if reason is None:
            res.passed = 1
        else:
            res.lines.append(f"✗ {res.title}: {reason}")
            for m in chk.mistakes:
                try:
                    if chk.compare(value, m.answer(), Case()) is None:
                        res.diagnosis = m
                        break
                except Exception:
                    continue
        return res
