"""The storage of a centred half Fourier grid that the slice samplers read (internal).

Every engine (``torch_engine``, ``numba_engine``, ``triton_engine``) reads a ``Grid``: flat
real storage with explicit strides, so that the two transforms of ``transform`` and a user's
half volume can hand their own layouts to one sampler without a copy.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: Zero layers around a stored Fourier grid (see ``Grid``).
BORDER = 2


class Grid:
    """A centred half Fourier grid with ``BORDER`` zero layers around it.

    ``data`` is a contiguous real tensor; the real part of the grid point with integer indices
    ``(ix, iy, iz)`` is ``data.flatten()[ix*sx + iy*sy + iz*sz]`` and its imaginary part sits
    ``im_off`` elements further (``strides = (sx, sy, sz)``); ``hi`` is the largest index
    along ``(x, y, z)``. The point ``q`` (grid units) sits at index
    ``(|qx|, ±qy + off, ±qz + off)`` with ``off = BORDER - kmin``: ``kx`` is stored from 0
    and ``ky, kz`` from ``kmin``. The zero layers make every out-of-range point read zeros,
    with zero derivative, once its coordinates are clamped into the border: no masks.
    """

    def __init__(
        self,
        data: torch.Tensor,
        kmin: int,
        strides: tuple[int, int, int],
        hi: tuple[int, int, int],
        im_off: int,
    ) -> None:
        self.data = data
        self.kmin = kmin
        self.strides = strides
        self.hi = hi
        self.im_off = im_off

    @property
    def off(self) -> int:
        return BORDER - self.kmin


def bordered_zyx(half: torch.Tensor, kmin: int) -> Grid:
    """A complex ``[z, y, x]`` half volume (autograd-tracked) as a bordered ``Grid``.

    Layout ``(Lz, Ly, 2, Lx)``: each ``x`` row is stored as its real then imaginary parts.
    """
    b = BORDER
    rows = torch.view_as_real(half).transpose(-1, -2)  # (Nz, Ny, 2, Nx)
    data = F.pad(rows, (0, b, 0, 0, b, b, b, b)).contiguous()
    Lz, Ly, _, Lx = data.shape
    return Grid(data, kmin, (1, 2 * Lx, 2 * Lx * Ly), (Lx - 1, Ly - 1, Lz - 1), Lx)


def slice_freqs(N: int, dt: torch.dtype, device: torch.device | str) -> torch.Tensor:
    """``(kx, ky)`` of the centred half-slice layout ``[ky + N // 2, kx]``, flattened:
    ``(N · (N // 2 + 1), 2)``."""
    ky = torch.arange(N, device=device, dtype=dt) - N // 2
    kx = torch.arange(N // 2 + 1, device=device, dtype=dt)
    g = torch.stack(torch.meshgrid(kx, ky, indexing="xy"), -1)  # (ky, kx, 2)
    return g.reshape(-1, 2)


class PeriodicGrid:
    """The half transform of a volume zero-padded to ``N``, with a periodic Hermitian border.

    ``data`` ``(Lz, Ly, Lx, 2)`` real, contiguous: complex values (real and imaginary parts
    side by side), ``x`` fastest; ``strides = (1, Lx, Lx Ly)`` in complex elements. It holds
    the grid point ``k`` for ``kx`` in ``[-b, N // 2 + b]`` and ``ky, kz`` in
    ``[-(N // 2) - b, N // 2 + b]``, at index ``(kx + b, ky + N // 2 + b, kz + N // 2 + b)``:
    the transform is periodic (period ``N``) and Hermitian, so every ``k`` there is a stored
    value or the conjugate of one. A kernel of width ``w ≤ 2 b`` centred at any point with
    ``qx`` in ``[0, N/2]`` and ``qy, qz`` in ``[-N/2, N/2]`` reads only stored nodes.
    """

    def __init__(self, data: torch.Tensor, N: int, b: int) -> None:
        self.data = data
        self.N = N
        self.b = b
        Lz, Ly, Lx, _ = data.shape
        self.strides = (1, Lx, Lx * Ly)
        self.shape = (Lx, Ly, Lz)

    @property
    def offsets(self) -> tuple[int, int, int]:
        """Index of ``k = 0`` along ``(x, y, z)``."""
        return (self.b, self.N // 2 + self.b, self.N // 2 + self.b)
