"""Single and double precision: a case's float32 variant, and the float64 reference that judges it.

A problem set checks that a learner's function keeps its input's dtype by adding, to its
float64 cases, the same kind of case in single precision: ``float32_variant(case)`` casts the
arguments down and tags the case ``FLOAT32``, which the comparisons (``checks.compare.close``)
read to require a float32 (complex64) answer, with the float32 tolerance. The truth for such a
case is the reference evaluated on the *exact* values of the float32 inputs, in float64:
``reference64(fn)``.

Arrays are NumPy arrays or torch tensors; torch is never imported here (a tensor can only exist
once its caller has imported torch).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.checks.cases import Case

__all__ = ["FLOAT32", "as_numpy", "float32_variant", "reference64", "to_double", "to_single"]

#: The tag of a case whose arguments are in single precision.
FLOAT32 = "float32"

_SINGLE = {"f": np.float32, "c": np.complex64}
_DOUBLE = {"f": np.float64, "c": np.complex128}


def _torch() -> Any:
    """The torch module if its caller imported it, else None."""
    return sys.modules.get("torch")


def _is_tensor(x: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def to_single(x: Any) -> Any:
    """``x`` in single precision: a float (complex) NumPy array as float32 (complex64), a float
    (complex) tensor as torch.float32 (complex64). Anything else — Python numbers, integer
    arrays, ``None`` — is returned unchanged."""
    if isinstance(x, np.ndarray) and x.dtype.kind in _SINGLE:
        return x.astype(_SINGLE[x.dtype.kind])
    if _is_tensor(x):
        torch = _torch()
        if x.is_complex():
            return x.to(torch.complex64)
        if x.is_floating_point():
            return x.to(torch.float32)
    return x


def to_double(x: Any) -> Any:
    """``x`` in double precision (float64, complex128), like ``to_single``; an array that is
    already double is returned as it is, not copied."""
    if isinstance(x, np.ndarray) and x.dtype.kind in _DOUBLE:
        return np.asarray(x, dtype=_DOUBLE[x.dtype.kind])
    if _is_tensor(x):
        torch = _torch()
        if x.is_complex():
            return x.to(torch.complex128)
        if x.is_floating_point():
            return x.to(torch.float64)
    return x


def float32_variant(case: Case) -> Case:
    """The single-precision version of ``case``: its float arguments (positional and keyword)
    cast by ``to_single``, the same shapes, tagged ``FLOAT32``; label, key and other tags kept.

    Draw the float64 case, then take its variant: the values are the float64 ones rounded to
    the nearest float32, and the float64 reference on them (``reference64``) is the truth.
    """
    tags = case.tags if FLOAT32 in case.tags else (*case.tags, FLOAT32)
    return dataclasses.replace(
        case,
        args=tuple(to_single(a) for a in case.args),
        kwargs={k: to_single(v) for k, v in case.kwargs.items()},
        tags=tags,
    )


def as_numpy(x: Any) -> np.ndarray:
    """A NumPy array of ``x`` (a tensor detached, on the CPU, its conjugate bit resolved)."""
    if _is_tensor(x):
        return np.asarray(x.detach().cpu().resolve_conj().numpy())
    return np.asarray(x)


def reference64(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` called on double-precision copies of its array arguments (``to_double``): the
    expected value of a case and of its float32 variant alike. Under ``torch.no_grad`` when
    torch is loaded; a tensor result is returned as a NumPy array."""

    def expected(*args: Any, **kwargs: Any) -> Any:
        args = tuple(to_double(a) for a in args)
        kwargs = {k: to_double(v) for k, v in kwargs.items()}
        torch = _torch()
        if torch is None:
            return fn(*args, **kwargs)
        with torch.no_grad():
            out = fn(*args, **kwargs)
        return as_numpy(out) if isinstance(out, torch.Tensor) else out

    expected.__doc__ = f"``{getattr(fn, '__name__', 'fn')}`` in double precision."
    return expected
