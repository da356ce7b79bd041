"""Compiled kernels (numba) for the largest batches, where NumPy's one-pass-per-operation
evaluation is memory-bound and a fused loop is several times faster.

A kernel is used only when numba imports, the batch has at least ``MIN_ROWS`` rows (below that
the NumPy path is as fast, and the first call's compilation, about 0.5 s per dtype, would
dominate), and ``$REFERENCE_IMPL_NUMBA`` is not ``0``. The NumPy path is the definition: every
kernel computes the same formula and is tested against it (``tests/test_compiled.py``). The
loops are in ``compiled_kernels``, imported on first use and defined at module level, so that
numba's on-disk cache finds them again in the next process.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any

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
