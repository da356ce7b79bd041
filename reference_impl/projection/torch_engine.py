"""The slice sampler in plain PyTorch: gathers and scatters, on any device.

Sample ``i`` of rotation ``b`` is the trilinear interpolation, in a bordered centred half
Fourier grid (``_grids.Grid``), of the Hermitian volume at ``q = kx R[b, 0] + ky R[b, 1]``
(a point with ``qx < 0`` is read at ``-q`` and conjugated). ``Located`` finds every sample's
eight corners as ``(8, B·n)`` index and weight tensors; ``sample_forward`` gathers
(``index_select``), ``sample_backward`` scatters (``scatter_add_``: the exact adjoint) and
differentiates the interpolant for the rotations. This is the definition the compiled engines
(``numba_engine``, ``triton_engine``) are tested against; ``extraction`` uses it for small
batches on a CPU and for CUDA tensors without Triton.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._grids import Grid

__all__ = ["Located", "corner_offsets", "sample_backward", "sample_forward"]


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
