"""Triton kernels for central-slice extraction and its adjoint.

``extraction`` uses them automatically for CUDA tensors when Triton is
installed (``AVAILABLE``); Triton is an optional dependency and nothing here needs a GPU to
import. On a CPU the same kernels run under Triton's interpreter (set ``TRITON_INTERPRET=1``
before the module is imported), which is how the test-suite checks them against the PyTorch
path.

The kernels implement exactly the sampler of ``extraction.SampleSlices``: sample ``i`` of
rotation ``b`` is the trilinear interpolation, in a bordered centred half Fourier grid
(``_grids.Grid``: flat real storage, element strides ``(sx, sy, sz)``, imaginary parts
``im_off`` elements after the real ones), of the Hermitian volume at
``q = kx R[b, 0] + ky R[b, 1]``; a point with ``qx < 0`` is read at ``-q`` and conjugated
(Friedel symmetry). One program handles ``BLOCK`` samples of one rotation:

* ``_sample_kernel``: the forward gather, ``(2, B, n)`` planar output.
* ``_insert_kernel``: the adjoint, trilinear insertion with atomic adds into the grid.
* ``_grad_q_kernel``: ``∂L/∂q`` per sample (the derivative of the trilinear interpolant,
  dotted with the incoming gradient); ``∂L/∂R`` then follows with one small matrix product.

The wide-kernel sampler of the non-uniform FFT mode (``nufft.SampleNUFFT``) has the same three
kernels on a ``_grids.PeriodicGrid`` (complex values stored as interleaved real pairs; ``q``
zero outside the cube ``|q_i| ≤ N/2``, reflected if ``qx < 0``): ``_stencil_sample_kernel``,
``_stencil_insert_kernel`` and ``_stencil_grad_q_kernel``. A program's ``BLOCK`` samples read
their ``w ≤ 8`` nodes per axis (unrolled: ``w`` is a ``constexpr``) with weights evaluated by
Horner's rule from the kernel's coefficient table (``kernels``); no reductions, so that the
interpreter runs them on a CPU.
"""

from __future__ import annotations

from typing import Any

import torch

try:  # Triton is optional
    import triton
    import triton.language as tl

    AVAILABLE = True
except Exception:  # pragma: no cover - exercised where triton is missing
    triton = None
    tl = None
    AVAILABLE = False

__all__ = [
    "AVAILABLE",
    "sample_slices",
    "sample_slices_backward",
    "stencil_sample",
    "stencil_sample_backward",
]

BLOCK = 128


def _jit(fn: Any) -> Any:
    return triton.jit(fn) if AVAILABLE else fn


@_jit
def _locate(
    r_ptr,
    f_ptr,
    b,
    offs,
    mask,
    n,
    sx,
    sy,
    sz,
    hx,
    hy,
    hz,
    off,
):
    """Corner index, fractional coordinates and Friedel sign of a block of samples."""
    r0x = tl.load(r_ptr + b * 9 + 0)
    r0y = tl.load(r_ptr + b * 9 + 1)
    r0z = tl.load(r_ptr + b * 9 + 2)
    r1x = tl.load(r_ptr + b * 9 + 3)
    r1y = tl.load(r_ptr + b * 9 + 4)
    r1z = tl.load(r_ptr + b * 9 + 5)
    kx = tl.load(f_ptr + offs * 2, mask=mask, other=0.0)
    ky = tl.load(f_ptr + offs * 2 + 1, mask=mask, other=0.0)
    qx = kx * r0x + ky * r1x
    qy = kx * r0y + ky * r1y
    qz = kx * r0z + ky * r1z
    sgn = tl.where(qx < 0, -1.0, 1.0).to(qx.dtype)
    px = tl.minimum(tl.maximum(qx * sgn, 0.0), hx)
    py = tl.minimum(tl.maximum(qy * sgn + off, 0.0), hy)
    pz = tl.minimum(tl.maximum(qz * sgn + off, 0.0), hz)
    x0 = tl.minimum(tl.floor(px), hx - 1)
    y0 = tl.minimum(tl.floor(py), hy - 1)
    z0 = tl.minimum(tl.floor(pz), hz - 1)
    base = x0.to(tl.int64) * sx + y0.to(tl.int64) * sy + z0.to(tl.int64) * sz
    return base, px - x0, py - y0, pz - z0, sgn


