"""``Projector``: a learnable volume that renders a batch of rotations (``torch.nn.Module``)."""

from __future__ import annotations

from typing import Any

import torch

from ._checks import check_volume
from .project import project_fourier
from .real_space import project_real_space

__all__ = ["Projector"]


class Projector(torch.nn.Module):
    """A learnable volume that renders a batch of rotations.

    ``Projector(D)`` (or ``Projector(initial_volume)``) holds ``volume`` ``(D, D, D)`` as a
    parameter; ``forward(rotations (..., 3, 3)) → (..., D, D)`` with ``project_fourier`` (the
    keyword arguments are passed on: ``Projector(D, width=6)`` renders in the high-accuracy
    mode, ``Projector(D, kernel="trilinear", pad=2)`` with the scheme of problem set 4) or,
    with ``method="real"``, ``project_real_space``.
    """

    def __init__(
        self,
        volume: int | torch.Tensor,
        *,
        method: str = "fourier",
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
        **settings: Any,
    ) -> None:
        super().__init__()
        if isinstance(volume, int):
            init = torch.zeros(volume, volume, volume, dtype=dtype, device=device)
        else:
            init = volume.detach().clone().to(dtype=dtype or volume.dtype, device=device)
        check_volume(init)
        if method not in ("fourier", "real"):
            raise ValueError("method must be 'fourier' or 'real'")
        self.volume = torch.nn.Parameter(init)
        self.method = method
        self.settings = settings

    def forward(self, rotations: torch.Tensor) -> torch.Tensor:
        if self.method == "real":
            return project_real_space(self.volume, rotations)
        return project_fourier(self.volume, rotations, **self.settings)

    def extra_repr(self) -> str:
        return f"D={self.volume.shape[0]}, method={self.method!r}, settings={self.settings}"
