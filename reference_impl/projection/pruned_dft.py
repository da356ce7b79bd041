r"""The speed machinery of ``transform``: two exact implementations of one linear map.

.. math:: v \mapsto F(k) = \sum_r a(r)\,v(r)\,e^{-2\pi i\,k\cdot r / N},
          \qquad |k_x|, |k_y|, |k_z| \le K,\ k_x \ge 0,

for a real ``(D, D, D)`` volume ``v`` with ``r`` relative to the centre ``D // 2`` (the volume
zero-padded to ``N``, implicitly) and ``a`` a separable correction (``1/sinc²`` or 1). Only
``|k| ≤ K`` is computed: the inner level of ``project_fourier`` needs a small cube of a finely
padded transform.

* ``SymDFT``: real matrix products on even/odd parts, ``O(K D³)`` — for small cubes.
* ``PrunedFFT``: three passes of 1D FFTs, ``O(K N² log N)`` — for large grids.

Both write the bordered layout of ``_grids.Grid`` directly and have their exact adjoints as
backward; ``transform.fourier_grid`` chooses between them.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import torch

from ._checks import complex_of
from ._grids import BORDER

__all__ = ["PrunedFFT", "SymDFT", "dft_matrices", "eo_merge", "eo_split"]


def eo_split(x: torch.Tensor, d: int, c: int, rotate: bool) -> torch.Tensor:
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


def eo_merge(g: torch.Tensor, d: int, c: int, D: int, rotate: bool) -> torch.Tensor:
    """The adjoint of ``eo_split``: ``2(c+1)`` long along ``d`` → ``D`` long."""
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
def dft_matrices(
    D: int, N: int, K: int, sinc2: bool, dt: torch.dtype, device: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Matrices of ``SymDFT``: ``-S₊``, ``C₊`` ``(Lx, c+1)`` and ``W = [C | S]`` ``(L, 2(c+1))``.

    With ``r = 0..c`` (``c = D // 2``) and ``k = -K-B..K+B``: ``C[k, r] = a(r) cos(2πkr/N)``
    (halved at ``r = 0``, which the even part counts twice), ``S[k, r] = a(r) sin(2πkr/N)``,
    ``a = 1/sinc²(r/N)`` or 1; rows ``|k| > K`` are zero, so that the products write the zero
    border of the grid directly. ``F = C E + S (-i O)`` (``eo_split`` rotates ``O``); for the
    real input of the first pass ``Re F = C₊ E`` and ``Im F = -S₊ O`` over ``k ≥ 0``.
    """
    b = BORDER
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


class SymDFT(torch.autograd.Function):
    """The pruned centred transform by real matrix products (even/odd symmetric).

    ``v`` ``(D, D, D)`` real → the bordered grid ``(L, L, 2, Lx)`` (``[kz, ky, re/im, kx]``,
    ``L = 2K + 1 + 2B``, ``Lx = K + 1 + B``). Each pass splits the data into even and odd
    parts about the centre (``eo_split``) — a cosine and a sine transform of half the length,
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
        z1 = eo_split(v, 2, c, False).view(D * D, 2 * (c + 1))
        a1 = v.new_empty(D * D, 2, Lx)
        torch.mm(z1[:, : c + 1], C.T, out=a1[:, 0])  # Re F = C E
        torch.mm(z1[:, c + 1 :], Sn.T, out=a1[:, 1])  # Im F = -S O
        z2 = eo_split(a1.view(D, D, 2, Lx), 1, c, True).view(D, 2 * (c + 1), 2 * Lx)
        a2 = torch.matmul(W, z2).view(D, L, 2, Lx)
        z3 = eo_split(a2, 0, c, True).view(2 * (c + 1), L * 2 * Lx)
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
        g2 = torch.matmul(W.T, eo_merge(g3, 0, c, D, True).view(D, L, 2 * Lx))
        g1 = eo_merge(g2.view(D, 2 * (c + 1), 2, Lx), 1, c, D, True).view(D * D, 2, Lx)
        gz = g.new_empty(D * D, 2 * (c + 1))
        torch.mm(g1[:, 0], C, out=gz[:, : c + 1])
        torch.mm(g1[:, 1], Sn, out=gz[:, c + 1 :])
        return eo_merge(gz.view(D, D, 2 * (c + 1)), 2, c, D, False), None, None, None


class PrunedFFT(torch.autograd.Function):
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
        b = BORDER
        cdt = complex_of(v.dtype)
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
        b = BORDER
        cdt = complex_of(gp.dtype)
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
