r"""The analytic oracle of the tests and the benchmarks: Gaussians and their exact projections.

A 3D Gaussian of standard deviation ``σ`` integrates along ``z`` to a 2D Gaussian of the same
``σ`` and amplitude times ``√(2π) σ``, centred at the projection of its rotated centre. Sampled
at the voxel and pixel centres, the volume and its images are exact up to the sampling of the
Gaussians themselves (band-limited on the grid to about ``exp(-2π²σ²/4)`` of the peak at
Nyquist: ``10⁻⁸`` for ``σ = 2`` px, ``1.5·10⁻⁵`` for ``σ = 1.5``, ``7·10⁻³`` for ``σ = 1``).
"""

from __future__ import annotations

import math

import torch

from ._checks import check_rotations

__all__ = ["gaussian_blobs"]


# A chiral arrangement: no reflection maps it onto itself, so the analytic images tell a
# rotation from its transpose and a volume from its mirror image.
_BLOB_CENTRES = (
    (0.0, 0.0, 0.0),
    (1.0, 0.0, 0.0),
    (0.0, 1.2, 0.0),
    (0.2, 0.3, 1.1),
    (-0.7, -0.6, 0.4),
)
_BLOB_WEIGHTS = (1.0, 0.8, 0.6, 1.2, 0.7)


def gaussian_blobs(
    D: int,
    rotations: torch.Tensor | None = None,
    *,
    sigma: float = 2.0,
    spread: float | None = None,
    mirror: bool = False,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The analytic oracle: a chiral arrangement of 3D Gaussians and its exact projections.

    Returns the volume ``(D, D, D)`` — five isotropic Gaussians of standard deviation
    ``sigma`` pixels, amplitudes ``a_i``, centres ``c_i`` spread over a radius of about
    ``spread`` pixels (default ``D / 5``; ``mirror`` reflects ``x``: the other hand), sampled
    at the voxel centres — and, for ``rotations`` ``(..., 3, 3)``, the images ``(..., D, D)``

    .. math:: P(p) = \\sum_i a_i \\sqrt{2\\pi}\\,\\sigma
              \\exp\\bigl(-|p - (R c_i)_{xy}|^2 / 2\\sigma^2\\bigr),

    the integral along ``z`` of the rotated Gaussians (the sum over integer ``z`` of a
    Gaussian with ``σ ≥ 1`` equals the integral to ``10⁻⁸`` relative; for ``σ = 2`` to
    ``10⁻¹⁷``).
    """
    spread = D / 5 if spread is None else spread
    C = torch.tensor(_BLOB_CENTRES, dtype=dtype, device=device) * spread
    if mirror:
        C[:, 0] = -C[:, 0]
    A = torch.tensor(_BLOB_WEIGHTS, dtype=dtype, device=device)
    r = torch.arange(D, dtype=dtype, device=device) - D // 2
    z, y, x = torch.meshgrid(r, r, r, indexing="ij")
    pts = torch.stack([x, y, z], -1)  # (z, y, x, 3)
    d2 = ((pts[..., None, :] - C) ** 2).sum(-1)  # (z, y, x, blobs)
    volume = (A * torch.exp(-d2 / (2 * sigma**2))).sum(-1)
    if rotations is None:
        return volume, None
    R, batch = check_rotations(rotations)
    RC = torch.einsum("bij,nj->bni", R.to(dtype=dtype, device=C.device), C)[
        ..., :2
    ]  # (B, blobs, xy)
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    p = torch.stack([xx, yy], -1)  # (y, x, 2)
    d2 = ((p[None, :, :, None, :] - RC[:, None, None]) ** 2).sum(-1)  # (B, y, x, blobs)
    images = (A * math.sqrt(2 * math.pi) * sigma * torch.exp(-d2 / (2 * sigma**2))).sum(-1)
    return volume, images.reshape(*batch, D, D)
