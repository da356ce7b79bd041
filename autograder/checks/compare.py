"""Comparisons of a learner's answer with the expected one, in the grader process.

A ``Compare`` is ``compare(value, expected, case) -> None | reason``: ``None`` when the answer is
right, else a short reason that must not contain ``expected`` (it is shown for hidden cases
too). ``compare_safely`` makes any failure of a comparison the answer's, never the grader's.

Numbers are compared by ``close(tol64, tol32, dtypes=…)``: the answer must be an array of
numbers of the expected shape, in the precision its case asks for (``checks.precision``), finite,
and within the tolerance of the case's precision — ``Elementwise(rtol, atol)`` (NumPy's
``allclose`` rule) or ``OfLargest(tol)`` (relative to the largest expected value). A problem
set's own measure of error (an angle between rotations, a relative L2 error…) is a comparison
built on ``answer_array``, which does the checks every numeric answer needs. A single number is
``number_close``; quaternions up to sign ``quat_close``; an answer that is a tuple (``(R, t)``)
``tuple_of`` one comparison per element. A mistake that loses the cases of one tag (the tiny
angles, the half turns) and is right elsewhere is matched by ``lost_where``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from autograder.checks.cases import Case
from autograder.checks.precision import FLOAT32, as_numpy
from autograder.harness.in_kernel import SympyTree

__all__ = [
    "NUMBER_KINDS",
    "Compare",
    "Dtypes",
    "Elementwise",
    "OfLargest",
    "Tolerance",
    "allclose",
    "answer_array",
    "any_of",
    "as_array",
    "choice",
    "close",
    "compare_safely",
    "lost_where",
    "number_close",
    "quat_close",
    "tuple_of",
]

#: ``compare(value, expected, case)`` returns None when the answer is right, else a short reason
#: that must not contain ``expected`` (it is shown for hidden cases too).
Compare = Callable[[Any, Any, Case], str | None]

#: NumPy dtype kinds of numbers: bool, int, unsigned, float, complex.
NUMBER_KINDS = "biufc"

#: Which answers must keep their input's precision: ``"float32"`` those of the cases tagged
#: ``FLOAT32`` (float32, or complex64 where complex values are expected); ``"all"`` every answer
#: (float64 input, float64 answer, too); ``"none"`` none (e.g. to match a mistake's answer).
Dtypes = Literal["float32", "all", "none"]

_KIND_WORDS = {"b": "booleans", "i": "integers", "u": "integers", "f": "floats", "c": "complex"}


def as_array(value: Any, kinds: str = NUMBER_KINDS) -> tuple[np.ndarray | None, str | None]:
    """``(array, None)`` for an answer that is an array of numbers whose dtype kind is in
    ``kinds`` (NumPy's ``dtype.kind`` letters), else ``(None, reason)``."""
    if value is None:
        return None, "returned None (a missing `return`?)"
    if isinstance(value, SympyTree):
        return None, "returned a sympy expression where numbers were expected"
    try:
        arr = np.asarray(value)
    except Exception:
        return None, f"returned a {type(value).__name__}, not an array of numbers"
    if arr.dtype.kind not in NUMBER_KINDS:
        return None, f"returned a {type(value).__name__}, not an array of numbers"
    if arr.dtype.kind not in kinds:
        wanted = " or ".join(dict.fromkeys(_KIND_WORDS[k] for k in kinds))
        return None, f"returned {arr.dtype} numbers where {wanted} were expected"
    return arr, None


def _precision_problem(arr: np.ndarray, exp: np.ndarray, single: bool) -> str | None:
    """Real where real is expected, complex where complex is, in the input's precision."""
    if exp.dtype.kind == "c" and arr.dtype.kind != "c":
        return "returned real values where complex ones were expected"
    if exp.dtype.kind != "c" and arr.dtype.kind == "c":
        return "returned complex values where real ones were expected"
    if exp.dtype.kind == "c":
        want = np.dtype(np.complex64 if single else np.complex128)
    else:
        want = np.dtype(np.float32 if single else np.float64)
    if arr.dtype != want:
        source = "float32" if single else "float64"
        return f"returned {arr.dtype} for {source} input (keep the input's dtype)"
    return None


def answer_array(
    value: Any,
    expected: Any,
    case: Case,
    dtypes: Dtypes = "float32",
    kinds: str = NUMBER_KINDS,
) -> tuple[np.ndarray, np.ndarray] | str:
    """``(answer, expected)`` as NumPy arrays, or the reason the answer is wrong before any value
    is compared: not an array of numbers (of ``kinds``), not the expected shape, not in the
    precision ``dtypes`` asks for (the case's: float32 for a case tagged ``FLOAT32``), or not
    finite (NaN or infinity). Checked in that order."""
    arr, problem = as_array(value, kinds)
    if problem is not None or arr is None:
        return problem or "returned no array"
    exp = as_numpy(expected)
    if arr.shape != exp.shape:
        return f"returned shape {arr.shape} where {exp.shape} was expected"
    single = FLOAT32 in case.tags
    if dtypes == "all" or (dtypes == "float32" and single):
        problem = _precision_problem(arr, exp, single)
        if problem:
            return problem
    if not np.all(np.isfinite(arr)):
        return "returned NaN or infinity"
    return arr, exp


class Tolerance(Protocol):
    """How far a finite answer may be from the expected value (arrays of one shape)."""

    def problem(self, answer: np.ndarray, expected: np.ndarray) -> str | None:
        """None when ``answer`` is within the tolerance, else a reason without ``expected``."""
        ...


def _difference(answer: np.ndarray, expected: np.ndarray) -> np.ndarray:
    return np.abs(answer.astype(np.complex128) - expected.astype(np.complex128))


@dataclass(frozen=True)
class Elementwise:
    """``|a − b| ≤ atol + rtol·|b|`` at every entry (``numpy.allclose``'s rule)."""

    rtol: float
    atol: float

    def problem(self, answer: np.ndarray, expected: np.ndarray) -> str | None:
        diff = _difference(answer, expected)
        if np.all(diff <= self.atol + self.rtol * np.abs(expected)):
            return None
        return f"wrong values (largest difference {float(diff.max()):.3g})"


@dataclass(frozen=True)
class OfLargest:
    """``max |a − b| ≤ tol · max(1, max |b|)``: an error relative to the largest expected value,
    for arrays (images, transforms) whose small entries have no precision of their own."""

    tol: float

    def problem(self, answer: np.ndarray, expected: np.ndarray) -> str | None:
        scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
        diff = float(_difference(answer, expected).max(initial=0.0))
        if diff <= self.tol * scale:
            return None
        return (
            f"wrong values (largest difference {diff:.3g}, {diff / scale:.2g} of the largest value)"
        )


def close(
    tol64: Tolerance, tol32: Tolerance, dtypes: Dtypes = "float32", kinds: str = NUMBER_KINDS
) -> Compare:
    """Numbers equal to the expected ones: ``answer_array``'s checks (numbers of ``kinds``, the
    shape, the precision ``dtypes`` asks for, finite), then ``tol32`` for a case tagged
    ``FLOAT32`` and ``tol64`` for any other. NaN is never close to anything."""

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        arrays = answer_array(value, expected, case, dtypes, kinds)
        if isinstance(arrays, str):
            return arrays
        arr, exp = arrays
        return (tol32 if FLOAT32 in case.tags else tol64).problem(arr, exp)

    return compare


def allclose(rtol: float = 1e-6, atol: float = 1e-9) -> Compare:
    """Same shape and ``|a − b| ≤ atol + rtol·|b|`` everywhere, whatever the case's precision
    and the answer's dtype; NaN is never equal."""
    tol = Elementwise(rtol, atol)
    return close(tol, tol, dtypes="none")


def any_of(base: Compare) -> Compare:
    """For an expected value with several forms (a mistake made in one of several ways): the
    answer matches when ``base`` accepts it for one of the candidates in ``expected``."""

    def compare(value: Any, candidates: Sequence[Any], case: Case) -> str | None:
        for candidate in candidates:
            if base(value, candidate, case) is None:
                return None
        return "matches none of the forms"

    return compare


@dataclass(frozen=True)
class UpToSign:
    """Quaternions (..., 4) within ``atol`` of the expected ones at every entry after each is
    given the sign of its expected quaternion (q and −q are one rotation)."""

    atol: float

    def problem(self, answer: np.ndarray, expected: np.ndarray) -> str | None:
        a, e = answer.astype(np.float64), expected.astype(np.float64)
        sign = np.where(np.sum(a * e, axis=-1, keepdims=True) < 0, -1.0, 1.0)
        return Elementwise(0.0, self.atol).problem(a * sign, e)


def quat_close(atol: float = 1e-8, atol32: float | None = None, dtypes: Dtypes = "none") -> Compare:
    """Quaternions (..., 4) equal up to the sign of each one (``UpToSign``): ``atol`` for float64
    cases, ``atol32`` (default ``atol``) for cases tagged ``FLOAT32``; ``dtypes`` as in
    ``close`` (by default any precision is accepted)."""
    return close(
        UpToSign(atol), UpToSign(atol if atol32 is None else atol32), dtypes=dtypes, kinds="fi"
    )


def number_close(rtol: float = 1e-6, atol: float = 0.0) -> Compare:
    """One finite real number (a Python int or float, a NumPy scalar or 0-d array; not a bool:
    ``as_array`` with kinds "fi") within ``atol + rtol·|expected|`` of the expected number."""

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        if value is None:
            return "no answer given (still None)"
        arr, problem = as_array(value, kinds="fi")
        if problem is not None or arr is None:
            return problem or "returned no number"
        if arr.shape != ():
            return f"returned shape {arr.shape}, not a single number"
        if not np.isfinite(float(arr)):
            return "returned NaN or infinity"
        ok = abs(float(arr) - float(expected)) <= atol + rtol * abs(float(expected))
        return None if ok else "not the right value"

    return compare


def tuple_of(**elements: Compare) -> Compare:
    """An answer that is a tuple (or list) with one element per keyword, in order, each compared
    by its comparison with the expected tuple's element; a reason names the element
    (``tuple_of(R=…, t=…)``: "t: wrong values…")."""
    names = list(elements)

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        if not isinstance(value, tuple | list) or len(value) != len(names):
            return f"did not return a tuple ({', '.join(names)})"
        for name, got, exp in zip(names, value, expected, strict=True):
            reason = elements[name](got, exp, case)
            if reason:
                return f"{name}: {reason}"
        return None

    return compare


def lost_where(tag: str, base: Compare) -> Compare:
    """For matching a mistake that loses the answer on the cases tagged ``tag`` (0, NaN or
    rounding noise there) and is right elsewhere: the learner's answer matches the mistake's
    (which is then the reference's) when ``base`` rejects it on a case tagged ``tag`` and
    accepts it on any other case."""

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        if tag in case.tags:
            return None if base(value, expected, case) is not None else "right"
        return base(value, expected, case)

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


def compare_safely(compare: Compare, value: Any, expected: Any, case: Case) -> str | None:
    """``compare``, with an answer it cannot handle (a ragged list, an object of another type…)
    counted as a wrong answer instead of crashing the grading of the whole notebook."""
    try:
        return compare(value, expected, case)
    except Exception as exc:
        return f"returned something that could not be checked ({type(exc).__name__})"
