"""The numba loops of ``compiled`` (imported only when numba is there). Each computes the formula
of the NumPy function it stands in for, in the same order of operations."""

from __future__ import annotations

import math
from typing import Any

import numba

__all__ = ["geodesic_distance", "matrix_into", "quat_rotate", "quat_to_matrix", "so3_exp"]

jit = numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
par = numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")


@jit
def matrix_into(
    out: Any, i: int, w: Any, x: Any, y: Any, z: Any, s: Any
) -> None:  # pragma: no cover
    """``out[i]`` ← ``I + s(w[u]ₓ + [u]ₓ²)``-style entries of ``q = (w, x, y, z)``: the
    rotation matrix for ``s = 2/|q|²`` (``R₀₀ = 1 − s(y² + z²)``, ``R₀₁ = s(xy − wz)``, …)."""
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


@par
def quat_to_matrix(q: Any, out: Any) -> int:  # pragma: no cover
    """``q`` (n, 4) C-contiguous, ``out`` (n, 3, 3) of its dtype; returns how many rows were
    the zero quaternion (their rows of ``out`` are not finite)."""
    zeros = 0
    for i in numba.prange(q.shape[0]):
        w, x, y, z = q[i, 0], q[i, 1], q[i, 2], q[i, 3]
        n2 = w * w + x * x + y * y + z * z
        if n2 == 0:
            zeros += 1
        matrix_into(out, i, w, x, y, z, 2 / n2)
    return zeros


@par
def quat_rotate(q: Any, v: Any, out: Any) -> None:  # pragma: no cover
    """``q`` (n, 4) and ``v`` (n, 3) C-contiguous, ``out`` (n, 3): ``t = s (u × v)``,
    ``v + w t + u × t`` (``s = 2/|q|²``)."""
    for i in numba.prange(q.shape[0]):
        w, x, y, z = q[i, 0], q[i, 1], q[i, 2], q[i, 3]
        vx, vy, vz = v[i, 0], v[i, 1], v[i, 2]
        s = 2 / (w * w + x * x + y * y + z * z)
        tx = (y * vz - z * vy) * s
        ty = (z * vx - x * vz) * s
        tz = (x * vy - y * vx) * s
        out[i, 0] = w * tx + vx + y * tz - z * ty
        out[i, 1] = w * ty + vy + z * tx - x * tz
        out[i, 2] = w * tz + vz + x * ty - y * tx


@par
def so3_exp(v: Any, out: Any) -> None:  # pragma: no cover
    """``v`` (n, 3) C-contiguous rotation vectors, ``out`` (n, 3, 3): the unit quaternion
    ``[cos(θ/2), sin(θ/2)/θ · v]`` (the ratio's limit 1/2 below θ = 1e-300) and its matrix."""
    for i in numba.prange(v.shape[0]):
        vx, vy, vz = v[i, 0], v[i, 1], v[i, 2]
        theta = math.sqrt(vx * vx + vy * vy + vz * vz)
        f = math.sin(0.5 * theta) / theta if theta > 1e-300 else 0.5
        matrix_into(out, i, math.cos(0.5 * theta), f * vx, f * vy, f * vz, 2.0)


@par
def geodesic_distance(a: Any, b: Any, near: float, out: Any) -> int:  # pragma: no cover
    """``a``, ``b`` (n, 9) C-contiguous rows of R1 and R2; fills ``out`` (n,) with
    ``sin(θ/2) = ‖R1 − R2‖_F / 2√2`` where that is at most ``near``, and elsewhere (θ near π,
    beyond 1.5 rad) with the exact ``θ = atan2(|Σᵢ r1ᵢ × r2ᵢ|, tr(R1ᵀR2) − 1)``; returns how
    many are exact. The caller takes ``2·asin`` of the rest with NumPy, whose vectorised
    ``arcsin`` is several times faster than a scalar one."""
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