@_jit
def _sample_kernel(
    d_ptr,
    r_ptr,
    f_ptr,
    o_ptr,
    n,
    B,
    im_off,
    sx,
    sy,
    sz,
    hx,
    hy,
    hz,
    off,
    BLOCK: tl.constexpr,
):
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    base, fx, fy, fz, sgn = _locate(r_ptr, f_ptr, b, offs, mask, n, sx, sy, sz, hx, hy, hz, off)
    acc_re = fx * 0.0
    acc_im = fx * 0.0
    for dz in tl.static_range(2):
        wz = (1 - dz) + (2 * dz - 1) * fz
        for dy in tl.static_range(2):
            wy = (1 - dy) + (2 * dy - 1) * fy
            for dx in tl.static_range(2):
                wx = (1 - dx) + (2 * dx - 1) * fx
                i = base + dz * sz + dy * sy + dx * sx
                w = wz * wy * wx
                acc_re += w * tl.load(d_ptr + i, mask=mask, other=0.0)
                acc_im += w * tl.load(d_ptr + im_off + i, mask=mask, other=0.0)
    tl.store(o_ptr + b * n + offs, acc_re, mask=mask)
    tl.store(o_ptr + B * n + b * n + offs, acc_im * sgn, mask=mask)


@_jit
def _insert_kernel(
    g_ptr,
    r_ptr,
    f_ptr,
    d_ptr,
    n,
    B,
    im_off,
    sx,
    sy,
    sz,
    hx,
    hy,
    hz,
    off,
    BLOCK: tl.constexpr,
):
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    base, fx, fy, fz, sgn = _locate(r_ptr, f_ptr, b, offs, mask, n, sx, sy, sz, hx, hy, hz, off)
    g_re = tl.load(g_ptr + b * n + offs, mask=mask, other=0.0)
    g_im = tl.load(g_ptr + B * n + b * n + offs, mask=mask, other=0.0) * sgn
    for dz in tl.static_range(2):
        wz = (1 - dz) + (2 * dz - 1) * fz
        for dy in tl.static_range(2):
            wy = (1 - dy) + (2 * dy - 1) * fy
            for dx in tl.static_range(2):
                wx = (1 - dx) + (2 * dx - 1) * fx
                i = base + dz * sz + dy * sy + dx * sx
                w = wz * wy * wx
                tl.atomic_add(d_ptr + i, w * g_re, mask=mask)
                tl.atomic_add(d_ptr + im_off + i, w * g_im, mask=mask)


@_jit
def _grad_q_kernel(
    g_ptr,
    r_ptr,
    f_ptr,
    d_ptr,
    q_ptr,
    n,
    B,
    im_off,
    sx,
    sy,
    sz,
    hx,
    hy,
    hz,
    off,
    BLOCK: tl.constexpr,
):
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    base, fx, fy, fz, sgn = _locate(r_ptr, f_ptr, b, offs, mask, n, sx, sy, sz, hx, hy, hz, off)
    g_re = tl.load(g_ptr + b * n + offs, mask=mask, other=0.0)
    g_im = tl.load(g_ptr + B * n + b * n + offs, mask=mask, other=0.0) * sgn
    gx = fx * 0.0
    gy = fx * 0.0
    gz = fx * 0.0
    for dz in tl.static_range(2):
        wz = (1 - dz) + (2 * dz - 1) * fz
        vz = 2.0 * dz - 1.0
        for dy in tl.static_range(2):
            wy = (1 - dy) + (2 * dy - 1) * fy
            vy = 2.0 * dy - 1.0
            for dx in tl.static_range(2):
                wx = (1 - dx) + (2 * dx - 1) * fx
                vx = 2.0 * dx - 1.0
                i = base + dz * sz + dy * sy + dx * sx
                a = g_re * tl.load(d_ptr + i, mask=mask, other=0.0)
                a += g_im * tl.load(d_ptr + im_off + i, mask=mask, other=0.0)
                gx += a * (vx * wy * wz)
                gy += a * (wx * vy * wz)
                gz += a * (wx * wy * vz)
    q = q_ptr + b * 3 * n + offs
    tl.store(q, gx * sgn, mask=mask)
    tl.store(q + n, gy * sgn, mask=mask)
    tl.store(q + 2 * n, gz * sgn, mask=mask)


