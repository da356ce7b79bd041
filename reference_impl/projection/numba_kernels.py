"""The numba kernels of ``numba_engine`` (imported only when numba is there), defined at
module level so that numba's on-disk cache finds them again in the next process."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

jit = numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
par = numba.njit(cache=True, nogil=True, parallel=True, error_model="numpy")


@jit
def locate(R: Any, freqs: Any, b: int, i: int, geo: Any) -> Any:  # pragma: no cover
    """(sgn, base index, fx, fy, fz) of sample ``i`` of rotation ``b``."""
    kx, ky = freqs[i, 0], freqs[i, 1]
    qx = kx * R[b, 0, 0] + ky * R[b, 1, 0]
    qy = kx * R[b, 0, 1] + ky * R[b, 1, 1]
    qz = kx * R[b, 0, 2] + ky * R[b, 1, 2]
    sgn = -1.0 if qx < 0 else 1.0
    off, hx, hy, hz, sx, sy, sz = geo[0], geo[1], geo[2], geo[3], geo[4], geo[5], geo[6]
    px = min(max(sgn * qx, 0.0), hx)
    py = min(max(off + sgn * qy, 0.0), hy)
    pz = min(max(off + sgn * qz, 0.0), hz)
    ix = min(np.floor(px), hx - 1)
    iy = min(np.floor(py), hy - 1)
    iz = min(np.floor(pz), hz - 1)
    base = int(ix) * int(sx) + int(iy) * int(sy) + int(iz) * int(sz)
    return sgn, base, px - ix, py - iy, pz - iz


@par
def forward(data: Any, R: Any, freqs: Any, geo: Any, out: Any) -> None:  # pragma: no cover
    B, n = R.shape[0], freqs.shape[0]
    sx, sy, sz, im = int(geo[4]), int(geo[5]), int(geo[6]), int(geo[7])
    for s in numba.prange(B * n):
        b, i = s // n, s % n
        sgn, base, fx, fy, fz = locate(R, freqs, b, i, geo)
        re = 0.0
        imag = 0.0
        for dz in range(2):
            wz = fz if dz else 1 - fz
            for dy in range(2):
                wzy = wz * (fy if dy else 1 - fy)
                row = base + dz * sz + dy * sy
                w0, w1 = wzy * (1 - fx), wzy * fx
                re += w0 * data[row] + w1 * data[row + sx]
                imag += w0 * data[row + im] + w1 * data[row + sx + im]
        out[0, b, i] = re
        out[1, b, i] = sgn * imag


@jit
def accumulate(
    grad: Any,
    data: Any,
    R: Any,
    freqs: Any,
    geo: Any,
    s: int,
    g_data: Any,
    g_rot: Any,
    need_data: bool,
    need_rot: bool,
) -> None:  # pragma: no cover
    """Sample ``s``'s share of the adjoint (into ``g_data``) and of ``∂L/∂q ⊗ (kx, ky)`` (into
    ``g_rot`` (B, 3, 2))."""
    n = freqs.shape[0]
    sx, sy, sz, im = int(geo[4]), int(geo[5]), int(geo[6]), int(geo[7])
    b, i = s // n, s % n
    sgn, base, fx, fy, fz = locate(R, freqs, b, i, geo)
    gre = grad[0, b, i]
    gim = grad[1, b, i] * sgn  # the Friedel half was conjugated
    gx = gy = gz = 0.0
    for dz in range(2):
        wz = fz if dz else 1 - fz
        for dy in range(2):
            wy = fy if dy else 1 - fy
            row = base + dz * sz + dy * sy
            if need_data:
                w0, w1 = wz * wy * (1 - fx), wz * wy * fx
                g_data[row] += w0 * gre
                g_data[row + sx] += w1 * gre
                g_data[row + im] += w0 * gim
                g_data[row + sx + im] += w1 * gim
            if need_rot:
                a0 = data[row] * gre + data[row + im] * gim
                a1 = data[row + sx] * gre + data[row + sx + im] * gim
                gx += (a1 - a0) * wz * wy
                gy += (1 - 2 * dy) * -(a0 * (1 - fx) + a1 * fx) * wz
                gz += (1 - 2 * dz) * -(a0 * (1 - fx) + a1 * fx) * wy
    if need_rot:  # dL/dq = sgn · dL/dp
        kx, ky = freqs[i, 0], freqs[i, 1]
        gx, gy, gz = gx * sgn, gy * sgn, gz * sgn
        g_rot[b, 0, 0] += gx * kx
        g_rot[b, 1, 0] += gy * kx
        g_rot[b, 2, 0] += gz * kx
        g_rot[b, 0, 1] += gx * ky
        g_rot[b, 1, 1] += gy * ky
        g_rot[b, 2, 1] += gz * ky


@par
def backward_slabs(
    grad: Any,
    data: Any,
    R: Any,
    freqs: Any,
    geo: Any,
    g_data: Any,
    g_rot: Any,
    need_data: bool,
    need_rot: bool,
    outer_stride: int,
    outer_hi: int,
) -> None:  # pragma: no cover
    """The adjoint into one buffer ``g_data`` (size of ``data``) and per-slab sums of
    ``∂L/∂q ⊗ (kx, ky)`` in ``g_rot`` (slabs, B, 3, 2), without two threads ever adding to
    one element: the grid is cut into ``slabs`` slabs along its outermost axis (stride
    ``outer_stride``, largest index ``outer_hi``), each at least two planes thick; a sample
    belongs to the slab of its lower corner and writes to that plane and the next, so slabs of
    the same parity never meet: the even ones run in parallel, then the odd ones."""
    B, n = R.shape[0], freqs.shape[0]
    S = B * n
    slabs = g_rot.shape[0]
    plane = np.empty(S, dtype=np.int32)
    for s in numba.prange(S):
        _, base, _, _, _ = locate(R, freqs, s // n, s % n, geo)
        plane[s] = base // outer_stride
    for phase in range(2):
        for j in numba.prange((slabs - phase + 1) // 2):
            k = 2 * j + phase
            lo, hi = k * outer_hi // slabs, (k + 1) * outer_hi // slabs
            for s in range(S):
                if lo <= plane[s] < hi:
                    accumulate(grad, data, R, freqs, geo, s, g_data, g_rot[k], need_data, need_rot)


@par
def backward_threads(
    grad: Any,
    data: Any,
    R: Any,
    freqs: Any,
    geo: Any,
    g_data: Any,
    g_rot: Any,
    need_data: bool,
    need_rot: bool,
) -> None:  # pragma: no cover
    """The adjoint into per-thread buffers ``g_data`` (T, size) and per-thread sums of
    ``∂L/∂q ⊗ (kx, ky)`` in ``g_rot`` (T, B, 3, 2); thread ``t`` takes the ``t``-th share of
    the samples, and the caller sums the copies."""
    S = R.shape[0] * freqs.shape[0]
    T = g_data.shape[0]
    for t in numba.prange(T):
        for s in range(t * S // T, (t + 1) * S // T):
            accumulate(grad, data, R, freqs, geo, s, g_data[t], g_rot[t], need_data, need_rot)
