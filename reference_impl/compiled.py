"""Compiled kernels (numba) for the largest batches, where NumPy's one-pass-per-operation
evaluation is memory-bound and a fused loop is several times faster.

A kernel is used only when numba imports, the batch has at least ``MIN_ROWS`` rows (below that
the NumPy path is as fast, and the first call's compilation, about 0.5 s per dtype, would
dominate), and ``$REFERENCE_IMPL_NUMBA`` is not ``0``. The NumPy path is the definition: every
kernel here computes the same formula and is tested against it (``tests/test_compiled.py``).
Compiled code is cached on disk where numba can write its cache.
"""

from __future__ import annotations

import functools
import math
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
def quat_to_matrix_kernel() -> Callable[..., int]:
    """``kernel(q, out) -> zeros``: ``q`` (n, 4) C-contiguous, ``out`` (n, 3, 3) of its dtype,
    filled with the matrices of ``quaternion.quat_to_matrix`` (``s = 2/|q|²`` normalises);
    returns how many rows were the zero quaternion (their rows of ``out`` are not finite)."""
    numba = _numba()
    assert numba is not None, "call enabled() first"

    @numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
    def kernel(q: Any, out: Any) -> int:  # pragma: no cover - compiled
        zeros = 0
        for i in numba.prange(q.shape[0]):
            w, x, y, z = q[i, 0], q[i, 1], q[i, 2], q[i, 3]
            n2 = w * w + x * x + y * y + z * z
            if n2 == 0:
                zeros += 1
            s = 2 / n2
            xs, ys, zs = x * s, y * s, z * s
            wx, wy, wz = w * xs, w * ys, w * zs
            xx, xy, xz = x * xs, x * ys, x * zs
            yy, yz, zz = y * ys, y * zs, z * zs
            out[i, 0, 0] = 1 - (yy + zz)
            out[i, 0, 1] = xy - wz
            out[i, 0, 2] = xz + wy
            out[i, 1, 0] = xy + wz
            out[i, 1, 1] = 1 - (xx + zz)
            out[i, 1, 2] = yz - wx
            out[i, 2, 0] = xz - wy
            out[i, 2, 1] = yz + wx
            out[i, 2, 2] = 1 - (xx + yy)
        return zeros

    return kernel


@functools.cache
def geodesic_distance_kernel() -> Callable[..., int]:
    """``kernel(a, b, near, out) -> exact``: ``a``, ``b`` (n, 9) C-contiguous rows of R1 and R2;
    fills ``out`` (n,) with ``sin(θ/2) = ‖R1 − R2‖_F / 2√2`` where that is at most ``near``, and
    elsewhere (θ near π, beyond 1.5 rad) with the exact ``θ = atan2(|Σᵢ r1ᵢ × r2ᵢ|,
    tr(R1ᵀR2) − 1)``; returns how many are exact. The caller takes ``2·asin`` of the rest with
    NumPy, whose vectorised ``arcsin`` is several times faster than a scalar one."""
    numba = _numba()
    assert numba is not None, "call enabled() first"

    @numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
    def kernel(a: Any, b: Any, near: float, out: Any) -> int:  # pragma: no cover - compiled
        scale = 1 / (2 * math.sqrt(2.0))
        exact = 0
        for i in numba.prange(a.shape[0]):
            sq = 0.0
            for k in range(9):
                d = a[i, k] - b[i, k]
                sq += d * d
            half = math.sqrt(sq) * scale
            if half <= near:
                out[i] = half
                continue
            exact += 1
            cos2 = -1.0
            for k in range(9):
                cos2 += a[i, k] * b[i, k]
            sx = sy = sz = 0.0
            for r in range(0, 9, 3):
                a0, a1, a2 = a[i, r], a[i, r + 1], a[i, r + 2]
                b0, b1, b2 = b[i, r], b[i, r + 1], b[i, r + 2]
                sx += a1 * b2 - a2 * b1
                sy += a2 * b0 - a0 * b2
                sz += a0 * b1 - a1 * b0
            out[i] = math.atan2(math.sqrt(sx * sx + sy * sy + sz * sz), cos2)
        return exact

    return kernel


@functools.cache
def so3_exp_kernel() -> Callable[..., None]:
    """``kernel(w, out)``: ``w`` (n, 3) C-contiguous rotation vectors, ``out`` (n, 3, 3) filled
    with ``so3.so3_exp``: the unit quaternion ``[cos(θ/2), sin(θ/2)/θ · w]`` (the ratio's limit
    1/2 below θ = 1e-300) and ``R = I + 2w[u]ₓ + 2[u]ₓ²``."""
    numba = _numba()
    assert numba is not None, "call enabled() first"

    @numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
    def kernel(v: Any, out: Any) -> None:  # pragma: no cover - compiled
        for i in numba.prange(v.shape[0]):
            vx, vy, vz = v[i, 0], v[i, 1], v[i, 2]
            theta = math.sqrt(vx * vx + vy * vy + vz * vz)
            w = math.cos(0.5 * theta)
            f = math.sin(0.5 * theta) / theta if theta > 1e-300 else 0.5
            x, y, z = f * vx, f * vy, f * vz
            x2, y2, z2 = x + x, y + y, z + z
            wx, wy, wz = w * x2, w * y2, w * z2
            xx, xy, xz = x * x2, x * y2, x * z2
            yy, yz, zz = y * y2, y * z2, z * z2
            out[i, 0, 0] = 1 - (yy + zz)
            out[i, 0, 1] = xy - wz
            out[i, 0, 2] = xz + wy
            out[i, 1, 0] = xy + wz
            out[i, 1, 1] = 1 - (xx + zz)
            out[i, 1, 2] = yz - wx
            out[i, 2, 0] = xz - wy
            out[i, 2, 1] = yz + wx
            out[i, 2, 2] = 1 - (xx + yy)

    return kernel


@functools.cache
def quat_rotate_kernel() -> Callable[..., None]:
    """``kernel(q, v, out)``: ``q`` (n, 4) and ``v`` (n, 3) C-contiguous, ``out`` (n, 3) filled
    with ``quaternion.quat_rotate``: ``t = s (u × v)``, ``v + w t + u × t`` (``s = 2/|q|²``)."""
    numba = _numba()
    assert numba is not None, "call enabled() first"

    @numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
    def kernel(q: Any, v: Any, out: Any) -> None:  # pragma: no cover - compiled
        for i in numba.prange(q.shape[0]):
            w, x, y, z = q[i, 0], q[i, 1], q[i, 2], q[i, 3]
            vx, vy, vz = v[i, 0], v[i, 1], v[i, 2]
            s = 2 / (w * w + x * x + y * y + z * z)  # the NumPy path's order of operations
            tx = (y * vz - z * vy) * s
            ty = (z * vx - x * vz) * s
            tz = (x * vy - y * vx) * s
            out[i, 0] = w * tx + vx + y * tz - z * ty
            out[i, 1] = w * ty + vy + z * tx - x * tz
            out[i, 2] = w * tz + vz + x * ty - y * tx

    return kernel
