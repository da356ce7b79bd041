r"""Projection in real space: the definition, and the simple oracle of the Fourier projector.

.. math::  P(x, y) = \sum_z V\bigl(R^\mathsf{T} (x, y, z)^\mathsf{T}\bigr)

"rotate the object by ``R``, then integrate along ``z``", with ``V`` interpolated trilinearly
between its voxels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._checks import check_rotations, check_volume, real_dtype

__all__ = ["project_real_space"]


def project_real_space(
    volume: torch.Tensor, rotations: torch.Tensor, *, max_points: int = 1 << 22
) -> torch.Tensor:
    """Project by trilinear sampling of the rotated grid and a sum along ``z``: the oracle.

    ``volume`` ``(D, D, D)`` indexed ``[z, y, x]``; ``rotations`` ``(..., 3, 3)`` → images
    ``(..., D, D)`` indexed ``[y, x]``. For every pixel ``(x, y)`` and every ``z`` in
    ``[-D//2, D - 1 - D//2]`` the volume is sampled at ``Rᵀ (x, y, z)`` (trilinear, zero outside
    the grid: ``grid_sample`` with ``align_corners=True`` maps index ``i`` to
    ``2 i / (D - 1) - 1``) and the samples are summed along ``z``. Differentiable in both
    arguments through ``grid_sample``. Memory is ``O(B D³)``: the batch is processed in chunks
    of at most ``max_points`` samples.
    """
    D = check_volume(volume)
    R, batch = check_rotations(rotations)
    dt = real_dtype(volume, R)
    vol = volume.to(dt)
    R = R.to(device=vol.device, dtype=dt)
    c = D // 2
    r = torch.arange(D, device=vol.device, dtype=dt) - c
    zz, yy, xx = torch.meshgrid(r, r, r, indexing="ij")
    pts = torch.stack([xx, yy, zz], dim=-1)  # (z, y, x, 3) image-frame xyz
    scale = 2.0 / (D - 1)
    shift = c * scale - 1.0  # index = r + c  →  grid coordinate (r + c)·2/(D-1) - 1
    inp = vol[None, None]
    chunk = max(1, max_points // D**3)
    out = []
    for start in range(0, R.shape[0], chunk):
        Rc = R[start : start + chunk]
        # volume-frame xyz of every sample: Rᵀ p, i.e. p @ R (rows are points)
        grid = torch.einsum("zyxi,bij->bzyxj", pts, Rc) * scale + shift
        s = F.grid_sample(
            inp.expand(1, 1, D, D, D),
            grid.reshape(1, Rc.shape[0] * D, D, D, 3),
            mode="bilinear",
            padding_mode="zeros",
            align_corners=True,
        )
        out.append(s.reshape(Rc.shape[0], D, D, D).sum(1))
    return torch.cat(out).reshape(*batch, D, D)
