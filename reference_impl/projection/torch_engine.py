"""The slice sampler in plain PyTorch: gathers and scatters, on any device.

Sample ``i`` of rotation ``b`` is the trilinear interpolation, in a bordered centred half
Fourier grid (``_grids.Grid``), of the Hermitian volume at ``q = kx R[b, 0] + ky R[b, 1]``
(a point with ``qx < 0`` is read at ``-q`` and conjugated). ``Located`` finds every sample's
eight corners as ``(8, B·n)`` index and weight tensors; ``sample_forward`` gathers
(``index_select``), ``sample_backward`` scatters (``scatter_add_``: the exact adjoint) and
differentiates the interpolant for the rotations. This is the definition the compiled engines
(``numba_engine``, ``triton_engine``) are tested against; ``extraction`` uses it for small
batches on a CPU and for CUDA tensors without Triton.

The wide-kernel sampler of the non-uniform FFT mode (``nufft``) is the same construction with
``w³`` nodes: ``Stencil`` locates the samples on a ``_grids.PeriodicGrid`` (zero outside the
cube ``|q_i| ≤ N/2``, reflected if ``qx < 0``) and evaluates the kernel's piecewise polynomial
(``kernels``) for the ``w`` nodes of each axis; ``stencil_forward`` gathers ``w`` contiguous
``x`` values per ``(z, y)`` row, ``stencil_backward`` scatters them (the exact adjoint) and
differentiates the polynomial for the rotations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._grids import Grid, PeriodicGrid

__all__ = [
    "Located",
    "Stencil",
    "corner_offsets",
    "horner",
    "sample_backward",
    "sample_forward",
    "stencil_backward",
    "stencil_forward",
]


def corner_offsets(strides: tuple[int, int, int], device: torch.device) -> torch.Tensor:
    sx, sy, sz = strides
    o = [dz * sz + dy * sy + dx * sx for dz in (0, 1) for dy in (0, 1) for dx in (0, 1)]
    return torch.tensor(o, device=device, dtype=torch.int64)


class Located:
    """Where ``B × n`` samples fall, corner-major: indices and weights ``(8, B·n)``.

    The corners are ordered ``(dz, dy, dx)``; ``frac`` ``(B, 3, n)`` holds the fractional
    coordinates ``(x, y, z)`` and ``sgn`` ``(B, 1, n)`` is −1 where the point was reflected.
    Every operation runs on long contiguous rows (structure of arrays), which is what keeps
    the index arithmetic fast on a CPU.
    """

    def __init__(self, grid: Grid, rotations: torch.Tensor, freqs: torch.Tensor) -> None:
        dt, dev = freqs.dtype, freqs.device
        B, n = rotations.shape[0], freqs.shape[0]
        # q[b, j, i] = kx_i R[b, 0, j] + ky_i R[b, 1, j]
        q = torch.matmul(rotations[:, :2, :].transpose(1, 2), freqs.T)  # (B, 3, n)
        hi = torch.tensor(grid.hi, dtype=dt, device=dev).view(3, 1)
        off = torch.tensor([0, grid.off, grid.off], dtype=dt, device=dev).view(3, 1)
        sgn = torch.where(q[:, :1] < 0, -1.0, 1.0).to(dt)  # −1: read −q, conjugate (Friedel)
        p = torch.clamp(torch.addcmul(off, q, sgn), min=q.new_zeros(()), max=hi)
        p0 = torch.minimum(p.floor(), hi - 1)
        frac = p.sub_(p0)
        strides = torch.tensor(grid.strides, dtype=dt, device=dev).view(1, 3)
        if dt == torch.float32 and grid.data.numel() >= 2**24:
            p0, strides = p0.double(), strides.double()
        base = torch.matmul(strides, p0).view(1, B * n).to(torch.int64)  # exact integers
        self.idx = base + corner_offsets(grid.strides, dev).view(8, 1)  # (8, B·n)
        w = torch.stack([1 - frac, frac])  # (2, B, 3, n)
        wx, wy, wz = w[:, :, 0], w[:, :, 1], w[:, :, 2]
        self.w = (wz[:, None, None] * wy[None, :, None] * wx[None, None, :]).view(8, B * n)
        self.frac = frac
        self.sgn = sgn
        self.shape = (B, n)


def planes(flat: torch.Tensor, im_off: int) -> tuple[torch.Tensor, torch.Tensor]:
    return flat, flat.narrow(0, im_off, flat.numel() - im_off)


def sample_forward(
    grid: Grid, loc: Located
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """Planar samples ``(2, B, n)`` and the gathered corner values ``(8, B·n)`` (re, im)."""
    re, im = planes(grid.data.reshape(-1), grid.im_off)
    flat = loc.idx.reshape(-1)
    vre = re.index_select(0, flat).view_as(loc.w)
    vim = im.index_select(0, flat).view_as(loc.w)
    out = torch.stack([(loc.w * vre).sum(0), (loc.w * vim).sum(0)]).view(2, *loc.shape)
    out[1] *= loc.sgn.squeeze(1)  # conjugate on the Friedel half
    return out, (vre, vim)


def sample_backward(
    grad: torch.Tensor,
    grid: Grid,
    loc: Located,
    vals: tuple[torch.Tensor, torch.Tensor] | None,
    freqs: torch.Tensor,
    need_data: bool,
    need_rot: bool,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Adjoint (trilinear insertion) and rotation gradient for a planar ``grad`` ``(2, B, n)``."""
    B, n = loc.shape
    gre = grad[0].reshape(B * n)
    gim = (grad[1] * loc.sgn.squeeze(1)).reshape(B * n)  # the Friedel half was conjugated
    g_data = g_rot = None
    if need_data:
        flat = loc.idx.reshape(-1)
        g_data = grid.data.new_zeros(grid.data.numel())
        re, im = planes(g_data, grid.im_off)
        re.scatter_add_(0, flat, (loc.w * gre).reshape(-1))
        im.scatter_add_(0, flat, (loc.w * gim).reshape(-1))
        g_data = g_data.view_as(grid.data)
    if need_rot:
        assert vals is not None
        vre, vim = vals
        a = (vre * gre).addcmul_(vim, gim).view(2, 2, 2, B, n)  # [dz, dy, dx]
        w = torch.stack([1 - loc.frac, loc.frac])  # (2, B, 3, n)
        wx, wy, wz = w[:, :, 0], w[:, :, 1], w[:, :, 2]
        gx = ((a[:, :, 1] - a[:, :, 0]) * wz[:, None] * wy[None, :]).sum((0, 1))
        gy = ((a[:, 1] - a[:, 0]) * wz[:, None] * wx[None, :]).sum((0, 1))
        gz = ((a[1] - a[0]) * wy[:, None] * wx[None, :]).sum((0, 1))
        gq = torch.stack([gx, gy, gz], 1) * loc.sgn  # dL/dq (B, 3, n): dp/dq = sgn
        g_rot = F.pad(torch.matmul(gq, freqs).transpose(1, 2), (0, 0, 0, 1))  # (B, 3, 3)
    return g_data, g_rot