def _args(grid: Any) -> tuple[Any, ...]:
    sx, sy, sz = grid.strides
    hx, hy, hz = (float(h) for h in grid.hi)
    return grid.im_off, sx, sy, sz, hx, hy, hz, float(grid.off)


def _launch_shape(B: int, n: int) -> tuple[int, int]:
    return (B, triton.cdiv(n, BLOCK))


def sample_slices(grid: Any, rotations: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    """The forward sampler: ``(2, B, n)`` planar samples (see ``extraction.SampleSlices``)."""
    if not AVAILABLE:
        raise RuntimeError("triton is not installed")
    R = rotations.contiguous()
    f = freqs.contiguous()
    B, n = R.shape[0], f.shape[0]
    out = grid.data.new_empty(2, B, n)
    if B * n:
        _sample_kernel[_launch_shape(B, n)](grid.data, R, f, out, n, B, *_args(grid), BLOCK=BLOCK)
    return out


def sample_slices_backward(
    grad: torch.Tensor,
    grid: Any,
    rotations: torch.Tensor,
    freqs: torch.Tensor,
    need_data: bool,
    need_rot: bool,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Adjoint (trilinear insertion) into the grid and the gradient for the rotations."""
    if not AVAILABLE:
        raise RuntimeError("triton is not installed")
    R = rotations.contiguous()
    f = freqs.contiguous()
    g = grad.contiguous()
    B, n = R.shape[0], f.shape[0]
    g_data = g_rot = None
    if need_data:
        g_data = torch.zeros_like(grid.data)
        if B * n:
            _insert_kernel[_launch_shape(B, n)](g, R, f, g_data, n, B, *_args(grid), BLOCK=BLOCK)
    if need_rot:
        gq = grid.data.new_zeros(B, 3, n)
        if B * n:
            _grad_q_kernel[_launch_shape(B, n)](
                g, R, f, grid.data, gq, n, B, *_args(grid), BLOCK=BLOCK
            )
        g_top = torch.matmul(gq, f).transpose(1, 2)  # (B, 2, 3)
        g_rot = torch.nn.functional.pad(g_top, (0, 0, 0, 1))
    return g_data, g_rot


# ----------------------------------------------------------------------------- wide kernels


@_jit
def _stencil_locate(r_ptr, f_ptr, b, offs, mask, N, ox, oy, oz, sy, sz, W: tl.constexpr):
    """First node's flat (complex) index, fractions, Friedel sign and whether inside the cube
    ``|q_i| ≤ N/2`` (outside: zero, located at the origin) of a block of samples."""
    r0x = tl.load(r_ptr + b * 9 + 0)
    r0y = tl.load(r_ptr + b * 9 + 1)
    r0z = tl.load(r_ptr + b * 9 + 2)
    r1x = tl.load(r_ptr + b * 9 + 3)
    r1y = tl.load(r_ptr + b * 9 + 4)
    r1z = tl.load(r_ptr + b * 9 + 5)
    kx = tl.load(f_ptr + offs * 2, mask=mask, other=0.0)
    ky = tl.load(f_ptr + offs * 2 + 1, mask=mask, other=0.0)
    qx = kx * r0x + ky * r1x
    qy = kx * r0y + ky * r1y
    qz = kx * r0z + ky * r1z
    h = 0.5 * N
    inside = (tl.abs(qx) <= h) & (tl.abs(qy) <= h) & (tl.abs(qz) <= h)
    qx = tl.where(inside, qx, 0.0)
    qy = tl.where(inside, qy, 0.0)
    qz = tl.where(inside, qz, 0.0)
    sgn = tl.where(qx < 0, -1.0, 1.0).to(qx.dtype)
    px = qx * sgn + (ox - 0.5 * W)
    py = qy * sgn + (oy - 0.5 * W)
    pz = qz * sgn + (oz - 0.5 * W)
    x0 = tl.floor(px)
    y0 = tl.floor(py)
    z0 = tl.floor(pz)
    base = (x0.to(tl.int64) + 1) + (y0.to(tl.int64) + 1) * sy + (z0.to(tl.int64) + 1) * sz
    return base, px - x0, py - y0, pz - z0, sgn, inside


@_jit
def _horner_node(c_ptr, f, j, W: tl.constexpr, P: tl.constexpr, DERIV: tl.constexpr):
    """The weight of node ``j`` (or its derivative) at fractions ``f``."""
    if DERIV:
        acc = f * 0.0 + tl.load(c_ptr + j) * (P - 1)
        for k in tl.static_range(1, P - 1):
            acc = acc * f + tl.load(c_ptr + k * W + j) * (P - 1 - k)
    else:
        acc = f * 0.0 + tl.load(c_ptr + j)
        for k in tl.static_range(1, P):
            acc = acc * f + tl.load(c_ptr + k * W + j)
    return acc


@_jit
def _x_weights(c_ptr, f, W: tl.constexpr, P: tl.constexpr, DERIV: tl.constexpr):
    """The ``x`` weights (or derivatives) of the ``W ≤ 8`` nodes, as eight blocks (zero past
    ``W``): the kernels below unroll the nodes by hand, with no reductions and no lists."""
    w1 = f * 0.0
    w2 = f * 0.0
    w3 = f * 0.0
    w4 = f * 0.0
    w5 = f * 0.0
    w6 = f * 0.0
    w7 = f * 0.0
    w0 = _horner_node(c_ptr, f, 0, W, P, DERIV)
    if W > 1:
        w1 = _horner_node(c_ptr, f, 1, W, P, DERIV)
    if W > 2:
        w2 = _horner_node(c_ptr, f, 2, W, P, DERIV)
    if W > 3:
        w3 = _horner_node(c_ptr, f, 3, W, P, DERIV)
    if W > 4:
        w4 = _horner_node(c_ptr, f, 4, W, P, DERIV)
    if W > 5:
        w5 = _horner_node(c_ptr, f, 5, W, P, DERIV)
    if W > 6:
        w6 = _horner_node(c_ptr, f, 6, W, P, DERIV)
    if W > 7:
        w7 = _horner_node(c_ptr, f, 7, W, P, DERIV)
    return w0, w1, w2, w3, w4, w5, w6, w7


@_jit
def _row_sum(d_ptr, i, mask, w0, w1, w2, w3, w4, w5, w6, w7, W: tl.constexpr):
    """``Σ_j w_j · data[i + j]`` (complex, interleaved) over the ``W`` nodes of a row."""
    re = w0 * tl.load(d_ptr + 2 * i, mask=mask, other=0.0)
    im = w0 * tl.load(d_ptr + 2 * i + 1, mask=mask, other=0.0)
    if W > 1:
        re += w1 * tl.load(d_ptr + 2 * (i + 1), mask=mask, other=0.0)
        im += w1 * tl.load(d_ptr + 2 * (i + 1) + 1, mask=mask, other=0.0)
    if W > 2:
        re += w2 * tl.load(d_ptr + 2 * (i + 2), mask=mask, other=0.0)
        im += w2 * tl.load(d_ptr + 2 * (i + 2) + 1, mask=mask, other=0.0)
    if W > 3:
        re += w3 * tl.load(d_ptr + 2 * (i + 3), mask=mask, other=0.0)
        im += w3 * tl.load(d_ptr + 2 * (i + 3) + 1, mask=mask, other=0.0)
    if W > 4:
        re += w4 * tl.load(d_ptr + 2 * (i + 4), mask=mask, other=0.0)
        im += w4 * tl.load(d_ptr + 2 * (i + 4) + 1, mask=mask, other=0.0)
    if W > 5:
        re += w5 * tl.load(d_ptr + 2 * (i + 5), mask=mask, other=0.0)
        im += w5 * tl.load(d_ptr + 2 * (i + 5) + 1, mask=mask, other=0.0)
    if W > 6:
        re += w6 * tl.load(d_ptr + 2 * (i + 6), mask=mask, other=0.0)
        im += w6 * tl.load(d_ptr + 2 * (i + 6) + 1, mask=mask, other=0.0)
    if W > 7:
        re += w7 * tl.load(d_ptr + 2 * (i + 7), mask=mask, other=0.0)
        im += w7 * tl.load(d_ptr + 2 * (i + 7) + 1, mask=mask, other=0.0)
    return re, im


@_jit
def _row_spread(d_ptr, i, mask, g_re, g_im, w0, w1, w2, w3, w4, w5, w6, w7, W: tl.constexpr):
    """``data[i + j] += w_j · g`` (atomic) over the ``W`` nodes of a row."""
    tl.atomic_add(d_ptr + 2 * (i + 0), w0 * g_re, mask=mask)
    tl.atomic_add(d_ptr + 2 * (i + 0) + 1, w0 * g_im, mask=mask)
    if W > 1:
        tl.atomic_add(d_ptr + 2 * (i + 1), w1 * g_re, mask=mask)
        tl.atomic_add(d_ptr + 2 * (i + 1) + 1, w1 * g_im, mask=mask)
    if W > 2:
        tl.atomic_add(d_ptr + 2 * (i + 2), w2 * g_re, mask=mask)
        tl.atomic_add(d_ptr + 2 * (i + 2) + 1, w2 * g_im, mask=mask)
    if W > 3:
        tl.atomic_add(d_ptr + 2 * (i + 3), w3 * g_re, mask=mask)
        tl.atomic_add(d_ptr + 2 * (i + 3) + 1, w3 * g_im, mask=mask)
    if W > 4:
        tl.atomic_add(d_ptr + 2 * (i + 4), w4 * g_re, mask=mask)
        tl.atomic_add(d_ptr + 2 * (i + 4) + 1, w4 * g_im, mask=mask)
    if W > 5:
        tl.atomic_add(d_ptr + 2 * (i + 5), w5 * g_re, mask=mask)
        tl.atomic_add(d_ptr + 2 * (i + 5) + 1, w5 * g_im, mask=mask)
    if W > 6:
        tl.atomic_add(d_ptr + 2 * (i + 6), w6 * g_re, mask=mask)
        tl.atomic_add(d_ptr + 2 * (i + 6) + 1, w6 * g_im, mask=mask)
    if W > 7:
        tl.atomic_add(d_ptr + 2 * (i + 7), w7 * g_re, mask=mask)
        tl.atomic_add(d_ptr + 2 * (i + 7) + 1, w7 * g_im, mask=mask)


@_jit
def _row_dot(
    d_ptr,
    i,
    mask,
    g_re,
    g_im,
    w0,
    w1,
    w2,
    w3,
    w4,
    w5,
    w6,
    w7,
    d0,
    d1,
    d2,
    d3,
    d4,
    d5,
    d6,
    d7,
    W: tl.constexpr,
):
    """``Σ_j a_j w_j`` and ``Σ_j a_j d_j`` with ``a_j = Re(conj(g) data[i + j])``."""
    ax = g_re * 0.0
    adx = g_re * 0.0
    a = g_re * tl.load(d_ptr + 2 * (i + 0), mask=mask, other=0.0)
    a += g_im * tl.load(d_ptr + 2 * (i + 0) + 1, mask=mask, other=0.0)
    ax += a * w0
    adx += a * d0
    if W > 1:
        a = g_re * tl.load(d_ptr + 2 * (i + 1), mask=mask, other=0.0)
        a += g_im * tl.load(d_ptr + 2 * (i + 1) + 1, mask=mask, other=0.0)
        ax += a * w1
        adx += a * d1
    if W > 2:
        a = g_re * tl.load(d_ptr + 2 * (i + 2), mask=mask, other=0.0)
        a += g_im * tl.load(d_ptr + 2 * (i + 2) + 1, mask=mask, other=0.0)
        ax += a * w2
        adx += a * d2
    if W > 3:
        a = g_re * tl.load(d_ptr + 2 * (i + 3), mask=mask, other=0.0)
        a += g_im * tl.load(d_ptr + 2 * (i + 3) + 1, mask=mask, other=0.0)
        ax += a * w3
        adx += a * d3
    if W > 4:
        a = g_re * tl.load(d_ptr + 2 * (i + 4), mask=mask, other=0.0)
        a += g_im * tl.load(d_ptr + 2 * (i + 4) + 1, mask=mask, other=0.0)
        ax += a * w4
        adx += a * d4
    if W > 5:
        a = g_re * tl.load(d_ptr + 2 * (i + 5), mask=mask, other=0.0)
        a += g_im * tl.load(d_ptr + 2 * (i + 5) + 1, mask=mask, other=0.0)
        ax += a * w5
        adx += a * d5
    if W > 6:
        a = g_re * tl.load(d_ptr + 2 * (i + 6), mask=mask, other=0.0)
        a += g_im * tl.load(d_ptr + 2 * (i + 6) + 1, mask=mask, other=0.0)
        ax += a * w6
        adx += a * d6
    if W > 7:
        a = g_re * tl.load(d_ptr + 2 * (i + 7), mask=mask, other=0.0)
        a += g_im * tl.load(d_ptr + 2 * (i + 7) + 1, mask=mask, other=0.0)
        ax += a * w7
        adx += a * d7
    return ax, adx


@_jit
def _stencil_sample_kernel(
    d_ptr,
    r_ptr,
    f_ptr,
    c_ptr,
    o_ptr,
    n,
    B,
    N,
    ox,
    oy,
    oz,
    sy,
    sz,
    W: tl.constexpr,
    P: tl.constexpr,
    BLOCK: tl.constexpr,
):
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    base, fx, fy, fz, sgn, inside = _stencil_locate(
        r_ptr, f_ptr, b, offs, mask, N, ox, oy, oz, sy, sz, W
    )
    valid = mask
    mask = mask & inside
    w0, w1, w2, w3, w4, w5, w6, w7 = _x_weights(c_ptr, fx, W, P, False)
    acc_re = fx * 0.0
    acc_im = fx * 0.0
    for jz in tl.static_range(W):
        wz = _horner_node(c_ptr, fz, jz, W, P, False)
        for jy in tl.static_range(W):
            wzy = wz * _horner_node(c_ptr, fy, jy, W, P, False)
            re, im = _row_sum(
                d_ptr, base + jz * sz + jy * sy, mask, w0, w1, w2, w3, w4, w5, w6, w7, W
            )
            acc_re += wzy * re
            acc_im += wzy * im
    tl.store(o_ptr + b * n + offs, tl.where(mask, acc_re, 0.0), mask=valid)
    tl.store(o_ptr + B * n + b * n + offs, tl.where(mask, acc_im * sgn, 0.0), mask=valid)


@_jit
def _stencil_insert_kernel(
    g_ptr,
    r_ptr,
    f_ptr,
    c_ptr,
    d_ptr,
    n,
    B,
    N,
    ox,
    oy,
    oz,
    sy,
    sz,
    W: tl.constexpr,
    P: tl.constexpr,
    BLOCK: tl.constexpr,
):
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    base, fx, fy, fz, sgn, inside = _stencil_locate(
        r_ptr, f_ptr, b, offs, mask, N, ox, oy, oz, sy, sz, W
    )
    mask = mask & inside
    g_re = tl.load(g_ptr + b * n + offs, mask=mask, other=0.0)
    g_im = tl.load(g_ptr + B * n + b * n + offs, mask=mask, other=0.0) * sgn
    w0, w1, w2, w3, w4, w5, w6, w7 = _x_weights(c_ptr, fx, W, P, False)
    for jz in tl.static_range(W):
        wz = _horner_node(c_ptr, fz, jz, W, P, False)
        for jy in tl.static_range(W):
            wzy = wz * _horner_node(c_ptr, fy, jy, W, P, False)
            i = base + jz * sz + jy * sy
            _row_spread(d_ptr, i, mask, g_re * wzy, g_im * wzy, w0, w1, w2, w3, w4, w5, w6, w7, W)


@_jit
def _stencil_grad_q_kernel(
    g_ptr,
    r_ptr,
    f_ptr,
    c_ptr,
    d_ptr,
    q_ptr,
    n,
    B,
    N,
    ox,
    oy,
    oz,
    sy,
    sz,
    W: tl.constexpr,
    P: tl.constexpr,
    BLOCK: tl.constexpr,
):
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    base, fx, fy, fz, sgn, inside = _stencil_locate(
        r_ptr, f_ptr, b, offs, mask, N, ox, oy, oz, sy, sz, W
    )
    valid = mask
    mask = mask & inside
    g_re = tl.load(g_ptr + b * n + offs, mask=mask, other=0.0)
    g_im = tl.load(g_ptr + B * n + b * n + offs, mask=mask, other=0.0) * sgn
    w0, w1, w2, w3, w4, w5, w6, w7 = _x_weights(c_ptr, fx, W, P, False)
    d0, d1, d2, d3, d4, d5, d6, d7 = _x_weights(c_ptr, fx, W, P, True)
    gx = fx * 0.0
    gy = fx * 0.0
    gz = fx * 0.0
    for jz in tl.static_range(W):
        wz = _horner_node(c_ptr, fz, jz, W, P, False)
        dz = _horner_node(c_ptr, fz, jz, W, P, True)
        for jy in tl.static_range(W):
            wy = _horner_node(c_ptr, fy, jy, W, P, False)
            dy = _horner_node(c_ptr, fy, jy, W, P, True)
            i = base + jz * sz + jy * sy
            ax, adx = _row_dot(
                d_ptr,
                i,
                mask,
                g_re,
                g_im,
                w0,
                w1,
                w2,
                w3,
                w4,
                w5,
                w6,
                w7,
                d0,
                d1,
                d2,
                d3,
                d4,
                d5,
                d6,
                d7,
                W,
            )
            gx += adx * wz * wy
            gy += ax * wz * dy
            gz += ax * dz * wy
    q = q_ptr + b * 3 * n + offs
    tl.store(q, tl.where(mask, gx * sgn, 0.0), mask=valid)
    tl.store(q + n, tl.where(mask, gy * sgn, 0.0), mask=valid)
    tl.store(q + 2 * n, tl.where(mask, gz * sgn, 0.0), mask=valid)


def _stencil_args(grid: Any, coef: torch.Tensor) -> tuple[tuple[Any, ...], dict[str, int]]:
    ox, oy, oz = grid.offsets
    _, sy, sz = grid.strides
    W, P = coef.shape
    meta = {"W": W, "P": P, "BLOCK": STENCIL_BLOCK}
    return (float(grid.N), float(ox), float(oy), float(oz), sy, sz), meta


STENCIL_BLOCK = 64


def stencil_sample(
    grid: Any, rotations: torch.Tensor, freqs: torch.Tensor, coef: torch.Tensor
) -> torch.Tensor:
    """The wide-kernel forward sampler: ``(2, B, n)`` planar samples (see
    ``nufft.SampleNUFFT``); ``coef`` ``(w, P)`` the kernel's Horner coefficients."""
    if not AVAILABLE:
        raise RuntimeError("triton is not installed")
    R = rotations.contiguous()
    f = freqs.contiguous()
    c = coef.T.contiguous()
    B, n = R.shape[0], f.shape[0]
    out = grid.data.new_empty(2, B, n)
    args, meta = _stencil_args(grid, coef)
    if B * n:
        shape = (B, triton.cdiv(n, STENCIL_BLOCK))
        _stencil_sample_kernel[shape](grid.data, R, f, c, out, n, B, *args, **meta)
    return out


def stencil_sample_backward(
    grad: torch.Tensor,
    grid: Any,
    rotations: torch.Tensor,
    freqs: torch.Tensor,
    coef: torch.Tensor,
    need_data: bool,
    need_rot: bool,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Adjoint (spreading with atomic adds) into the grid and the gradient for the rotations."""
    if not AVAILABLE:
        raise RuntimeError("triton is not installed")
    R = rotations.contiguous()
    f = freqs.contiguous()
    g = grad.contiguous()
    c = coef.T.contiguous()
    B, n = R.shape[0], f.shape[0]
    args, meta = _stencil_args(grid, coef)
    shape = (B, triton.cdiv(n, STENCIL_BLOCK))
    g_data = g_rot = None
    if need_data:
        g_data = torch.zeros_like(grid.data)
        if B * n:
            _stencil_insert_kernel[shape](g, R, f, c, g_data, n, B, *args, **meta)
    if need_rot:
        gq = grid.data.new_zeros(B, 3, n)
        if B * n:
            _stencil_grad_q_kernel[shape](g, R, f, c, grid.data, gq, n, B, *args, **meta)
        g_top = torch.matmul(gq, f).transpose(1, 2)  # (B, 2, 3)
        g_rot = torch.nn.functional.pad(g_top, (0, 0, 0, 1))
    return g_data, g_rot
