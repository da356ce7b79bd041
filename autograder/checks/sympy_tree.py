"""Rebuild a learner's sympy expression from its tree, in the grader, without evaluating text.

``sympy.sympify`` and ``parse_expr`` call ``eval`` on their input, so learner text is never
given to them here. The kernel sends the expression *tree* (``harness_kernel._sympy_tree``) and
``rebuild_sympy`` reconstructs it from an allow-list of sympy classes, with limits on size,
depth, symbol names and the magnitude of integers and exponents (``2**(10**10)`` would otherwise
be computed while the tree is rebuilt).
"""

from __future__ import annotations

import re
from typing import Any

import sympy

from autograder.harness.in_kernel import DecodeError, SympyTree

__all__ = ["ALLOWED_FUNCTIONS", "rebuild_sympy"]

ALLOWED_FUNCTIONS: dict[str, Any] = {
    "Add": sympy.Add,
    "Mul": sympy.Mul,
    "Pow": sympy.Pow,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "atan2": sympy.atan2,
    "exp": sympy.exp,
    "log": sympy.log,
    "Abs": sympy.Abs,
    "sign": sympy.sign,
    "conjugate": sympy.conjugate,
    "re": sympy.re,
    "im": sympy.im,
}
_CONSTANTS = {"pi": sympy.pi, "E": sympy.E, "I": sympy.I}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
_MAX_NODES = 50_000
_MAX_INT = 10**30
_MAX_EXPONENT = 64


def rebuild_sympy(value: SympyTree | Any, symbols: dict[str, sympy.Symbol]) -> Any:
    """Rebuild an expression or matrix; ``symbols`` maps the allowed names to the grader's own
    symbols. Raises ``DecodeError`` for anything outside the allow-list or limits."""
    tree = value.tree if isinstance(value, SympyTree) else value
    count = [0]

    def build(node: Any, depth: int) -> Any:
        count[0] += 1
        if count[0] > _MAX_NODES or depth > 200:
            raise DecodeError("expression too large")
        if not isinstance(node, dict) or len(node) > 2:
            raise DecodeError("malformed expression")
        if "s" in node:
            name = node["s"]
            if not isinstance(name, str) or not _NAME.match(name) or name not in symbols:
                raise DecodeError(
                    f"unknown symbol {name!r}: use the symbols defined in the notebook "
                    f"({', '.join(sorted(symbols))})"
                )
            return symbols[name]
        if "i" in node:
            n = _int(node["i"])
            return sympy.Integer(n)
        if "q" in node:
            p, q = node["q"]
            q_int = _int(q)
            if q_int == 0:
                raise DecodeError("zero denominator")
            return sympy.Rational(_int(p), q_int)
        if "f" in node:
            f = node["f"]
            if not isinstance(f, str) or len(f) > 64:
                raise DecodeError("malformed float")
            try:
                return sympy.Float(float(f))
            except ValueError:
                raise DecodeError("malformed float") from None
        if "c" in node:
            if node["c"] not in _CONSTANTS:
                raise DecodeError("unknown constant")
            return _CONSTANTS[node["c"]]
        if "m" in node:
            rows = node["m"]
            if not isinstance(rows, list) or not rows or len(rows) > 16:
                raise DecodeError("malformed matrix")
            built = [[build(x, depth + 1) for x in row] for row in rows]
            if len({len(r) for r in built}) != 1 or len(built[0]) > 16:
                raise DecodeError("ragged matrix")
            return sympy.ImmutableMatrix(built)
        if "fn" in node:
            fn = node["fn"]
            if fn not in ALLOWED_FUNCTIONS:
                raise DecodeError(f"sympy class {fn!r} is not allowed in an answer")
            args = node.get("a")
            if not isinstance(args, list) or len(args) > 10_000:
                raise DecodeError("malformed arguments")
            built_args = [build(a, depth + 1) for a in args]
            if fn == "Pow":
                if len(built_args) != 2:
                    raise DecodeError("Pow takes two arguments")
                exp = built_args[1]
                if exp.is_Number and abs(exp) > _MAX_EXPONENT:
                    raise DecodeError("exponent too large")
                if not exp.is_Number:
                    raise DecodeError("only numeric exponents are allowed")
            return ALLOWED_FUNCTIONS[fn](*built_args)
        raise DecodeError("malformed expression")

    return build(tree, 0)


def _int(text: Any) -> int:
    if not isinstance(text, str) or len(text) > 40:
        raise DecodeError("malformed or too large integer")
    try:
        n = int(text)
    except ValueError:
        raise DecodeError("malformed integer") from None
    if abs(n) > _MAX_INT:
        raise DecodeError("integer too large")
    return n
