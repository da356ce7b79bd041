r"""The projection layer of problem set 4, in PyTorch: the forward model of cryo-EM.

Convention (``book/conventions.md``, "Volumes and projections")
-------------------------------------------------------------------
A volume is a ``(D, D, D)`` tensor indexed ``[z, y, x]``, centred at index ``D // 2`` on every
axis; a rotation is a ``(3, 3)`` matrix acting on ``xyz`` column vectors (``(B, 3, 3)`` for a
batch; any leading batch shape ``(..., 3, 3)`` is accepted). The projection of ``V`` under ``R``
is the ``(D, D)`` image, indexed ``[y, x]`` and centred at ``D // 2``,

.. math::  P(x, y) = \sum_z V\bigl(R^\mathsf{T} (x, y, z)^\mathsf{T}\bigr),

"rotate the object by ``R``, then integrate along ``z``", so the identity gives
``V.sum(0)``. Odd and even ``D`` both work.

Fourier space
-------------
Fourier transforms are centred like the volume: with ``N`` the size of the (padded) grid and
``r`` the position relative to the centre, :math:`\hat V(k) = \sum_r V(r)\,e^{-2\pi i k\cdot
r/N}` for integer ``k``. A *centred half (rfft) Fourier volume* of size ``N`` is the complex
``(N, N, N // 2 + 1)`` tensor ``F[kz + N // 2, ky + N // 2, kx]`` for ``kx`` in ``[0, N // 2]``
and ``ky, kz`` in ``[-(N // 2), (N - 1) // 2]`` — ``torch.fft.rfftn`` of the
``ifftshift``-ed volume, ``fftshift``-ed over ``z`` and ``y``. The missing half follows from
Friedel symmetry of a real volume, :math:`\hat V(-k) = \overline{\hat V(k)}`. A central slice
(``(B, N, N // 2 + 1)``) uses the same layout for ``(ky, kx)``. Frequencies outside the stored
array are zero.

Identities used
---------------
* **Fourier slice theorem** (Bracewell 1956; cryoDRGN, Zhong et al. 2021, §2; cryoAI, Levy et
  al. 2022, supplementary C; Lian et al. 2022, §2.7): the 2D transform of ``P`` is the central
  slice :math:`\hat P(k_x, k_y) = \hat V\bigl(R^\mathsf{T}(k_x, k_y, 0)^\mathsf{T}\bigr) =
  \hat V(k_x R_{0,:} + k_y R_{1,:})` — the slice through the volume's transform spanned by the
  first two *rows* of ``R``. (torch-fourier-slice samples :math:`\hat V(R k)`: pass ``Rᵀ`` to it.)
* **Trilinear interpolation and Friedel symmetry**: the slice is sampled from the half volume
  by trilinear interpolation; a point with ``x < 0`` is read as the conjugate of the value at
  ``-q``, which is *exactly* the trilinear interpolation of the full Hermitian volume (the
  eight neighbours of ``-q`` are the negatives of those of ``q``, with the same weights).
* **Adjoint**: extraction is real-linear (the Friedel half conjugates), so its adjoint is taken
  with respect to the real inner product :math:`\mathrm{Re}\langle a, b\rangle` — the one
  autograd uses. It is trilinear *insertion*: every sample is spread onto its eight
  neighbours with the same weights (conjugated on the Friedel half). ``insert_central_slices``
  is that operator and the backward of ``extract_central_slices``.
* **Gradient for the rotations**: with :math:`q = k_x R_{0,:} + k_y R_{1,:}`,
  :math:`\partial L/\partial R_{0,j} = \sum k_x\,\partial L/\partial q_j` and
  :math:`\partial L/\partial R_{1,j} = \sum k_y\,\partial L/\partial q_j`, and
  :math:`\partial L/\partial q` is the exact derivative of the trilinear interpolant (the
  differences of neighbouring grid values, weighted). The third row gets zero gradient.
* **sinc² correction**: trilinear interpolation of the transform of a grid of size ``N``
  multiplies the volume, in real space, by the transform of the tent kernel,
  :math:`\mathrm{sinc}^2(x/N)\,\mathrm{sinc}^2(y/N)\,\mathrm{sinc}^2(z/N)` (separable, not
  radial; ``sinc(t) = sin(πt)/(πt)``). ``project_fourier`` divides the volume by it before the
  transform. What remains is the leakage of the periodic replicas of the volume, of relative
  weight about :math:`(r/N)^2`: it falls with the padding ``N / D``.
* **Nyquist planes**: for an even grid the planes ``k = -N/2`` have no ``+N/2`` partner: the
  stored transform is not Hermitian there, and the Nyquist row and column of an even image
  have no partner either (kept, they give the complex image an imaginary part of several per
  cent; ``irfft2`` would silently drop it). ``project_fourier`` and ``fourier_volume`` leave
  them all out (zero). Reading the Friedel half as a conjugate makes every other sample pair
  ``S(-k) = conj S(k)`` exactly.

``project_fourier`` oversamples only where it is needed
-------------------------------------------------------
The interpolation error at a frequency is the local curvature of :math:`\hat V` there (the
relative error is about the same at every frequency), so in absolute terms it follows the
spectrum, which for molecules is concentrated at low frequencies. ``project_fourier`` therefore
samples frequencies below ``cutoff`` (cycles/pixel) from a finely padded transform (``pad``,
computed only up to ``cutoff``, as a small cube, by three real matrix products: ``_SymDFT``)
and the rest from the unpadded one (``pad_outer``, by FFTs). The image is assembled on a
``round(image_pad · D)`` grid and cropped. With ``cutoff=None`` every frequency uses ``pad``
(the classic scheme of torch-fourier-slice and RELION).

Public names: ``project_real_space`` (the simple oracle), ``fourier_volume``,
``extract_central_slices``, ``insert_central_slices``, ``project_fourier``, ``Projector`` and
``gaussian_blobs`` (the analytic oracle of the tests and the benchmark).
On CUDA the slice sampler runs as a Triton kernel (``reference_impl.projection_triton``) when
Triton is installed; everything works on CPU without it.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import torch
import torch.nn.functional as F

from reference_impl import projection_numba as pn

__all__ = [
    "Projector",
    "extract_central_slices",
    "fourier_volume",
    "gaussian_blobs",
    "insert_central_slices",
    "project_fourier",
    "project_real_space",
]

_BORDER = 2  # zero layers around a stored Fourier grid (see _Grid)


# ----------------------------------------------------------------------------- input checks


def _real_dtype(*tensors: torch.Tensor) -> torch.dtype:
    for t in tensors:
        if not (t.is_floating_point() or t.is_complex()):
            raise TypeError(f"expected float32 or float64 tensors; got {t.dtype}")
    dt = functools.reduce(torch.promote_types, [t.dtype for t in tensors])
    if dt.is_complex:
        dt = torch.float64 if dt == torch.complex128 else torch.float32
    if dt not in (torch.float32, torch.float64):
        raise TypeError(f"expected float32 or float64 tensors; got {dt}")
    return dt


def _complex_of(dt: torch.dtype) -> torch.dtype:
    return torch.complex128 if dt == torch.float64 else torch.complex64


def _check_rotations(rotations: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """``(..., 3, 3)`` → ``(B, 3, 3)`` and the leading batch shape."""
    if not isinstance(rotations, torch.Tensor):
        raise TypeError("rotations must be a torch.Tensor of shape (..., 3, 3)")
    if rotations.ndim < 2 or rotations.shape[-2:] != (3, 3):
        raise ValueError(f"rotations must have shape (..., 3, 3); got {tuple(rotations.shape)}")
    batch = tuple(rotations.shape[:-2])
    return rotations.reshape(-1, 3, 3), batch


def _check_volume(volume: torch.Tensor) -> int:
    if not isinstance(volume, torch.Tensor):
        raise TypeError("volume must be a torch.Tensor of shape (D, D, D)")
    if volume.ndim != 3 or len(set(volume.shape)) != 1:
        raise ValueError(f"volume must have shape (D, D, D); got {tuple(volume.shape)}")
    if volume.is_complex():
        raise TypeError("volume must be real (float32 or float64)")
    D = volume.shape[0]
    if D < 2:
        raise ValueError("volume must be at least 2 voxels wide")
    return D


# ----------------------------------------------------------------------------- real space


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
    D = _check_volume(volume)
    R, batch = _check_rotations(rotations)
    dt = _real_dtype(volume, R)
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


# ----------------------------------------------------------------------------- Fourier grids


class _Grid:
    """A centred half Fourier grid with ``_BORDER`` zero layers around it.

    ``data`` is a contiguous real tensor; the real part of the grid point with integer indices
    ``(ix, iy, iz)`` is ``data.flatten()[ix*sx + iy*sy + iz*sz]`` and its imaginary part sits
    ``im_off`` elements further (``strides = (sx, sy, sz)``); ``hi`` is the largest index
    along ``(x, y, z)``. The point ``q`` (grid units) sits at index
    ``(|qx|, ±qy + off, ±qz + off)`` with ``off = _BORDER - kmin``: ``kx`` is stored from 0
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
        return _BORDER - self.kmin


