"""Hidden checks, evaluated in the grader process — never inside the learner's kernel.

A problem set's ``hidden_checks.py`` (in ``assignments/source/<ps>/``, kept out of releases and
out of the sandbox) lists ``Part``s, one per nbgrader autograder-test cell (``grade_id``). A part
holds checks:

* ``FunctionCheck``: draw cases from a NumPy generator seeded per learner and per run, ask the
  kernel to call the learner's function on them, and compare each answer with the reference
  (``reference_impl``) here. The part's credit is the weighted fraction of cases passed.
* ``ValueCheck``: read a variable (a multiple-choice answer, a number) and compare it.

When wrong answers match a ``Mistake`` — the reference with one known error applied (transposed
matrix, scalar-last quaternion, degrees for radians, …) — the feedback names it in one sentence.

Feedback never shows hidden inputs or their expected values: hidden failures are described by
count and by a reason that holds no expected value (a wrong shape, an exception the learner's own
code raised, "wrong values", the size of the largest difference).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from autograder.harness_kernel import DecodeError, SympyTree, decode_value, encode_value

__all__ = [
    "Case",
    "CheckResult",
    "FunctionCheck",
    "Mistake",
    "Part",
    "PartResult",
    "ValueCheck",
    "allclose",
    "choice",
    "part_seed",
    "quat_close",
    "score_part",
]

#: ``compare(value, expected, case)`` returns None when the answer is right, else a short reason
#: that must not contain ``expected`` (it is shown for hidden cases too).
Compare = Callable[[Any, Any, "Case"], str | None]


@dataclass(frozen=True)
class Case:
    """One call: positional and keyword arguments. ``visible`` cases mirror the notebook's
    visible tests and may show their expected value in feedback; ``label`` describes them;
    ``key`` is for the comparison (e.g. which matrix entry a case grades)."""

    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    visible: bool = False
    key: Any = None


@dataclass(frozen=True)
class Mistake:
    """A known mistake: ``answer`` computes what that mistake returns for the same arguments;
    ``compare`` (default: the check's ``diagnose``) decides whether the learner's answer is it."""

    name: str
    message: str
    answer: Callable[..., Any]
    compare: Compare | None = None


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
    weight: float

    def plan(self, rng: np.random.Generator) -> Plan: ...


class Plan(Protocol):
    requests: list[dict[str, Any]]

    def evaluate(self, answers: Sequence[dict[str, Any] | None]) -> CheckResult: ...


# -- comparisons ---------------------------------------------------------------------------------
def _as_array(value: Any) -> tuple[np.ndarray | None, str | None]:
    if value is None:
        return None, "returned None (a missing `return`?)"
    if isinstance(value, SympyTree):
        return None, "returned a sympy expression where numbers were expected"
    try:
        arr = np.asarray(value)
    except Exception:
        return None, f"returned a {type(value).__name__}, not an array of numbers"
    if arr.dtype.kind not in "biufc":
        return None, f"returned a {type(value).__name__}, not an array of numbers"
    return arr, None


def allclose(rtol: float = 1e-6, atol: float = 1e-9, check_dtype: bool = False) -> Compare:
    """Same shape and ``|a − b| ≤ atol + rtol·|b|`` everywhere; NaN is never equal."""

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        arr, problem = _as_array(value)
        if problem or arr is None:
            return problem
        exp = np.asarray(expected)
        if arr.shape != exp.shape:
            return f"returned shape {arr.shape} where {exp.shape} was expected"
        if check_dtype and exp.dtype.kind == "f" and arr.dtype != exp.dtype:
            return f"returned {arr.dtype} for {exp.dtype} input (keep the input's dtype)"
        if not np.all(np.isfinite(arr)):
            return "returned NaN or infinity"
        diff = np.abs(arr.astype(np.complex128) - exp.astype(np.complex128))
        if np.all(diff <= atol + rtol * np.abs(exp)):
            return None
        return f"wrong values (largest difference {float(diff.max()):.3g})"

    return compare


def quat_close(atol: float = 1e-8) -> Compare:
    """Quaternions (..., 4) equal up to the sign of each one (q and −q are one rotation)."""
    base = allclose(0.0, atol)

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        arr, problem = _as_array(value)
        if problem or arr is None:
            return problem
        exp = np.asarray(expected, dtype=np.float64)
        if arr.shape != exp.shape:
            return f"returned shape {arr.shape} where {exp.shape} was expected"
        sign = np.where(np.sum(arr * exp, axis=-1, keepdims=True) < 0, -1.0, 1.0)
        return base(arr * sign, exp, case)

    return compare


def choice(normalise: Callable[[Any], Any] | None = None) -> Compare:
    """Exact equality after ``normalise`` (default: strings stripped and lower-cased)."""

    def norm(v: Any) -> Any:
        if normalise is not None:
            return normalise(v)
        return v.strip().lower() if isinstance(v, str) else v

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        if value is None:
            return "no answer given (still None)"
        try:
            ok = norm(value) == norm(expected)
        except Exception:
            ok = False
        return None if ok is True else "not the right answer"

    return compare


def _compare(compare: Compare, value: Any, expected: Any, case: Case) -> str | None:
    """``compare``, with an answer it cannot handle (a ragged list, an object of another type…)
    counted as a wrong answer instead of crashing the grading of the whole notebook."""
    try:
        return compare(value, expected, case)
    except Exception as exc:
        return f"returned something that could not be checked ({type(exc).__name__})"


# -- checks --------------------------------------------------------------------------------------
def _format(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=4, suppress_small=True, max_line_width=100)
    return repr(x)[:200]


@dataclass(frozen=True)
class FunctionCheck:
    """Call ``function`` on ``cases(rng)`` in the kernel; compare with ``expected(*args)``.

    ``mode`` is ``"call"`` (plain call) or another harness mode (``"vjp"``, ``"method"``) with
    ``extra`` fields for the request. ``expected`` may be ``None`` when ``compare`` checks a
    property of the answer instead (e.g. a round trip).
    """

    function: str
    cases: Callable[[np.random.Generator], Sequence[Case]]
    expected: Callable[..., Any] | None
    compare: Compare
    mistakes: Sequence[Mistake] = ()
    diagnose: Compare | None = None  # how a wrong answer is matched to a mistake (default: compare)
    weight: float = 1.0
    title: str = ""
    mode: str = "call"
    extra: Callable[[Case], Mapping[str, Any]] | None = None

    def plan(self, rng: np.random.Generator) -> _FunctionPlan:
        cases = list(self.cases(rng))
        requests = []
        for case in cases:
            req: dict[str, Any] = {
                "mode": self.mode,
                "fn": self.function,
                "args": [encode_value(a) for a in case.args],
                "kwargs": {k: encode_value(v) for k, v in case.kwargs.items()},
            }
            if self.extra is not None:
                req.update(
                    {
                        k: encode_value(v) if k == "cotangent" else v
                        for k, v in self.extra(case).items()
                    }
                )
            requests.append(req)
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
        res.diagnosis = _diagnose(chk, values)
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
    return _compare(compare, value, expected, case)


def _diagnose(chk: FunctionCheck, wrong: list[tuple[Case, Any]]) -> Mistake | None:
    """The known mistake that explains most of the wrong answers (at least half of them)."""
    if not wrong or not chk.mistakes:
        return None
    best, best_n = None, 0
    for mistake in chk.mistakes:
        cmp = mistake.compare or chk.diagnose or chk.compare
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
        return _ValuePlan(self, [{"mode": "value", "name": self.name}])


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


# -- parts ---------------------------------------------------------------------------------------
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


def part_seed(*words: str) -> int:
    """A 64-bit seed from words such as (course, assignment, learner, run id, grade id)."""
    digest = hashlib.sha256("\x1f".join(words).encode()).digest()
    return int.from_bytes(digest[:8], "little")
