r"""Central-slice extraction: the Fourier slice theorem's sampler and its autograd Function.

Fourier slice theorem (Bracewell 1956; cryoDRGN, Zhong et al. 2021, §2; cryoAI, Levy et al.
2022, supplementary C; Lian et al. 2022, §2.7): the 2D transform of the projection ``P`` of
``V`` under ``R`` is the central slice

.. math:: \hat P(k_x, k_y) = \hat V\bigl(R^\mathsf{T}(k_x, k_y, 0)^\mathsf{T}\bigr)
          = \hat V(k_x R_{0,:} + k_y R_{1,:}),

the slice through the volume's transform spanned by the first two *rows* of ``R``.
(torch-fourier-slice samples :math:`\hat V(R k)`: pass ``Rᵀ`` to it.)

Identities used
---------------
* **Trilinear interpolation and Friedel symmetry**: the slice is sampled from the half volume
  by trilinear interpolation; a point with ``x < 0`` is read as the conjugate of the value at
  ``-q``, which is *exactly* the trilinear interpolation of the full Hermitian volume (the
  eight neighbours of ``-q`` are the negatives of those of ``q``, with the same weights).
* **Adjoint**: extraction is real-linear (the Friedel half conjugates), so its adjoint is taken
  with respect to the real inner product :math:`\mathrm{Re}\langle a, b\rangle` — the one
  autograd uses. It is trilinear *insertion* (``insertion``): every sample is spread onto its
  eight neighbours with the same weights (conjugated on the Friedel half).
* **Gradient for the rotations**: with :math:`q = k_x R_{0,:} + k_y R_{1,:}`,
  :math:`\partial L/\partial R_{0,j} = \sum k_x\,\partial L/\partial q_j` and
  :math:`\partial L/\partial R_{1,j} = \sum k_y\,\partial L/\partial q_j`, and
  :math:`\partial L/\partial q` is the exact derivative of the trilinear interpolant (the
  differences of neighbouring grid values, weighted). The third row gets zero gradient.

Engines
-------
``SampleSlices`` runs one of three implementations of the same arithmetic (``engine_for``):
``triton_engine`` for CUDA tensors when Triton is installed, ``numba_engine`` for CPU batches
of at least ``numba_engine.MIN_SAMPLES`` samples when numba imports, ``torch_engine`` (the
definition) otherwise.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

import torch

from . import numba_engine, torch_engine
from ._checks import check_half, check_rotations, complex_of, real_dtype
from ._grids import Grid, bordered_zyx, slice_freqs

__all__ = ["SampleSlices", "engine_for", "extract_central_slices", "sample", "triton_ok"]


def extract_central_slices(volume_ft: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
    """Central slices of a centred half Fourier volume, by trilinear interpolation.

    ``volume_ft`` ``(N, N, N // 2 + 1)`` complex64/complex128 (layout in
    ``transform``'s docstring), ``rotations`` ``(..., 3, 3)`` → ``(..., N, N // 2 + 1)``
    complex, the slice ``S[ky + N // 2, kx] = V̂(kx R[0] + ky R[1])`` with the missing half
    read through Friedel symmetry and zero outside the stored frequencies. A
    ``torch.autograd.Function``: backward is ``insert_central_slices`` (the exact adjoint) for
    the volume and the analytic trilinear gradient for the rotations.
    """
    N = check_half(volume_ft)
    R, batch = check_rotations(rotations)
    dt = real_dtype(volume_ft, R)
    data = volume_ft.to(complex_of(dt))
    R = R.to(device=data.device, dtype=dt)
    grid = bordered_zyx(data, -(N // 2))
    out = sample(grid, R, slice_freqs(N, dt, data.device))
    return torch.complex(out[0], out[1]).reshape(*batch, N, N // 2 + 1)


def sample(grid: Grid, rotations: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    """Planar samples ``(2, B, n)`` of ``grid`` at ``kx R[b, 0] + ky R[b, 1]`` for the
    ``(kx, ky)`` rows of ``freqs`` ``(n, 2)`` (grid units), differentiable in ``grid.data``
    and ``rotations`` ``(B, 3, 3)``."""
    return SampleSlices.apply(grid.data, rotations, freqs, grid)


@functools.cache
def triton_ok() -> bool:
    """Whether the Triton engine imports and Triton is installed."""
    try:
        from . import triton_engine
    except Exception:  # pragma: no cover - triton missing or broken
        return False
    return bool(triton_engine.AVAILABLE)


def engine_for(data: torch.Tensor, samples: int) -> str:
    """``"triton"``, ``"numba"`` or ``"torch"``: which engine samples ``samples`` points of a
    grid stored in ``data``."""
    if data.is_cuda and triton_ok():
        return "triton"
    if numba_engine.usable(data, samples):
        return "numba"
    return "torch"


class SampleSlices(torch.autograd.Function):
    """``(data, rotations (B, 3, 3), freqs (n, 2), grid) → (2, B, n)`` planar samples.

    ``freqs`` holds ``(kx, ky)`` image frequencies in grid units; sample ``i`` of rotation
    ``b`` is the trilinear interpolation of the Hermitian volume at ``kx R[b,0] + ky R[b,1]``.
    Backward: trilinear insertion for ``data`` (the exact adjoint) and the analytic gradient
    for ``rotations``. ``data`` is ``grid.data``, passed separately for autograd.
    """

    @staticmethod
    def forward(
        ctx: Any, data: torch.Tensor, rotations: torch.Tensor, freqs: torch.Tensor, grid: Grid
    ) -> torch.Tensor:
        ctx.grid = grid
        ctx.engine = engine_for(data, rotations.shape[0] * freqs.shape[0])
        if ctx.engine == "triton":
            from . import triton_engine

            ctx.save_for_backward(rotations, freqs)
            return triton_engine.sample_slices(grid, rotations, freqs)
        if ctx.engine == "numba":  # the same arithmetic, fused and on every core
            ctx.save_for_backward(rotations, freqs)
            return numba_engine.sample_slices(grid, rotations, freqs)
        loc = torch_engine.Located(grid, rotations, freqs)
        out, vals = torch_engine.sample_forward(grid, loc)
        ctx.loc = loc
        ctx.vals = vals if ctx.needs_input_grad[1] else None
        ctx.save_for_backward(freqs)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        need_data, need_rot = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad = grad.contiguous()
        if ctx.engine == "torch":
            (freqs,) = ctx.saved_tensors
            gd, gr = torch_engine.sample_backward(
                grad, ctx.grid, ctx.loc, ctx.vals, freqs, need_data, need_rot
            )
            return gd, gr, None, None
        rotations, freqs = ctx.saved_tensors
        engine: ModuleType = numba_engine
        if ctx.engine == "triton":
            from . import triton_engine as engine
        gd, gr = engine.sample_slices_backward(
            grad, ctx.grid, rotations, freqs, need_data, need_rot
        )
        return gd, gr, None, None
