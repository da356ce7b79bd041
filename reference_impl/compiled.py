"""Compiled kernels (numba) for the largest batches, where NumPy's one-pass-per-operation
evaluation is memory-bound and a fused loop is several times faster.

A kernel is used only when numba imports, the batch has at least ``MIN_ROWS`` rows (below that
the NumPy path is as fast, and the first call's compilation, about 0.5 s per dtype, would
dominate), and ``$REFERENCE_IMPL_NUMBA`` is not ``0``: ``takes(n)`` says whether a batch of
``n`` goes here. The NumPy path is the definition: every kernel computes the same formula and is
tested against it (``tests/test_compiled.py``). The loops are in ``compiled_kernels``, imported on
first use and defined at module level, so that numba's on-disk cache finds them again in the next
process.

Two levels, both public: the array functions (``quat_to_matrix``, ``quat_rotate``, ``so3_exp``,
``geodesic_distance``), which the functions of the same name in ``quaternion`` and ``so3`` call
for large batches; and the kernels behind them (``quat_to_matrix_kernel()``, …), for tests and for
other compiled code, launched through ``run``.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from reference_impl.conventions import ConventionError, FloatArray

__all__ = [
    "MIN_ROWS",
    "enabled",
    "geodesic_distance",
    "geodesic_distance_kernel",
    "quat_rotate",
    "quat_rotate_kernel",
    "quat_to_matrix",
    "quat_to_matrix_kernel",
    "run",
    "so3_exp",
    "so3_exp_kernel",
    "takes",
    "threads",
]

#: The smallest batch (rows) handed to a compiled kernel.
MIN_ROWS = 1 << 16

# numba's default threading layer (workqueue) aborts the process when two threads launch
# parallel kernels at once: calls from several threads take turns (each uses every core anyway).
_LAUNCH = threading.Lock()


def run(kernel: Callable[..., Any], *args: Any) -> Any:
    """``kernel(*args)``, one launch at a time in this process."""
    with _LAUNCH:
        return kernel(*args)


def enabled() -> bool:
    """Whether compiled kernels may be used (``$REFERENCE_IMPL_NUMBA=0`` turns them off)."""
    return os.environ.get("REFERENCE_IMPL_NUMBA", "1") != "0" and _numba() is not None


def takes(rows: int) -> bool:
    """Whether a batch of ``rows`` rows runs compiled: at least ``MIN_ROWS``, and ``enabled()``."""
    return rows >= MIN_ROWS and enabled()


def threads() -> int:
    """How many threads a parallel kernel uses (numba's setting; 1 without numba)."""
    numba = _numba()
    return 1 if numba is None else int(numba.get_num_threads())


@functools.cache
def _numba() -> Any:
    try:
        import numba
    except ImportError:  # optional: the NumPy path is complete without it
        return None
    return numba


@functools.cache
def _kernels() -> Any:
    assert _numba() is not None, "call enabled() first"
    from reference_impl import compiled_kernels

    return compiled_kernels


# --- the kernels ----------------------------------------------------------------------------------


def quat_to_matrix_kernel() -> Callable[..., int]:
    """``kernel(q (n, 4), out (n, 3, 3)) -> zeros``: ``quaternion.quat_to_matrix``."""
    return _kernels().quat_to_matrix


def quat_rotate_kernel() -> Callable[..., None]:
    """``kernel(q (n, 4), v (n, 3), out (n, 3))``: ``quaternion.quat_rotate``."""
    return _kernels().quat_rotate


def so3_exp_kernel() -> Callable[..., None]:
    """``kernel(w (n, 3), out (n, 3, 3))``: ``so3.so3_exp``."""
    return _kernels().so3_exp


def geodesic_distance_kernel() -> Callable[..., int]:
    """``kernel(a (n, 9), b (n, 9), near, out (n,)) -> exact``: ``so3.geodesic_distance``'s
    loop (see ``compiled_kernels.geodesic_distance``)."""
    return _kernels().geodesic_distance


# --- the array functions: shapes and layout around a kernel ---------------------------------------


def quat_to_matrix(q: FloatArray) -> FloatArray:
    """``quaternion.quat_to_matrix`` of ``q`` (..., 4) → (..., 3, 3), compiled.

    Raises ``ConventionError`` for a zero quaternion."""
    n = q.size // 4
    rows = np.ascontiguousarray(q.reshape(n, 4))
    out = np.empty((n, 3, 3), dtype=q.dtype)
    if run(quat_to_matrix_kernel(), rows, out):
        raise ConventionError("the zero quaternion is not a rotation")
    return out.reshape(*q.shape[:-1], 3, 3)


def quat_rotate(q: FloatArray, v: FloatArray) -> FloatArray:
    """``quaternion.quat_rotate`` of ``q`` (..., 4) and ``v`` (..., 3) of the same batch shape and
    dtype → (..., 3), compiled."""
    n = v.size // 3
    out = np.empty((n, 3), dtype=v.dtype)
    rows = np.ascontiguousarray(q.reshape(n, 4)), np.ascontiguousarray(v.reshape(n, 3))
    run(quat_rotate_kernel(), *rows, out)
    return out.reshape(v.shape)


def so3_exp(w: FloatArray) -> FloatArray:
    """``so3.so3_exp`` of ``w`` (..., 3) → (..., 3, 3), compiled."""
    n = w.size // 3
    out = np.empty((n, 3, 3), dtype=w.dtype)
    run(so3_exp_kernel(), np.ascontiguousarray(w.reshape(n, 3)), out)
    return out.reshape(*w.shape[:-1], 3, 3)


def geodesic_distance(a: FloatArray, b: FloatArray, near: float) -> FloatArray:
    """``so3.geodesic_distance`` of the rows (n, 9) of ``R1`` and ``R2`` → θ (n,), compiled:
    ``2·asin(‖R1 − R2‖_F / 2√2)`` where ``sin(θ/2) ≤ near``, the exact ``atan2`` formula beyond.

    The loop leaves ``2·asin`` to NumPy, whose vectorised ``arcsin`` is several times faster
    than a scalar one."""
    out = np.empty(a.shape[0], dtype=a.dtype)
    exact = run(
        geodesic_distance_kernel(), np.ascontiguousarray(a), np.ascontiguousarray(b), near, out
    )
    with np.errstate(invalid="ignore"):  # asin of the exact θ > 1, replaced below
        theta = np.arcsin(out, out=np.empty_like(out) if exact else out)
    theta *= 2.0
    if exact:  # θ > π − 0.02 (and > 1.5 rad: the values that are not sin(θ/2) ≤ 1)
        np.copyto(theta, out, where=out > 1.5)
    return theta
