r"""The Fourier volume: the centred half transform of a zero-padded volume.

With ``N`` the size of the (padded) grid and ``r`` the position relative to the centre
``D // 2``,

.. math::  \hat V(k) = \sum_r V(r)\,e^{-2\pi i\,k\cdot r/N}

for integer ``k``, stored as the complex ``(N, N, N // 2 + 1)`` tensor
``F[kz + N // 2, ky + N // 2, kx]`` (``kx`` in ``[0, N // 2]``, ``ky, kz`` in
``[-(N // 2), (N - 1) // 2]``): ``torch.fft.rfftn`` of the ``ifftshift``-ed volume,
``fftshift``-ed over ``z`` and ``y``. The missing half follows from Friedel symmetry of a real
volume, :math:`\hat V(-k) = \overline{\hat V(k)}`.

``fourier_volume`` is the public form; ``fourier_grid`` is what ``project_fourier`` samples:
the same transform, optionally divided by the separable sinc² of trilinear interpolation,
computed only for ``|k| ≤ K`` and written with a zero border in the layout of
``_grids.Grid``, by one of the two exact implementations of ``pruned_dft``.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from ._checks import check_volume
from ._grids import BORDER, Grid
from .pruned_dft import PrunedFFT, SymDFT, dft_matrices

__all__ = ["fourier_grid", "fourier_volume", "inv_sinc2"]


def fourier_volume(volume: torch.Tensor, pad: float = 1.0, *, sinc2: bool = False) -> torch.Tensor:
    """Centred half (rfft) Fourier volume of ``volume`` zero-padded to ``N = round(pad·D)``.

    ``volume`` ``(D, D, D)`` real → ``(N, N, N // 2 + 1)`` complex, laid out as described in
    the module docstring (the input's centre ``D // 2`` goes to the padded centre ``N // 2``).
    The Nyquist planes of an even ``N`` are zero. ``sinc2=True`` divides the volume by the
    separable sinc² of trilinear interpolation on this grid first. Differentiable.
    """
    D = check_volume(volume)
    N = max(D, round(pad * D))
    K = (N - 1) // 2
    b = BORDER
    grid = fourier_grid(volume, N, K, sinc2)
    if grid.data.ndim == 4 and grid.data.shape[2] == 2:  # SymDFT: (kz, ky, re/im, kx)
        rows = grid.data[b:-b, b:-b, :, : K + 1]
        X = torch.complex(rows[:, :, 0], rows[:, :, 1])
    else:  # PrunedFFT: (re/im, kx, ky, kz)
        planes = grid.data[:, : K + 1, b:-b, b:-b]
        X = torch.complex(planes[0], planes[1]).permute(2, 1, 0)
    lo = N // 2 - K  # 1 for even N (the Nyquist plane stays zero), 0 for odd N
    return F.pad(X, (0, N // 2 - K, lo, 0, lo, 0))


def fourier_grid(v: torch.Tensor, N: int, K: int, sinc2: bool, method: str = "auto") -> Grid:
    """The bordered centred half transform of ``v`` padded to ``N``, for ``|k| ≤ K``.

    ``sinc2``: divide ``v`` by :math:`\\mathrm{sinc}^2(x/N)\\,\\mathrm{sinc}^2(y/N)\\,
    \\mathrm{sinc}^2(z/N)` first (``inv_sinc2``). ``method``: ``"matmul"`` (``SymDFT``),
    ``"fft"`` (``PrunedFFT``) or ``"auto"`` (matrix products when only a small cube of the
    ``N``-grid is needed, ``3K ≤ N``).
    """
    D = v.shape[0]
    if method == "auto":  # matrix products when only a small cube of the N-grid is needed
        method = "fft" if 3 * K > N else "matmul"
    if method == "matmul":
        Sn, C, W = dft_matrices(D, N, K, sinc2, v.dtype, str(v.device))
        data = SymDFT.apply(v, Sn, C, W)
        L, _, _, Lx = data.shape
        return Grid(data, -K, (1, 2 * Lx, 2 * Lx * L), (Lx - 1, L - 1, L - 1), Lx)
    scale = inv_sinc2(D, N, v.dtype, str(v.device)) if sinc2 else None
    data = PrunedFFT.apply(v, scale, N, K)
    _, Lx, L, _ = data.shape
    return Grid(data, -K, (L * L, L, 1), (Lx - 1, L - 1, L - 1), Lx * L * L)


@functools.lru_cache(maxsize=64)
def inv_sinc2(D: int, N: int, dt: torch.dtype, device: str) -> torch.Tensor:
    """``1 / (sinc²(x/N) sinc²(y/N) sinc²(z/N))`` on the ``(D, D, D)`` volume grid."""
    r = (torch.arange(D, dtype=torch.float64) - D // 2) / N
    s = 1 / torch.sinc(r) ** 2
    return (s[:, None, None] * s[None, :, None] * s[None, None, :]).to(device=device, dtype=dt)
