"""Symbolic answers: is the learner's SymPy expression equal to the reference?

The learner's expression arrives as a tree and is rebuilt from an allow-list
(``autograder.checks.sympy_tree``). Equality is decided by exact evaluation at random *rational* points:
for polynomials (and rational functions) in the problem's symbols two different expressions
agree at a random point of large height with negligible probability (Schwartz–Zippel), and
rational arithmetic has no rounding. When an answer may use a constraint — a unit quaternion,
``w² + x² + y² + z² = 1``, a unit axis ``n₁² + n₂² + n₃² = 1`` — the points are rational points
*on* the sphere (inverse stereographic projection of rational points of Rᵏ⁻¹), so any form that
is equal on the sphere is accepted. Values that are not rational (the sine of a rational angle)
are compared to 1e-9. Where the answer must also hold at special points that random ones never
hit (a form that is 0/0 at the identity rotation), ``also_at`` names them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    """``n`` random rational assignments of ``names``; the k ≥ 2 names in ``unit`` (e.g. the
    4 components of a unit quaternion) lie on the unit sphere Sᵏ⁻¹: with t a rational point of
    Rᵏ⁻¹ and s = |t|², they are ((s − 1)/(s + 1), 2t/(s + 1))."""
    if len(unit) == 1:
        raise ValueError("a unit sphere needs at least two coordinates")
    rng = np.random.default_rng(seed)

    def rat() -> sympy.Rational:
        return sympy.Rational(int(rng.integers(-997, 998)), int(rng.integers(1, 998)))

    points = []
    for _ in range(n):
        pt = {name: rat() for name in names if name not in unit}
        if unit:
            t = [rat() for _ in range(len(unit) - 1)]
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


def _equal_at(diff: Any, point: Mapping[sympy.Symbol, Any]) -> bool:
    """Whether ``diff`` (an expression or a matrix) is 0 at ``point``."""
    if isinstance(diff, sympy.MatrixBase):
        return all(_is_zero(e.xreplace(point)) for e in diff)
    return _is_zero(diff.xreplace(point))


def sympy_equal(
    symbols: dict[str, sympy.Symbol],
    unit: Sequence[str] = (),
    n: int = 8,
    also_at: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> Compare:
    """Compare a SymPy answer with the expected expression or matrix.

    With ``case.key = (i, j)`` only that entry of a matrix is compared (so partial credit counts
    entries); the learner's answer must still have the expected shape. The answer must agree at
    ``n`` random rational points (``rational_points``, the names in ``unit`` on the unit sphere)
    and then at every point of ``also_at`` (a description such as ``"the identity"`` → points, as
    ``{name: value}``); an answer that is undefined or different there "is undefined or wrong
    at" that description.
    """
    points = rational_points(list(symbols), unit=unit, n=n)
    subs = [{symbols[k]: v for k, v in pt.items()} for pt in points]
    special = [
        (where, [{symbols[k]: sympy.sympify(v) for k, v in pt.items()} for pt in pts])
        for where, pts in (also_at or {}).items()
    ]

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
                ok = _equal_at(diff, s)
            except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                return "could not be evaluated (division by zero?)"
            if not ok:
                return "is not equal to the expected expression"
        for where, pts in special:
            for s in pts:
                try:
                    ok = _equal_at(diff, s)
                except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                    ok = False
                if not ok:
                    return f"is undefined or wrong at {where}"
        return None

    return compare
