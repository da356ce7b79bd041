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

__all__ = ["gaussian_atoms", "gaussian_blobs"]


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


def gaussian_atoms(
    D: int,
    rotations: torch.Tensor | None = None,
    *,
    n_atoms: int | None = None,
    sigma: float | tuple[float, float] = (1.0, 2.0),
    radius: float | None = None,
    seed: int = 0,
    mirror: bool = False,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """An atomic-model oracle: many small 3D Gaussians in a ball, and their exact projections.

    A stand-in for a molecule's density at atomic detail, whose energy reaches far higher
    frequencies than ``gaussian_blobs``: ``n_atoms`` isotropic Gaussians (default
    ``round(150 (D/64)³)``: one per 114 px³ of the ball) at centres ``c_i`` drawn uniformly in
    a ball of radius ``radius`` pixels (default ``D / 4``: a particle of half the box's
    width), amplitudes ``a_i`` uniform in ``[0.5, 1.5]`` and standard deviations ``σ_i``
    uniform in ``sigma = (lo, hi)`` pixels (or all equal to a float ``sigma``), drawn from a
    ``numpy`` generator seeded with ``seed``; ``mirror`` reflects ``x`` (the other hand).
    Returns the volume ``(D, D, D)`` (indexed ``[z, y, x]``, sampled at the voxel centres) and,
    for ``rotations`` ``(..., 3, 3)``, the images ``(..., D, D)``

    .. math:: P(p) = \\sum_i a_i \\sqrt{2\\pi}\\,\\sigma_i
              \\exp\bigl(-|p - (R c_i)_{xy}|^2 / 2\\sigma_i^2\bigr).

    Below ``σ ≈ 1.5`` px a Gaussian is not band-limited on the grid (``7·10⁻³`` of its peak
    at Nyquist for ``σ = 1``): part of any projector's error against these images is then the
    sampling of the volume itself, which no interpolation removes. Both the volume and the
    images are sums of separable terms, evaluated as matrix products (exact, no truncation).
    """
    import numpy as np

    gen = np.random.default_rng(seed)
    radius = D / 4 if radius is None else radius
    n = round(150 * (D / 64) ** 3) if n_atoms is None else n_atoms
    u = gen.standard_normal((n, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    centres = u * radius * gen.uniform(size=(n, 1)) ** (1 / 3)
    if mirror:
        centres[:, 0] = -centres[:, 0]
    amp = gen.uniform(0.5, 1.5, size=n)
    lo, hi = (sigma, sigma) if isinstance(sigma, (int, float)) else sigma
    sig = gen.uniform(lo, hi, size=n) if hi > lo else np.full(n, float(lo))
    C = torch.tensor(centres, dtype=dtype, device=device)
    A = torch.tensor(amp, dtype=dtype, device=device)
    S = torch.tensor(sig, dtype=dtype, device=device)
    r = torch.arange(D, dtype=dtype, device=device) - D // 2

    def gauss(coord: torch.Tensor) -> torch.Tensor:  # (..., n) centres → (..., n, D)
        return torch.exp(-((r - coord[..., None]) ** 2) / (2 * S[:, None] ** 2))

    gx, gy, gz = gauss(C[:, 0]), gauss(C[:, 1]), gauss(C[:, 2])  # (n, D)
    volume = torch.zeros(D, D * D, dtype=dtype, device=device)
    for s in range(0, n, 256):  # V[z, y, x] = Σ a gz[z] gy[y] gx[x], 256 atoms at a time
        j = slice(s, s + 256)
        yx = (gy[j, :, None] * gx[j, None, :]).reshape(-1, D * D)
        volume += (gz[j].T * A[j]) @ yx
    volume = volume.reshape(D, D, D)
    if rotations is None:
        return volume, None
    R, batch = check_rotations(rotations)
    RC = torch.einsum("bij,nj->bni", R.to(dtype=dtype, device=C.device), C)  # (B, n, xyz)
    wy = gauss(RC[..., 1]) * (A * math.sqrt(2 * math.pi) * S)[:, None]  # (B, n, D)
    images = wy.transpose(1, 2) @ gauss(RC[..., 0])  # (B, y, x)
    return volume, images.reshape(*batch, D, D)