# ----------------------------------------------------------------------------- wide kernels


def horner(coef: torch.Tensor, f: torch.Tensor, derivative: bool = False) -> torch.Tensor:
    """The kernel's pieces at fractions ``f`` (any shape): weights ``(*f.shape, w)`` for the
    ``w`` rows of ``coef`` ``(w, P)`` (Horner coefficients, highest power first), or their
    derivatives in ``f``."""
    P = coef.shape[1]
    if derivative:
        coef = coef[:, :-1] * torch.arange(P - 1, 0, -1, dtype=coef.dtype, device=coef.device)
        P -= 1
    x = f[..., None]
    acc = coef[:, 0].expand(*f.shape, coef.shape[0])
    for p in range(1, P):
        acc = acc * x + coef[:, p]
    return acc


class Stencil:
    """Where ``B × n`` samples fall on a ``PeriodicGrid`` for a kernel of width ``w``.

    ``q = kx R[b, 0] + ky R[b, 1]`` (grid units) is reflected to ``qx ≥ 0`` (``sgn = -1``:
    read ``-q`` and conjugate) and shifted to index coordinates ``p``; the first node along
    each axis is ``n₀ = ⌊p - w/2⌋ + 1`` and the fraction ``f = p - w/2 - ⌊p - w/2⌋``.
    ``base`` ``(B, n)`` is the flat (complex) index of node ``n₀``, ``w`` ``(B, 3, n, w)`` the
    weights along ``(x, y, z)``: zero for a point outside the cube ``|q_i| ≤ N/2`` (located
    at the origin instead), whose sample is zero.
    """

    def __init__(
        self, grid: PeriodicGrid, rotations: torch.Tensor, freqs: torch.Tensor, coef: torch.Tensor
    ) -> None:
        dt, dev = freqs.dtype, freqs.device
        width = coef.shape[0]
        N = grid.N
        q = torch.matmul(rotations[:, :2, :].transpose(1, 2), freqs.T)  # (B, 3, n)
        inside = (q.abs() <= N / 2).all(1, keepdim=True)  # (B, 1, n)
        q = torch.where(inside, q, 0.0)
        sgn = torch.where(q[:, :1] < 0, -1.0, 1.0).to(dt)
        off = torch.tensor(grid.offsets, dtype=dt, device=dev).view(3, 1)
        s = q * sgn + (off - width / 2)
        fl = torch.floor(s)
        self.f = s - fl
        n0 = fl.to(torch.int64) + 1
        strides = torch.tensor(grid.strides, dtype=torch.int64, device=dev).view(1, 3, 1)
        self.base = (n0 * strides).sum(1)  # (B, n)
        self.inside = inside.to(dt)
        self.w = horner(coef, self.f)  # (B, 3, n, w)
        self.w[:, 0] *= self.inside[:, 0, :, None]
        self.coef = coef
        self.sgn = sgn
        self.width = width
        self.shape = (rotations.shape[0], freqs.shape[0])

    def rows(self, grid: PeriodicGrid) -> list[tuple[int, int, torch.Tensor]]:
        """``(jz, jy, index (B, n, w))`` of the ``w`` contiguous ``x`` nodes of every row."""
        _, sy, sz = grid.strides
        xs = torch.arange(self.width, device=self.base.device)
        return [
            (jz, jy, self.base[..., None] + (jz * sz + jy * sy) + xs)
            for jz in range(self.width)
            for jy in range(self.width)
        ]


