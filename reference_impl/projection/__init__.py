r"""The projection layer of problem set 4, in PyTorch: the forward model of cryo-EM.

Convention (``book/conventions.md``, "Volumes and projections")
-------------------------------------------------------------------
A volume is a ``(D, D, D)`` tensor indexed ``[z, y, x]``, centred at index ``D // 2`` on every
axis; a rotation is a ``(3, 3)`` matrix acting on ``xyz`` column vectors, actively (``(B, 3,
3)`` for a batch; any leading batch shape ``(..., 3, 3)`` is accepted). The projection of
``V`` under ``R`` is the ``(D, D)`` image, indexed ``[y, x]`` and centred at ``D // 2``,

.. math::  P(x, y) = \sum_z V\bigl(R^\mathsf{T} (x, y, z)^\mathsf{T}\bigr),

"rotate the object by ``R``, then integrate along ``z``", so the identity gives
``V.sum(0)``. Odd and even ``D`` both work.

Fourier space
-------------
Fourier transforms are centred like the volume: with ``N`` the size of the (padded) grid and
``r`` the position relative to the centre, :math:`\hat V(k) = \sum_r V(r)\,e^{-2\pi i k\cdot
r/N}` for integer ``k``. A *centred half (rfft) Fourier volume* of size ``N`` is the complex
``(N, N, N // 2 + 1)`` tensor ``F[kz + N // 2, ky + N // 2, kx]`` for ``kx`` in ``[0, N // 2]``
and ``ky, kz`` in ``[-(N // 2), (N - 1) // 2]``. A central slice (``(B, N, N // 2 + 1)``) uses
the same layout for ``(ky, kx)``. Frequencies outside the stored array are zero.

Modules, one per operation (each public function's formula is in its module's docstring)
----------------------------------------------------------------------------------------
* ``real_space``: ``project_real_space``, the definition sampled directly (the oracle).
* ``transform``: ``fourier_volume``, the centred half transform (``pruned_dft``: its two
  exact implementations).
* ``extraction``: ``extract_central_slices``, the Fourier slice theorem's trilinear sampler
  and its autograd ``Function``; ``insertion``: ``insert_central_slices``, its adjoint.
* ``project``: ``project_fourier``, projection through the slice theorem: trilinear
  interpolation (``extraction``), or a non-uniform FFT (``nufft``: an exponential-of-semicircle
  or Kaiser–Bessel kernel, ``kernels``, on a modestly oversampled grid, deapodised).
* ``projector``: ``Projector``, a learnable volume (``torch.nn.Module``).
* ``oracle``: ``gaussian_blobs`` (five smooth Gaussians) and ``gaussian_atoms`` (an
  atomic model: many small ones), with their exact projections.
* Engines of the samplers (trilinear and wide-kernel), one arithmetic each: ``torch_engine``
  (the definition), ``numba_engine`` (+ ``numba_kernels``: fused CPU loops) and
  ``triton_engine`` (CUDA kernels; Triton is optional, and everything works on CPU without
  it).
"""

from .extraction import extract_central_slices
from .insertion import insert_central_slices
from .oracle import gaussian_atoms, gaussian_blobs
from .project import project_fourier
from .projector import Projector
from .real_space import project_real_space
from .transform import fourier_volume

__all__ = [
    "Projector",
    "extract_central_slices",
    "fourier_volume",
    "gaussian_atoms",
    "gaussian_blobs",
    "insert_central_slices",
    "project_fourier",
    "project_real_space",
]
