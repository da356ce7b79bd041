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

__all__ = ["AVAILABLE", "sample_slices", "sample_slices_backward"]

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