def stencil_forward(grid: PeriodicGrid, st: Stencil) -> torch.Tensor:
    """Planar samples ``(2, B, n)``: ``Σ wz wy wx V`` over the ``w³`` nodes (conjugated on
    the Friedel half)."""
    values = torch.view_as_complex(grid.data).reshape(-1)
    wx, wy, wz = st.w[:, 0], st.w[:, 1], st.w[:, 2]  # (B, n, w)
    acc = values.new_zeros(st.shape)
    for jz, jy, idx in st.rows(grid):
        acc += (values[idx] * wx).sum(-1) * (wz[..., jz] * wy[..., jy])
    return torch.stack([acc.real, acc.imag * st.sgn[:, 0]])


def stencil_backward(
    grad: torch.Tensor,
    grid: PeriodicGrid,
    st: Stencil,
    freqs: torch.Tensor,
    need_data: bool,
    need_rot: bool,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The adjoint (spreading onto the ``w³`` nodes) for ``grid.data`` and the gradient for
    the rotations ``(B, 3, 3)``, for a planar ``grad`` ``(2, B, n)``."""
    g = torch.complex(grad[0], grad[1] * st.sgn[:, 0])  # the Friedel half was conjugated
    values = torch.view_as_complex(grid.data).reshape(-1)
    wx, wy, wz = st.w[:, 0], st.w[:, 1], st.w[:, 2]
    g_data = torch.zeros_like(values) if need_data else None
    if need_rot:
        dw = horner(st.coef, st.f, derivative=True)  # d weight / d p
        dw[:, 0] *= st.inside[:, 0, :, None]
        dx, dy, dz = dw[:, 0], dw[:, 1], dw[:, 2]
        gq = grid.data.new_zeros(st.shape[0], 3, st.shape[1])
    for jz, jy, idx in st.rows(grid):
        wzy = wz[..., jz] * wy[..., jy]
        if g_data is not None:
            g_data.index_add_(0, idx.reshape(-1), (wx * (g * wzy)[..., None]).reshape(-1))
        if need_rot:  # Re(conj(g) v): the real inner product of the sample and its gradient
            a = (values[idx] * g.conj()[..., None]).real
            ax = (a * wx).sum(-1)
            gq[:, 0] += (a * dx).sum(-1) * wzy
            gq[:, 1] += ax * wz[..., jz] * dy[..., jy]
            gq[:, 2] += ax * dz[..., jz] * wy[..., jy]
    g_rot = None
    if need_rot:  # dL/dq = sgn · dL/dp
        g_rot = F.pad(torch.matmul(gq * st.sgn, freqs).transpose(1, 2), (0, 0, 0, 1))
    gd = torch.view_as_real(g_data).view_as(grid.data) if g_data is not None else None
    return gd, g_rot
