"""The numba kernels of ``numba_engine`` (imported only when numba is there), defined at
module level so that numba's on-disk cache finds them again in the next process."""

from __future__ import annotations

import functools
from types import SimpleNamespace
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


# ----------------------------------------------------------------------------- wide kernels


@jit
def stencil_where(R: Any, freqs: Any, b: int, i: int, geo: Any, w: int) -> Any:  # pragma: no cover
    """``(sgn, px, py, pz)``: the Friedel sign and index coordinates, less ``w/2``, of sample
    ``i`` of rotation ``b`` on a ``PeriodicGrid`` (``q`` reflected to ``qx ≥ 0``); the first
    node along an axis is ``⌊p⌋ + 1``. ``sgn = 0`` for a point outside the cube
    ``|q_x|, |q_y|, |q_z| ≤ N/2`` (its sample is zero; ``p`` is then the origin's)."""
    kx, ky = freqs[i, 0], freqs[i, 1]
    h = 0.5 * geo[0]
    qx = kx * R[b, 0, 0] + ky * R[b, 1, 0]
    qy = kx * R[b, 0, 1] + ky * R[b, 1, 1]
    qz = kx * R[b, 0, 2] + ky * R[b, 1, 2]
    sgn = 1.0
    if abs(qx) > h or abs(qy) > h or abs(qz) > h:
        sgn = 0.0
        qx = qy = qz = 0.0
    elif qx < 0:
        sgn = -1.0
        qx, qy, qz = -qx, -qy, -qz
    h = 0.5 * w
    return sgn, qx + geo[1] - h, qy + geo[2] - h, qz + geo[3] - h