def _bordered_zyx(half: torch.Tensor, kmin: int) -> _Grid:
    """A complex ``[z, y, x]`` half volume (autograd-tracked) as a bordered ``_Grid``.

    Layout ``(Lz, Ly, 2, Lx)``: each ``x`` row is stored as its real then imaginary parts.
    """
    b = _BORDER
    rows = torch.view_as_real(half).transpose(-1, -2)  # (Nz, Ny, 2, Nx)
    data = F.pad(rows, (0, b, 0, 0, b, b, b, b)).contiguous()
    Lz, Ly, _, Lx = data.shape
    return _Grid(data, kmin, (1, 2 * Lx, 2 * Lx * Ly), (Lx - 1, Ly - 1, Lz - 1), Lx)


@functools.lru_cache(maxsize=64)
def _inv_sinc2(D: int, N: int, dt: torch.dtype, device: str) -> torch.Tensor:
    """``1 / (sinc²(x/N) sinc²(y/N) sinc²(z/N))`` on the ``(D, D, D)`` volume grid."""
    r = (torch.arange(D, dtype=torch.float64) - D // 2) / N
    s = 1 / torch.sinc(r) ** 2
    return (s[:, None, None] * s[None, :, None] * s[None, None, :]).to(device=device, dtype=dt)


# The transform: two exact implementations of one linear map -------------------------------
#
#   v (D, D, D) real  ↦  F(k) = Σ_r a(r) v(r) exp(-2πi k·r / N),   |kx|, |ky|, |kz| ≤ K, kx ≥ 0,
#
# with r relative to the centre D // 2 (the volume zero-padded to N, implicitly) and a the
# separable 1/sinc² correction (or 1). Only |k| ≤ K is computed: the inner level of
# project_fourier needs a small cube of a finely padded transform.


def _eo_split(x: torch.Tensor, d: int, c: int, rotate: bool) -> torch.Tensor:
    """Even and odd parts of ``x`` about index ``c`` along dim ``d``, stacked: ``2(c+1)`` long.

    ``E[r] = x[c+r] + x[c-r]`` and ``O[r] = x[c+r] - x[c-r]`` for ``r = 0..c`` (a missing
    ``x[c+r]``, the last one for even sizes, is 0). ``rotate``: the odd part is multiplied by
    ``-i`` (dim ``-2`` holds real and imaginary parts), so that one real product
    ``[C | S] @ [E; -iO]`` gives ``C E - i S O``, the DFT.
    """
    D = x.shape[d]
    nr = D - c
    shape = list(x.shape)
    shape[d] = 2 * (c + 1)
    z = x.new_empty(shape)
    ze, zo = z.narrow(d, 0, c + 1), z.narrow(d, c + 1, c + 1)
    left = x.narrow(d, 0, c + 1).flip(d)
    right = x.narrow(d, c, nr)
    ze.copy_(left)
    ze.narrow(d, 0, nr).add_(right)
    if rotate:
        o = left.neg()
        o.narrow(d, 0, nr).add_(right)
        zo.select(-2, 0).copy_(o.select(-2, 1))
        torch.neg(o.select(-2, 0), out=zo.select(-2, 1))
    else:
        torch.neg(left, out=zo)
        zo.narrow(d, 0, nr).add_(right)
    return z


def _eo_merge(g: torch.Tensor, d: int, c: int, D: int, rotate: bool) -> torch.Tensor:
    """The adjoint of ``_eo_split``: ``2(c+1)`` long along ``d`` → ``D`` long."""
    nr = D - c
    ge, go = g.narrow(d, 0, c + 1), g.narrow(d, c + 1, c + 1)
    if rotate:  # adjoint of (re, im) ↦ (im, -re) is (a, b) ↦ (-b, a)
        go = torch.stack([go.select(-2, 1).neg(), go.select(-2, 0)], -2)
    shape = list(g.shape)
    shape[d] = D
    out = g.new_empty(shape)
    right = (ge + go).narrow(d, 0, nr)
    out.narrow(d, 0, c + 1).copy_((ge - go).flip(d))  # x[c - r] for r = 0..c
    out.narrow(d, c + 1, nr - 1).copy_(right.narrow(d, 1, nr - 1))  # x[c + r], r ≥ 1
    out.narrow(d, c, 1).add_(right.narrow(d, 0, 1))  # x[c] is in both
    return out


@functools.lru_cache(maxsize=64)
def _dft_matrices(
    D: int, N: int, K: int, sinc2: bool, dt: torch.dtype, device: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Matrices of ``_SymDFT``: ``-S₊``, ``C₊`` ``(Lx, c+1)`` and ``W = [C | S]`` ``(L, 2(c+1))``.

    With ``r = 0..c`` (``c = D // 2``) and ``k = -K-B..K+B``: ``C[k, r] = a(r) cos(2πkr/N)``
    (halved at ``r = 0``, which the even part counts twice), ``S[k, r] = a(r) sin(2πkr/N)``,
    ``a = 1/sinc²(r/N)`` or 1; rows ``|k| > K`` are zero, so that the products write the zero
    border of the grid directly. ``F = C E + S (-i O)`` (``_eo_split`` rotates ``O``); for the
    real input of the first pass ``Re F = C₊ E`` and ``Im F = -S₊ O`` over ``k ≥ 0``.
    """
    b = _BORDER
    c = D // 2
    r = torch.arange(c + 1, dtype=torch.float64)
    a = 1 / torch.sinc(r / N) ** 2 if sinc2 else torch.ones_like(r)
    half = torch.ones_like(r)
    half[0] = 0.5
    k = torch.arange(-K - b, K + b + 1, dtype=torch.float64)
    ang = (2 * math.pi / N) * torch.remainder(k[:, None] * r[None, :], N)
    live = (k.abs() <= K).to(torch.float64)[:, None]
    C = torch.cos(ang) * a * half * live
    S = torch.sin(ang) * a * live
    pos = K + b  # row of k = 0
    mats = (-S[pos:], C[pos:], torch.cat([C, S], 1))
    return tuple(m.to(device=device, dtype=dt).contiguous() for m in mats)  # type: ignore[return-value]


class _SymDFT(torch.autograd.Function):
    """The pruned centred transform by real matrix products (even/odd symmetric).

    ``v`` ``(D, D, D)`` real → the bordered grid ``(L, L, 2, Lx)`` (``[kz, ky, re/im, kx]``,
    ``L = 2K + 1 + 2B``, ``Lx = K + 1 + B``). Each pass splits the data into even and odd
    parts about the centre (``_eo_split``) — a cosine and a sine transform of half the length,
    half the work of a direct DFT — and multiplies by ``W = [C | S]`` (y, then z) on
    contiguous data; the first pass, on real data, needs ``kx ≥ 0`` only. The sinc²
    correction, the centring phase and the zero border live in the matrices. ``O(K D³)``: for
    the inner level of ``project_fourier`` (``K ≪ N/2``) faster than FFTs, which transform
    the whole padded axis. Backward: the transposed products (exact adjoint).
    """

    @staticmethod
    def forward(
        ctx: Any, v: torch.Tensor, Sn: torch.Tensor, C: torch.Tensor, W: torch.Tensor
    ) -> torch.Tensor:
        D = v.shape[0]
        c = D // 2
        L, Lx = W.shape[0], C.shape[0]
        z1 = _eo_split(v, 2, c, False).view(D * D, 2 * (c + 1))
        a1 = v.new_empty(D * D, 2, Lx)
        torch.mm(z1[:, : c + 1], C.T, out=a1[:, 0])  # Re F = C E
        torch.mm(z1[:, c + 1 :], Sn.T, out=a1[:, 1])  # Im F = -S O
        z2 = _eo_split(a1.view(D, D, 2, Lx), 1, c, True).view(D, 2 * (c + 1), 2 * Lx)
        a2 = torch.matmul(W, z2).view(D, L, 2, Lx)
        z3 = _eo_split(a2, 0, c, True).view(2 * (c + 1), L * 2 * Lx)
        ctx.save_for_backward(Sn, C, W)
        ctx.D = D
        return torch.matmul(W, z3).view(L, L, 2, Lx)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, g: torch.Tensor) -> Any:
        Sn, C, W = ctx.saved_tensors
        D = ctx.D
        c = D // 2
        L, Lx = W.shape[0], C.shape[0]
        g3 = torch.matmul(W.T, g.reshape(L, L * 2 * Lx)).view(2 * (c + 1), L, 2, Lx)
        g2 = torch.matmul(W.T, _eo_merge(g3, 0, c, D, True).view(D, L, 2 * Lx))
        g1 = _eo_merge(g2.view(D, 2 * (c + 1), 2, Lx), 1, c, D, True).view(D * D, 2, Lx)
        gz = g.new_empty(D * D, 2 * (c + 1))
        torch.mm(g1[:, 0], C, out=gz[:, : c + 1])
        torch.mm(g1[:, 1], Sn, out=gz[:, c + 1 :])
        return _eo_merge(gz.view(D, D, 2 * (c + 1)), 2, c, D, False), None, None, None


class _PrunedFFT(torch.autograd.Function):
    """The same map by FFTs: ``v`` (times ``scale``) → planar ``(2, Lx, L, L)`` ``[x, y, z]``.

    Three passes of 1D FFTs along the contiguous last axis; each pass places the data with
    the origin at index 0 (the zero padding and the centring are a copy), transposes on the
    way, and keeps only ``|k| ≤ K``. ``O(K N² log N)``: used for large grids. Backward: the
    same passes in reverse with unnormalised inverse FFTs (exact adjoint).
    """

    @staticmethod
    def forward(
        ctx: Any, v: torch.Tensor, scale: torch.Tensor | None, N: int, K: int
    ) -> torch.Tensor:
        D = v.shape[0]
        c = D // 2
        e = D - c
        b = _BORDER
        cdt = _complex_of(v.dtype)
        b1 = v.new_zeros(D, D, N)  # pass 1: x (real → half spectrum)
        if scale is None:
            b1[..., :e] = v[..., c:]
            b1[..., N - c :] = v[..., :c]
        else:
            torch.mul(v[..., c:], scale[..., c:], out=b1[..., :e])
            torch.mul(v[..., :c], scale[..., :c], out=b1[..., N - c :])
        a1 = torch.fft.rfft(b1, dim=2)[..., : K + 1]  # (z, y, kx)
        b2 = v.new_zeros(D, K + 1, N, dtype=cdt)  # pass 2: y
        b2[..., :e] = a1[:, c:, :].transpose(1, 2)
        b2[..., N - c :] = a1[:, :c, :].transpose(1, 2)
        a2 = torch.fft.fft(b2, dim=2)  # (z, kx, ky mod N)
        b3 = v.new_zeros(K + 1, 2 * K + 1, N, dtype=cdt)  # pass 3: z; ky = -K..K → rows
        for zs, zd in ((slice(c, D), slice(0, e)), (slice(0, c), slice(N - c, N))):
            b3[:, :K, zd] = a2[zs, :, N - K :].permute(1, 2, 0)
            b3[:, K:, zd] = a2[zs, :, : K + 1].permute(1, 2, 0)
        a3 = torch.view_as_real(torch.fft.fft(b3, dim=2)).permute(3, 0, 1, 2)  # (2, kx, ky, kz)
        out = v.new_zeros(2, K + 1 + b, 2 * K + 1 + 2 * b, 2 * K + 1 + 2 * b)
        inner = out[:, : K + 1, b : b + 2 * K + 1]
        inner[..., b : b + K] = a3[..., N - K :]
        inner[..., b + K : b + 2 * K + 1] = a3[..., : K + 1]
        ctx.save_for_backward(scale)
        ctx.dims = (D, N, K)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, gp: torch.Tensor) -> Any:
        (scale,) = ctx.saved_tensors
        D, N, K = ctx.dims
        c = D // 2
        e = D - c
        b = _BORDER
        cdt = _complex_of(gp.dtype)
        gp = gp[:, : K + 1, b : b + 2 * K + 1, b : b + 2 * K + 1]
        h3 = gp.new_zeros(K + 1, 2 * K + 1, N, dtype=cdt)
        h3r = torch.view_as_real(h3).permute(3, 0, 1, 2)
        h3r[..., N - K :] = gp[..., :K]
        h3r[..., : K + 1] = gp[..., K:]
        t3 = torch.fft.ifft(h3, dim=2, norm="forward")  # adjoint of the unnormalised DFT
        h2 = gp.new_zeros(D, K + 1, N, dtype=cdt)
        for zs, zd in ((slice(c, D), slice(0, e)), (slice(0, c), slice(N - c, N))):
            h2[zs, :, N - K :] = t3[:, :K, zd].permute(2, 0, 1)
            h2[zs, :, : K + 1] = t3[:, K:, zd].permute(2, 0, 1)
        t2 = torch.fft.ifft(h2, dim=2, norm="forward")  # (z, kx, y)
        h1 = gp.new_zeros(D, D, N // 2 + 1, dtype=cdt)
        h1[:, c:, : K + 1] = t2[..., :e].transpose(1, 2)
        h1[:, :c, : K + 1] = t2[..., N - c :].transpose(1, 2)
        h1[..., 0] *= 2  # irfft counts k = 0 once and every other k twice
        t1 = torch.fft.irfft(h1, n=N, dim=2, norm="forward")
        gv = t1.new_empty(D, D, D)
        gv[..., c:] = t1[..., :e]
        gv[..., :c] = t1[..., N - c :]
        gv *= 0.5
        if scale is not None:
            gv *= scale
        return gv, None, None, None


def _fourier_grid(v: torch.Tensor, N: int, K: int, sinc2: bool, method: str = "auto") -> _Grid:
    """The bordered centred half transform of ``v`` padded to ``N``, for ``|k| ≤ K``."""
    D = v.shape[0]
    if method == "auto":  # matrix products when only a small cube of the N-grid is needed
        method = "fft" if 3 * K > N else "matmul"
    if method == "matmul":
        Sn, C, W = _dft_matrices(D, N, K, sinc2, v.dtype, str(v.device))
        data = _SymDFT.apply(v, Sn, C, W)
        L, _, _, Lx = data.shape
        return _Grid(data, -K, (1, 2 * Lx, 2 * Lx * L), (Lx - 1, L - 1, L - 1), Lx)
    scale = _inv_sinc2(D, N, v.dtype, str(v.device)) if sinc2 else None
    data = _PrunedFFT.apply(v, scale, N, K)
    _, Lx, L, _ = data.shape
    return _Grid(data, -K, (L * L, L, 1), (Lx - 1, L - 1, L - 1), Lx * L * L)


def fourier_volume(volume: torch.Tensor, pad: float = 1.0, *, sinc2: bool = False) -> torch.Tensor:
    """Centred half (rfft) Fourier volume of ``volume`` zero-padded to ``N = round(pad·D)``.

    ``volume`` ``(D, D, D)`` real → ``(N, N, N // 2 + 1)`` complex, laid out as described in
    the module docstring (the input's centre ``D // 2`` goes to the padded centre ``N // 2``).
    The Nyquist planes of an even ``N`` are zero. ``sinc2=True`` divides the volume by the
    separable sinc² of trilinear interpolation on this grid first. Differentiable.
    """
    D = _check_volume(volume)
    N = max(D, round(pad * D))
    K = (N - 1) // 2
    b = _BORDER
    grid = _fourier_grid(volume, N, K, sinc2)
    if grid.data.ndim == 4 and grid.data.shape[2] == 2:  # _SymDFT: (kz, ky, re/im, kx)
        rows = grid.data[b:-b, b:-b, :, : K + 1]
        X = torch.complex(rows[:, :, 0], rows[:, :, 1])
    else:  # _PrunedFFT: (re/im, kx, ky, kz)
        planes = grid.data[:, : K + 1, b:-b, b:-b]
        X = torch.complex(planes[0], planes[1]).permute(2, 1, 0)
    lo = N // 2 - K  # 1 for even N (the Nyquist plane stays zero), 0 for odd N
    return F.pad(X, (0, N // 2 - K, lo, 0, lo, 0))


# ----------------------------------------------------------------------------- the sampler


def _corner_offsets(strides: tuple[int, int, int], device: torch.device) -> torch.Tensor:
    sx, sy, sz = strides
    o = [dz * sz + dy * sy + dx * sx for dz in (0, 1) for dy in (0, 1) for dx in (0, 1)]
    return torch.tensor(o, device=device, dtype=torch.int64)


class _Located:
    """Where ``B × n`` samples fall, corner-major: indices and weights ``(8, B·n)``.

    The corners are ordered ``(dz, dy, dx)``; ``frac`` ``(B, 3, n)`` holds the fractional
    coordinates ``(x, y, z)`` and ``sgn`` ``(B, 1, n)`` is −1 where the point was reflected.
    Every operation runs on long contiguous rows (structure of arrays), which is what keeps
    the index arithmetic fast on a CPU.
    """

    def __init__(self, grid: _Grid, rotations: torch.Tensor, freqs: torch.Tensor) -> None:
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
        self.idx = base + _corner_offsets(grid.strides, dev).view(8, 1)  # (8, B·n)
        w = torch.stack([1 - frac, frac])  # (2, B, 3, n)
        wx, wy, wz = w[:, :, 0], w[:, :, 1], w[:, :, 2]
        self.w = (wz[:, None, None] * wy[None, :, None] * wx[None, None, :]).view(8, B * n)
        self.frac = frac
        self.sgn = sgn
        self.shape = (B, n)


def _planes(flat: torch.Tensor, im_off: int) -> tuple[torch.Tensor, torch.Tensor]:
    return flat, flat.narrow(0, im_off, flat.numel() - im_off)


def _sample_forward(
    grid: _Grid, loc: _Located
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """Planar samples ``(2, B, n)`` and the gathered corner values ``(8, B·n)`` (re, im)."""
    re, im = _planes(grid.data.reshape(-1), grid.im_off)
    flat = loc.idx.reshape(-1)
    vre = re.index_select(0, flat).view_as(loc.w)
    vim = im.index_select(0, flat).view_as(loc.w)
    out = torch.stack([(loc.w * vre).sum(0), (loc.w * vim).sum(0)]).view(2, *loc.shape)
    out[1] *= loc.sgn.squeeze(1)  # conjugate on the Friedel half
    return out, (vre, vim)


def _sample_backward(
    grad: torch.Tensor,
    grid: _Grid,
    loc: _Located,
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
        re, im = _planes(g_data, grid.im_off)
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


class _SampleSlices(torch.autograd.Function):
    """``(data, rotations (B, 3, 3), freqs (n, 2), grid) → (2, B, n)`` planar samples.

    ``freqs`` holds ``(kx, ky)`` image frequencies in grid units; sample ``i`` of rotation
    ``b`` is the trilinear interpolation of the Hermitian volume at ``kx R[b,0] + ky R[b,1]``.
    Backward: trilinear insertion for ``data`` (the exact adjoint) and the analytic gradient
    for ``rotations``. ``data`` is ``grid.data``, passed separately for autograd.
    """

    @staticmethod
    def forward(
        ctx: Any, data: torch.Tensor, rotations: torch.Tensor, freqs: torch.Tensor, grid: _Grid
    ) -> torch.Tensor:
        ctx.grid = grid
        ctx.triton = data.is_cuda and _triton_ok()
        if ctx.triton:
            from . import projection_triton as pt

            ctx.save_for_backward(rotations, freqs)
            return pt.sample_slices(grid, rotations, freqs)
        ctx.numba = pn.usable(data, rotations.shape[0] * freqs.shape[0])
        if ctx.numba:  # the same arithmetic, fused and on every core
            ctx.save_for_backward(rotations, freqs)
            return pn.sample_slices(grid, rotations, freqs)
        loc = _Located(grid, rotations, freqs)
        out, vals = _sample_forward(grid, loc)
        ctx.loc = loc
        ctx.vals = vals if ctx.needs_input_grad[1] else None
        ctx.save_for_backward(freqs)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        need_data, need_rot = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if ctx.triton:
            from . import projection_triton as pt

            rotations, freqs = ctx.saved_tensors
            gd, gr = pt.sample_slices_backward(
                grad.contiguous(), ctx.grid, rotations, freqs, need_data, need_rot
            )
            return gd, gr, None, None
        if ctx.numba:
            rotations, freqs = ctx.saved_tensors
            gd, gr = pn.sample_slices_backward(
                grad.contiguous(), ctx.grid, rotations, freqs, need_data, need_rot
            )
            return gd, gr, None, None
        (freqs,) = ctx.saved_tensors
        gd, gr = _sample_backward(
            grad.contiguous(), ctx.grid, ctx.loc, ctx.vals, freqs, need_data, need_rot
        )
        return gd, gr, None, None


@functools.cache
def _triton_ok() -> bool:
    try:
        from . import projection_triton as pt
    except Exception:  # pragma: no cover - triton missing or broken
        return False
    return bool(pt.AVAILABLE)


def _sample(grid: _Grid, rotations: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    """Planar samples ``(2, B, n)``."""
    return _SampleSlices.apply(grid.data, rotations, freqs, grid)


def _slice_freqs(N: int, dt: torch.dtype, device: torch.device) -> torch.Tensor:
    """``(kx, ky)`` of the centred half-slice layout ``[ky + N // 2, kx]``, flattened."""
    ky = torch.arange(N, device=device, dtype=dt) - N // 2
    kx = torch.arange(N // 2 + 1, device=device, dtype=dt)
    g = torch.stack(torch.meshgrid(kx, ky, indexing="xy"), -1)  # (ky, kx, 2)
    return g.reshape(-1, 2)


def _check_half(volume_ft: torch.Tensor) -> int:
    if volume_ft.ndim != 3 or not volume_ft.is_complex():
        raise ValueError("volume_ft must be a complex (N, N, N // 2 + 1) tensor")
    N = volume_ft.shape[0]
    if volume_ft.shape != (N, N, N // 2 + 1):
        raise ValueError(f"volume_ft must have shape (N, N, N // 2 + 1); got {volume_ft.shape}")
    return N


def extract_central_slices(volume_ft: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
    """Central slices of a centred half Fourier volume, by trilinear interpolation.

    ``volume_ft`` ``(N, N, N // 2 + 1)`` complex64/complex128 (layout in the module
    docstring), ``rotations`` ``(..., 3, 3)`` → ``(..., N, N // 2 + 1)`` complex, the slice
    ``S[ky + N // 2, kx] = V̂(kx R[0] + ky R[1])`` with the missing half read through Friedel
    symmetry and zero outside the stored frequencies. A ``torch.autograd.Function``: backward
    is ``insert_central_slices`` (the exact adjoint) for the volume and the analytic trilinear
    gradient for the rotations.
    """
    N = _check_half(volume_ft)
    R, batch = _check_rotations(rotations)
    dt = _real_dtype(volume_ft, R)
    data = volume_ft.to(_complex_of(dt))
    R = R.to(device=data.device, dtype=dt)
    grid = _bordered_zyx(data, -(N // 2))
    out = _sample(grid, R, _slice_freqs(N, dt, data.device))
    return torch.complex(out[0], out[1]).reshape(*batch, N, N // 2 + 1)


def _insert(S: torch.Tensor, R: torch.Tensor, D: int) -> torch.Tensor:
    """Trilinear insertion of ``S`` ``(B, D·(D//2+1))`` complex into a ``(D, D, D//2+1)`` grid."""
    b = _BORDER
    grid = _bordered_zyx(S.new_zeros(D, D, D // 2 + 1), -(D // 2))
    freqs = _slice_freqs(D, R.dtype, S.device)
    planar = torch.view_as_real(S).permute(2, 0, 1).contiguous()  # (2, B, n)
    if S.is_cuda and _triton_ok():
        from . import projection_triton as pt

        gd, _ = pt.sample_slices_backward(planar, grid, R, freqs, True, False)
    elif pn.usable(grid.data, R.shape[0] * freqs.shape[0]):
        gd, _ = pn.sample_slices_backward(planar, grid, R, freqs, True, False)
    else:
        loc = _Located(grid, R, freqs)
        gd, _ = _sample_backward(planar, grid, loc, None, freqs, True, False)
    assert gd is not None
    gd = gd[b : b + D, b : b + D, :, : D // 2 + 1]
    return torch.complex(gd[:, :, 0], gd[:, :, 1])


class _InsertSlices(torch.autograd.Function):
    """Insertion as an autograd ``Function``: its backward (for the slices) is extraction."""

    @staticmethod
    def forward(ctx: Any, S: torch.Tensor, R: torch.Tensor, D: int) -> torch.Tensor:
        ctx.save_for_backward(R)
        ctx.shape = S.shape
        return _insert(S, R, D)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, g: torch.Tensor) -> Any:
        (R,) = ctx.saved_tensors
        return extract_central_slices(g.contiguous(), R).reshape(ctx.shape), None, None


def insert_central_slices(slices_ft: torch.Tensor, rotations: torch.Tensor, D: int) -> torch.Tensor:
    """Trilinear insertion (back-projection): the adjoint of ``extract_central_slices``.

    ``slices_ft`` ``(..., D, D // 2 + 1)`` complex, ``rotations`` ``(..., 3, 3)`` →
    ``(D, D, D // 2 + 1)``: every slice sample is spread onto the eight grid neighbours of its
    point with the trilinear weights (conjugated where the point falls in the Friedel half).
    ``Re⟨extract(V), S⟩ = Re⟨V, insert(S)⟩`` for all ``V`` and ``S``. Differentiable in
    ``slices_ft`` (its backward is extraction); the rotations get no gradient here.
    """
    R, batch = _check_rotations(rotations)
    if slices_ft.shape[-2:] != (D, D // 2 + 1) or tuple(slices_ft.shape[:-2]) != batch:
        raise ValueError(
            f"slices_ft must have shape {(*batch, D, D // 2 + 1)}; got {tuple(slices_ft.shape)}"
        )
    dt = _real_dtype(slices_ft, R)
    S = slices_ft.to(_complex_of(dt)).reshape(R.shape[0], -1)
    R = R.detach().to(device=S.device, dtype=dt)
    return _InsertSlices.apply(S, R, D)


# ----------------------------------------------------------------------------- projection


@functools.lru_cache(maxsize=32)
def _plan(
    D: int, M: int, levels: tuple[tuple[int, float], ...], device: str, dt: torch.dtype
) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
    """Image frequencies of every level, in the natural rfft2 layout of an ``M`` grid.

    ``levels``: ``(N, radius)`` from the innermost out; a frequency of radius ``|k| / M`` below
    ``radius`` (cycles/pixel) and not taken by an inner level goes to that level. Returns per
    level ``(positions (n,), freqs (n, 2) in that level's grid units)`` and the phase
    ``(M, M//2+1)`` that moves the image origin to the crop's corner.
    """
    dev = torch.device(device)
    ky = torch.fft.fftfreq(M, 1 / M, device=dev, dtype=torch.float64)  # 0, 1, ..., -1
    kx = torch.arange(M // 2 + 1, device=dev, dtype=torch.float64)
    KX, KY = torch.meshgrid(kx, ky, indexing="xy")  # (M, M//2+1)
    keep = torch.ones_like(KX, dtype=torch.bool)
    if M % 2 == 0:  # leave the Nyquist row and column out (zero)
        keep &= (KY != -(M // 2)) & (KX != M // 2)
    rad = torch.sqrt(KX**2 + KY**2) / M
    out = []
    taken = ~keep
    for N, radius in levels:
        sel = ~taken & (rad < radius)
        taken |= sel
        pos = torch.nonzero(sel.reshape(-1)).squeeze(-1)
        f = torch.stack([KX.reshape(-1)[pos], KY.reshape(-1)[pos]], -1) * (N / M)
        out.append((pos, f.to(dt)))
    c = D // 2
    ang = -2 * math.pi * torch.remainder((KX + KY) * c, M) / M
    phase = torch.polar(torch.ones_like(ang), ang).to(_complex_of(dt))
    return out, phase


def project_fourier(
    volume: torch.Tensor,
    rotations: torch.Tensor,
    pad: float = 3.5,
    *,
    cutoff: float | None = 0.2,
    pad_outer: float = 1.0,
    image_pad: float = 1.0,
    sinc2: bool = True,
) -> torch.Tensor:
    """Project through the Fourier slice theorem: fast, differentiable, accurate.

    ``volume`` ``(D, D, D)`` real, ``rotations`` ``(..., 3, 3)`` → images ``(..., D, D)`` in
    the promoted dtype of ``volume`` and ``rotations`` (float32 or float64), on the volume's
    device. Agrees with ``project_real_space`` up to interpolation error;
    ``project_fourier(V, I) == V.sum(0)`` exactly for odd ``D``, integer pads and
    ``sinc2=False`` (every sample is then a grid node; even ``D`` lose the Nyquist planes).

    Steps: divide ``V`` by the separable sinc² of each grid (folded into the transform);
    zero-pad and transform, computing only the frequencies a level needs; sample each image
    frequency ``k`` (cycles/pixel) with ``|k| < cutoff`` from the grid padded ``pad`` times
    and every other one from the grid padded ``pad_outer`` times (``cutoff=None``: all from
    ``pad``, the classic scheme); leave the Nyquist planes, row and column of even grids out;
    inverse 2D FFT on a ``round(image_pad · D)`` grid, cropped to ``D``.

    Why these defaults: the error of trilinear interpolation with sinc² correction is the
    leakage of the periodic replicas of the volume, of relative weight ``(r/N)²`` for an object
    of radius ``r`` on an ``N``-grid: it is the same fraction of the signal at every frequency,
    so in absolute terms it sits where the spectrum does — at low frequencies for molecules.
    Padding 3.5 times below 0.2 cycles/pixel and not at all above gives, on the analytic
    Gaussian oracle (σ = 2 px, ``gaussian_blobs``), 0.71–0.75 times the error of
    torch-fourier-slice at ``pad_factor=2`` while running 1.3–1.7 times faster than it at
    ``pad_factor=1`` (forward + backward, CPU, D = 128–64, ``bench/README.md``); the fine grid
    is a small cube, computed by ``_SymDFT``. Above ``cutoff`` the error is that of an
    unpadded grid (about 10 % of the signal there): raise ``cutoff`` (or set it to ``None``)
    for volumes with strong high-frequency content. ``pad=1, cutoff=None`` is the fast
    setting (pad-1 accuracy, 3.1–3.4 times faster than torch-fourier-slice at pad 1). On a CPU,
    batches of ``projection_numba.MIN_SAMPLES`` samples or more are sampled by fused numba
    loops (``projection_numba``), the same arithmetic as the PyTorch sampler.
    """
    D = _check_volume(volume)
    R, batch = _check_rotations(rotations)
    dt = _real_dtype(volume, R)
    vol = volume.to(dt)
    R = R.to(device=vol.device, dtype=dt)
    M = max(D, round(image_pad * D))
    n_in = max(D, round(pad * D))
    if cutoff is None or cutoff >= math.sqrt(0.5):
        levels: tuple[tuple[int, float], ...] = ((n_in, math.inf),)
    else:
        levels = ((n_in, cutoff), (max(D, round(pad_outer * D)), math.inf))
    plan, phase = _plan(D, M, levels, str(vol.device), dt)
    spec = vol.new_zeros(2, R.shape[0], M * (M // 2 + 1))
    for (N, radius), (pos, freqs) in zip(levels, plan, strict=True):
        if pos.numel() == 0:
            continue
        K = (N - 1) // 2
        if radius < math.inf:
            K = min(K, math.ceil(radius * N) + 1)
        grid = _fourier_grid(vol, N, K, sinc2)
        vals = _sample(grid, R, freqs)
        spec = spec.index_copy(2, pos, vals)
    spec = torch.complex(spec[0], spec[1]).reshape(-1, M, M // 2 + 1) * phase
    img = torch.fft.irfft2(spec, s=(M, M))[:, :D, :D]
    return img.reshape(*batch, D, D)


# ----------------------------------------------------------------------------- oracle

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
    R, batch = _check_rotations(rotations)
    RC = torch.einsum("bij,nj->bni", R.to(dtype=dtype, device=C.device), C)[
        ..., :2
    ]  # (B, blobs, xy)
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    p = torch.stack([xx, yy], -1)  # (y, x, 2)
    d2 = ((p[None, :, :, None, :] - RC[:, None, None]) ** 2).sum(-1)  # (B, y, x, blobs)
    images = (A * math.sqrt(2 * math.pi) * sigma * torch.exp(-d2 / (2 * sigma**2))).sum(-1)
    return volume, images.reshape(*batch, D, D)


# ----------------------------------------------------------------------------- module


class Projector(torch.nn.Module):
    """A learnable volume that renders a batch of rotations.

    ``Projector(D)`` (or ``Projector(initial_volume)``) holds ``volume`` ``(D, D, D)`` as a
    parameter; ``forward(rotations (..., 3, 3)) → (..., D, D)`` with ``project_fourier`` (the
    keyword arguments are passed on) or, with ``method="real"``, ``project_real_space``.
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
        _check_volume(init)
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
