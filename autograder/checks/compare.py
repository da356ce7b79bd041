"""Comparisons of a learner's answer with the expected one, in the grader process.

A ``Compare`` is ``compare(value, expected, case) -> None | reason``: ``None`` when the answer is
right, else a short reason that must not contain ``expected`` (it is shown for hidden cases
too). ``compare_safely`` makes any failure of a comparison the answer's, never the grader's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.checks.cases import Case
from autograder.harness.in_kernel import SympyTree

__all__ = ["Compare", "allclose", "as_array", "choice", "compare_safely", "quat_close"]

#: ``compare(value, expected, case)`` returns None when the answer is right, else a short reason
#: that must not contain ``expected`` (it is shown for hidden cases too).
Compare = Callable[[Any, Any, Case], str | None]


def as_array(value: Any) -> tuple[np.ndarray | None, str | None]:
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
        arr, problem = as_array(value)
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
        arr, problem = as_array(value)
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


def compare_safely(compare: Compare, value: Any, expected: Any, case: Case) -> str | None:
    """``compare``, with an answer it cannot handle (a ragged list, an object of another type…)
    counted as a wrong answer instead of crashing the grading of the whole notebook."""
    try:
        return compare(value, expected, case)
    except Exception as exc:
        return f"returned something that could not be checked ({type(exc).__name__})"
