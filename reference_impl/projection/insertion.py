r"""Central-slice insertion (back-projection): the adjoint of extraction.

For slices :math:`S_b` and the real inner product of complex tensors
(:math:`\mathrm{Re}\langle a, b\rangle`, the one autograd uses),

.. math:: \mathrm{Re}\langle \mathcal{E}(V), S\rangle = \mathrm{Re}\langle V, \mathcal{E}^*(S)\rangle,

where :math:`\mathcal{E}` is ``extract_central_slices``: every slice sample is spread onto the
eight grid neighbours of its point ``kx R[b, 0] + ky R[b, 1]`` with its trilinear weights,
conjugated where the point falls in the Friedel half. Each engine's backward for the grid
(``sample_slices_backward``) is that operator.
"""

from __future__ import annotations

from typing import Any

import torch

from . import numba_engine, torch_engine
from ._checks import check_rotations, complex_of, real_dtype
from ._grids import BORDER, bordered_zyx, slice_freqs
from .extraction import engine_for, extract_central_slices

__all__ = ["InsertSlices", "insert", "insert_central_slices"]


def insert_central_slices(slices_ft: torch.Tensor, rotations: torch.Tensor, D: int) -> torch.Tensor:
    """Trilinear insertion (back-projection): the adjoint of ``extract_central_slices``.

    ``slices_ft`` ``(..., D, D // 2 + 1)`` complex, ``rotations`` ``(..., 3, 3)`` →
    ``(D, D, D // 2 + 1)``: every slice sample is spread onto the eight grid neighbours of its
    point with the trilinear weights (conjugated where the point falls in the Friedel half).
    ``Re⟨extract(V), S⟩ = Re⟨V, insert(S)⟩`` for all ``V`` and ``S``. Differentiable in
    ``slices_ft`` (its backward is extraction); the rotations get no gradient here.
    """
    R, batch = check_rotations(rotations)
    if slices_ft.shape[-2:] != (D, D // 2 + 1) or tuple(slices_ft.shape[:-2]) != batch:
        raise ValueError(
            f"slices_ft must have shape {(*batch, D, D // 2 + 1)}; got {tuple(slices_ft.shape)}"
        )
    dt = real_dtype(slices_ft, R)
    S = slices_ft.to(complex_of(dt)).reshape(R.shape[0], -1)
    R = R.detach().to(device=S.device, dtype=dt)
    return InsertSlices.apply(S, R, D)


def insert(S: torch.Tensor, R: torch.Tensor, D: int) -> torch.Tensor:
    """Trilinear insertion of ``S`` ``(B, D·(D//2+1))`` complex into a ``(D, D, D//2+1)``
    grid (no autograd)."""
    b = BORDER
    grid = bordered_zyx(S.new_zeros(D, D, D // 2 + 1), -(D // 2))
    freqs = slice_freqs(D, R.dtype, S.device)
    planar = torch.view_as_real(S).permute(2, 0, 1).contiguous()  # (2, B, n)
    engine = engine_for(grid.data, R.shape[0] * freqs.shape[0])
    if engine == "triton":
        from . import triton_engine

        gd, _ = triton_engine.sample_slices_backward(planar, grid, R, freqs, True, False)
    elif engine == "numba":
        gd, _ = numba_engine.sample_slices_backward(planar, grid, R, freqs, True, False)
    else:
        loc = torch_engine.Located(grid, R, freqs)
        gd, _ = torch_engine.sample_backward(planar, grid, loc, None, freqs, True, False)
    assert gd is not None
    gd = gd[b : b + D, b : b + D, :, : D // 2 + 1]
    return torch.complex(gd[:, :, 0], gd[:, :, 1])


class InsertSlices(torch.autograd.Function):
    """Insertion as an autograd ``Function``: its backward (for the slices) is extraction."""

    @staticmethod
    def forward(ctx: Any, S: torch.Tensor, R: torch.Tensor, D: int) -> torch.Tensor:
        ctx.save_for_backward(R)
        ctx.shape = S.shape
        return insert(S, R, D)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, g: torch.Tensor) -> Any:
        (R,) = ctx.saved_tensors
        return extract_central_slices(g.contiguous(), R).reshape(ctx.shape), None, None
