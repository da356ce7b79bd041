"""Symbolic answers: is the learner's SymPy expression equal to the reference?

The learner's expression arrives as a tree and is rebuilt from an allow-list
(``autograder.checks.sympy_tree``). Equality is decided by exact evaluation at random *rational* points:
for polynomials (and rational functions) in the problem's symbols two different expressions
agree at a random point of large height with negligible probability (Schwartz–Zippel), and
rational arithmetic has no rounding. When an answer may use a constraint — a unit quaternion,
``w² + x² + y² + z² = 1`` — the points are rational points *on* the 3-sphere (inverse
stereographic projection of rational points of R³), so any form that is equal on the sphere is
accepted. Floats in an answer are compared to 1e-9.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy

from autograder.checks.cases import Case
from autograder.checks.compare import Compare
from autograder.checks.sympy_tree import rebuild_sympy
from autograder.harness.in_kernel import DecodeError, SympyTree

__all__ = ["rational_points", "sympy_equal"]


def rational_points(
    names: Sequence[str], unit: Sequence[str] = (), n: int = 8, seed: int = 20220204
) -> list[dict[str, sympy.Rational]]:
    """``n`` random rational assignments of ``names``; the 4 names in ``unit`` lie on S³."""
    rng = np.random.default_rng(seed)

    def rat() -> sympy.Rational:
        return sympy.Rational(int(rng.integers(-997, 998)), int(rng.integers(1, 998)))

    points = []
    for _ in range(n):
        pt = {name: rat() for name in names if name not in unit}
        if unit:
            t = [rat() for _ in range(3)]
            s = sum(ti * ti for ti in t)
            coords = [(s - 1) / (s + 1)] + [2 * ti / (s + 1) for ti in t]
            pt.update(dict(zip(unit, coords, strict=True)))
        points.append(pt)
    return points


def _is_zero(value: Any) -> bool:
    value = sympy.sympify(value) if not isinstance(value, sympy.Basic) else value
    if value.is_Rational:
        return bool(value == 0)
    if not value.is_number:
        return False
    try:
        return abs(complex(value.evalf(30))) < 1e-9
    except (TypeError, ValueError):
        return False


def sympy_equal(symbols: dict[str, sympy.Symbol], unit: Sequence[str] = (), n: int = 8) -> Compare:
    """Compare a SymPy answer with the expected expression or matrix.

    With ``case.key = (i, j)`` only that entry of a matrix is compared (so partial credit counts
    entries); the learner's answer must still have the expected shape.
    """
    points = rational_points(list(symbols), unit=unit, n=n)
    subs = [{symbols[k]: v for k, v in pt.items()} for pt in points]

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        if not isinstance(value, SympyTree):
            return "did not return a SymPy expression"
        try:
            got = rebuild_sympy(value, symbols)
        except DecodeError as exc:
            return f"could not be read ({exc})"
        exp_shape = getattr(expected, "shape", None)
        got_shape = getattr(got, "shape", None)
        if exp_shape != got_shape:
            return f"returned shape {got_shape} where {exp_shape} was expected"
        key = getattr(case, "key", None)
        if key is not None:
            a, b = got[key], expected[key]
        else:
            a, b = got, expected
        diff = a - b
        for s in subs:
            try:
                if isinstance(diff, sympy.MatrixBase):
                    ok = all(_is_zero(e.xreplace(s)) for e in diff)
                else:
                    ok = _is_zero(diff.xreplace(s))
            except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                return "could not be evaluated (division by zero?)"
            if not ok:
                return "is not equal to the expected expression"
        return None

    return compare