@jit
def stencil_bins(
    R: Any, freqs: Any, geo: Any, w: int, bins: Any, nbx: int, nby: int, ids: Any, lo: int, hi: int
) -> None:  # pragma: no cover
    """The bin (``bins = (bx, by, bz)`` nodes, ``x`` fastest) of the first node of samples
    ``lo … hi - 1``."""
    n = freqs.shape[0]
    for s in range(lo, hi):
        _, px, py, pz = stencil_where(R, freqs, s // n, s % n, geo, w)
        bx = (int(np.floor(px)) + 1) // bins[0]
        by = (int(np.floor(py)) + 1) // bins[1]
        bz = (int(np.floor(pz)) + 1) // bins[2]
        ids[s] = (bz * nby + by) * nbx + bx


@jit
def counting_sort(
    ids: Any, nbins: int, n: int, rot: Any, col: Any, starts: Any
) -> None:  # pragma: no cover
    """The samples ``s = b n + i`` in bin order, as ``(rot, col) = (b, i)`` (no divisions in
    the loops that follow); ``starts`` ``(nbins + 1,)``: where each bin begins."""
    starts[:] = 0
    for s in range(ids.size):
        starts[ids[s] + 1] += 1
    for k in range(nbins):
        starts[k + 1] += starts[k]
    fill = starts[:-1].copy()
    for s in range(ids.size):
        k = ids[s]
        rot[fill[k]] = s // n
        col[fill[k]] = s % n
        fill[k] += 1


@functools.cache
def stencil_kernels(w: int, P: int) -> Any:
    """The wide-kernel sampler of the non-uniform FFT mode for a kernel of ``w ≤ 8`` nodes per
    axis and ``P`` Horner coefficients per piece, compiled with both as constants; cached on
    disk per ``(w, P)``.

    As ``torch_engine.Stencil`` / ``stencil_forward`` / ``stencil_backward``, on a
    ``_grids.PeriodicGrid``'s flat real storage ``data`` (complex values as interleaved
    pairs): ``geo`` holds ``(N, offset x, offset y, offset z, sy, sz)`` (complex strides; ``x``
    is contiguous), ``coef_t`` ``(P, w)`` the kernel's Horner coefficients transposed (highest
    power first). The samples are visited in the order ``(rot, col)`` of their bins
    (``stencil_bins``, ``counting_sort``), so that samples of different images that read the
    same nodes run together, as in FINUFFT. The loops are serial and release the GIL; the
    engine runs them on a pool of threads over disjoint ranges (numba's ``parallel=True``
    made these loops several times slower). Per sample, the ``w²`` rows of ``2w`` reals are
    summed with weights ``wz wy`` into one vector, then dotted with ``wx``; the adjoint spreads
    the same way. The vector is a tuple of 16 scalars (``axpy``; entries past ``2w`` are
    dropped at compile time) held in registers, and rows are indexed with unsigned integers
    (no negative-index handling): together about four times faster than a scratch array.
    """
    W2 = 2 * w
    # unsigned offsets: an unsigned index skips numba's negative-index handling, and
    # ``uint64 + int`` would be signed again
    u1, u2, u3, u4, u5, u6, u7 = (np.uint64(e) for e in range(1, 8))
    u8, u9, u10, u11, u12, u13, u14, u15 = (np.uint64(e) for e in range(8, 16))
    fm = numba.njit(
        cache=True, nogil=True, error_model="numpy", inline="always", fastmath={"contract"}
    )
    fser = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})

    @fm
    def weights(px: float, py: float, pz: float, coef_t: Any, out: Any) -> Any:  # pragma: no cover
        """The ``w`` weights along ``x``, ``y`` and ``z`` (rows of ``out``); returns the first
        nodes. The three axes share each coefficient; a scalar chain per node."""
        x0, y0, z0 = np.floor(px), np.floor(py), np.floor(pz)
        fx = coef_t.dtype.type(px - x0)
        fy = coef_t.dtype.type(py - y0)
        fz = coef_t.dtype.type(pz - z0)
        for j in range(w):
            ax = ay = az = coef_t[0, j]
            for k in range(1, P):
                c = coef_t[k, j]
                ax = ax * fx + c
                ay = ay * fy + c
                az = az * fz + c
            out[0, j] = ax
            out[1, j] = ay
            out[2, j] = az
        return int(x0) + 1, int(y0) + 1, int(z0) + 1

    @fm
    def derivatives(
        px: float, py: float, pz: float, coef_t: Any, out: Any
    ) -> None:  # pragma: no cover
        """The derivatives of ``weights`` in ``p``."""
        fx = coef_t.dtype.type(px - np.floor(px))
        fy = coef_t.dtype.type(py - np.floor(py))
        fz = coef_t.dtype.type(pz - np.floor(pz))
        for j in range(w):
            ax = ay = az = coef_t[0, j] * (P - 1)
            for k in range(1, P - 1):
                c = coef_t[k, j] * (P - 1 - k)
                ax = ax * fx + c
                ay = ay * fy + c
                az = az * fz + c
            out[0, j] = ax
            out[1, j] = ay
            out[2, j] = az

    @fm
    def zeros16(zero: Any) -> Any:  # pragma: no cover
        return (
            zero,
            zero,
            zero,
            zero,
            zero,
            zero,
            zero,
            zero,
            zero,
            zero,
            zero,
            zero,
            zero,
            zero,
            zero,
            zero,
        )

    @fm
    def axpy(acc: Any, c: Any, data: Any, r: Any) -> Any:  # pragma: no cover
        """``acc + c · data[r : r + 2w]`` on a 16-tuple."""
        return (
            acc[0] + c * data[r],
            acc[1] + c * data[r + u1],
            acc[2] + c * data[r + u2],
            acc[3] + c * data[r + u3],
            acc[4] + c * data[r + u4] if W2 > 4 else acc[4],
            acc[5] + c * data[r + u5] if W2 > 5 else acc[5],
            acc[6] + c * data[r + u6] if W2 > 6 else acc[6],
            acc[7] + c * data[r + u7] if W2 > 7 else acc[7],
            acc[8] + c * data[r + u8] if W2 > 8 else acc[8],
            acc[9] + c * data[r + u9] if W2 > 9 else acc[9],
            acc[10] + c * data[r + u10] if W2 > 10 else acc[10],
            acc[11] + c * data[r + u11] if W2 > 11 else acc[11],
            acc[12] + c * data[r + u12] if W2 > 12 else acc[12],
            acc[13] + c * data[r + u13] if W2 > 13 else acc[13],
            acc[14] + c * data[r + u14] if W2 > 14 else acc[14],
            acc[15] + c * data[r + u15] if W2 > 15 else acc[15],
        )

    @fm
    def spread(g_data: Any, r: Any, c: Any, vec: Any) -> None:  # pragma: no cover
        """``g_data[r : r + 2w] += c · vec``."""
        g_data[r] += c * vec[0]
        g_data[r + u1] += c * vec[1]
        g_data[r + u2] += c * vec[2]
        g_data[r + u3] += c * vec[3]
        if W2 > 4:
            g_data[r + u4] += c * vec[4]
        if W2 > 5:
            g_data[r + u5] += c * vec[5]
        if W2 > 6:
            g_data[r + u6] += c * vec[6]
        if W2 > 7:
            g_data[r + u7] += c * vec[7]
        if W2 > 8:
            g_data[r + u8] += c * vec[8]
        if W2 > 9:
            g_data[r + u9] += c * vec[9]
        if W2 > 10:
            g_data[r + u10] += c * vec[10]
        if W2 > 11:
            g_data[r + u11] += c * vec[11]
        if W2 > 12:
            g_data[r + u12] += c * vec[12]
        if W2 > 13:
            g_data[r + u13] += c * vec[13]
        if W2 > 14:
            g_data[r + u14] += c * vec[14]
        if W2 > 15:
            g_data[r + u15] += c * vec[15]

    @fm
    def dot(acc: Any, wx: Any) -> Any:  # pragma: no cover
        """``(Σ acc[2j] wx[j], Σ acc[2j+1] wx[j])``: constant tuple indices only (a variable
        index would send the tuple to memory)."""
        re = acc[0] * 0
        im = acc[0] * 0
        re += acc[0] * wx[0]
        im += acc[1] * wx[0]
        re += acc[2] * wx[1]
        im += acc[3] * wx[1]
        if w > 2:
            re += acc[4] * wx[2]
            im += acc[5] * wx[2]
        if w > 3:
            re += acc[6] * wx[3]
            im += acc[7] * wx[3]
        if w > 4:
            re += acc[8] * wx[4]
            im += acc[9] * wx[4]
        if w > 5:
            re += acc[10] * wx[5]
            im += acc[11] * wx[5]
        if w > 6:
            re += acc[12] * wx[6]
            im += acc[13] * wx[6]
        if w > 7:
            re += acc[14] * wx[7]
            im += acc[15] * wx[7]
        return re, im

    @fm
    def locate(
        R: Any, freqs: Any, b: int, i: int, geo: Any, coef_t: Any, wts: Any
    ) -> Any:  # pragma: no cover
        """``(sgn, px, py, pz, first node's flat real index)``, with ``wts`` filled."""
        sgn, px, py, pz = stencil_where(R, freqs, b, i, geo, w)
        ix, iy, iz = weights(px, py, pz, coef_t, wts)
        return sgn, px, py, pz, 2 * (ix + int(geo[4]) * iy + int(geo[5]) * iz)

    @fser
    def forward(
        data: Any, R: Any, freqs: Any, geo: Any, coef_t: Any, out: Any, rot: Any, col: Any,
        lo: int, hi: int,
    ) -> None:  # pragma: no cover  # fmt: skip
        """The samples ``lo … hi - 1`` of the bin order ``(rot, col)`` into ``out`` (2, B, n)."""
        sy, sz = 2 * int(geo[4]), 2 * int(geo[5])
        zero = data[0] * 0
        wts = np.empty((3, w), dtype=coef_t.dtype)
        for k in range(lo, hi):
            b, i = rot[k], col[k]
            sgn, _, _, _, base = locate(R, freqs, b, i, geo, coef_t, wts)
            if sgn == 0:  # outside the cube: zero
                out[0, b, i] = 0
                out[1, b, i] = 0
                continue
            acc = zeros16(zero)
            for jz in range(w):
                for jy in range(w):
                    r = np.uint64(base + jz * sz + jy * sy)
                    acc = axpy(acc, wts[2, jz] * wts[1, jy], data, r)
            re, im = dot(acc, wts[0])
            out[0, b, i] = re
            out[1, b, i] = sgn * im

    @fm
    def accumulate(
        grad: Any, data: Any, R: Any, freqs: Any, geo: Any, coef_t: Any, b: int, i: int,
        g_data: Any, g_rot: Any, need_data: bool, need_rot: bool, wts: Any, dwts: Any,
    ) -> None:  # pragma: no cover  # fmt: skip
        """Sample ``i`` of rotation ``b``: its share of the adjoint (into ``g_data``) and of
        ``∂L/∂q ⊗ (kx, ky)`` (into ``g_rot`` (B, 3, 2))."""
        sy, sz = 2 * int(geo[4]), 2 * int(geo[5])
        sgn, px, py, pz, base = locate(R, freqs, b, i, geo, coef_t, wts)
        if sgn == 0:  # outside the cube: the sample is zero, whatever the data or rotation
            return
        zero = data[0] * 0
        gre = grad[0, b, i] + zero
        gim = grad[1, b, i] * sgn + zero  # the Friedel half was conjugated
        if need_data:
            vec = (
                gre * wts[0, 0],
                gim * wts[0, 0],
                gre * wts[0, 1],
                gim * wts[0, 1],
                gre * wts[0, 2] if W2 > 4 else zero,
                gim * wts[0, 2] if W2 > 5 else zero,
                gre * wts[0, 3] if W2 > 6 else zero,
                gim * wts[0, 3] if W2 > 7 else zero,
                gre * wts[0, 4] if W2 > 8 else zero,
                gim * wts[0, 4] if W2 > 9 else zero,
                gre * wts[0, 5] if W2 > 10 else zero,
                gim * wts[0, 5] if W2 > 11 else zero,
                gre * wts[0, 6] if W2 > 12 else zero,
                gim * wts[0, 6] if W2 > 13 else zero,
                gre * wts[0, 7] if W2 > 14 else zero,
                gim * wts[0, 7] if W2 > 15 else zero,
            )
            for jz in range(w):
                for jy in range(w):
                    r = np.uint64(base + jz * sz + jy * sy)
                    spread(g_data, r, wts[2, jz] * wts[1, jy], vec)
        if need_rot:  # the rows weighted for ∂/∂x, ∂/∂y and ∂/∂z, then dotted with g ⊗ w
            derivatives(px, py, pz, coef_t, dwts)
            a0 = a1 = a2 = zeros16(zero)
            for jz in range(w):
                for jy in range(w):
                    r = np.uint64(base + jz * sz + jy * sy)
                    a0 = axpy(a0, wts[2, jz] * wts[1, jy], data, r)
                    a1 = axpy(a1, wts[2, jz] * dwts[1, jy], data, r)
                    a2 = axpy(a2, dwts[2, jz] * wts[1, jy], data, r)
            rx, ix = dot(a0, dwts[0])
            ry, iy = dot(a1, wts[0])
            rz, iz = dot(a2, wts[0])
            gx, gy, gz = rx * gre + ix * gim, ry * gre + iy * gim, rz * gre + iz * gim
            kx, ky = freqs[i, 0], freqs[i, 1]  # dL/dq = sgn · dL/dp
            gx, gy, gz = gx * sgn, gy * sgn, gz * sgn
            g_rot[b, 0, 0] += gx * kx
            g_rot[b, 1, 0] += gy * kx
            g_rot[b, 2, 0] += gz * kx
            g_rot[b, 0, 1] += gx * ky
            g_rot[b, 1, 1] += gy * ky
            g_rot[b, 2, 1] += gz * ky

    @fser
    def backward(
        grad: Any, data: Any, R: Any, freqs: Any, geo: Any, coef_t: Any, g_data: Any,
        g_rot: Any, need_data: bool, need_rot: bool, rot: Any, col: Any, layers: Any,
        which: Any,
    ) -> None:  # pragma: no cover  # fmt: skip
        """The adjoint (into ``g_data``) and ``∂L/∂q ⊗ (kx, ky)`` (into ``g_rot`` (B, 3, 2))
        of the samples ``layers[k] … layers[k + 1] - 1`` of the bin order ``(rot, col)``, for
        the layers ``k`` in ``which``.
        A layer's samples have their first nodes on ``bz ≥ w - 1`` consecutive ``z`` planes
        and write to at most ``bz + w - 1``: layers of the same parity never meet, so calls on
        disjoint sets of even layers may run at once, then those on odd ones (no copies of
        the grid, no atomics)."""
        wts = np.empty((3, w), dtype=coef_t.dtype)
        dwts = np.empty((3, w), dtype=coef_t.dtype)
        for k in which:
            for m in range(layers[k], layers[k + 1]):
                accumulate(
                    grad, data, R, freqs, geo, coef_t, rot[m], col[m], g_data, g_rot,
                    need_data, need_rot, wts, dwts,
                )  # fmt: skip

    return SimpleNamespace(forward=forward, backward=backward)
