r"""Interpolation kernels of the non-uniform FFT mode (``nufft``): ES and Kaiser–Bessel.

A kernel :math:`\phi` of width ``w`` grid points interpolates the transform of a volume
zero-padded ``σ`` times; dividing the volume by the kernel's Fourier transform first
(*deapodisation*) makes the interpolation exact up to the aliased tails of that transform
(Dutt & Rokhlin 1993; Fessler & Sutton 2003; Barnett, Magland & af Klinteberg 2019). In one
dimension, for a tone at position ``r`` (``|r| ≤ D/2``) of a grid of ``N = σD`` points and
:math:`\xi = r/N`,

.. math:: \sum_{n\in\mathbb Z} \phi(u - n)\,\frac{e^{-2\pi i n \xi}}{\hat\phi(\xi)}
          = e^{-2\pi i u \xi}\Bigl(1 + \sum_{m\ne 0}
            \frac{\hat\phi(\xi + m)}{\hat\phi(\xi)}\,e^{2\pi i m u}\Bigr),
          \qquad \hat\phi(\xi) = \int \phi(x)\,e^{-2\pi i \xi x}\,dx

(Poisson summation): the relative error at ``r`` is the aliased weight
:math:`\varepsilon(\xi) = \sum_{m\ne0} |\hat\phi(\xi+m)| / |\hat\phi(\xi)|`, small when
:math:`\hat\phi` is concentrated in :math:`|\xi| < 1/2` and decays fast beyond
:math:`1 - 1/(2\sigma)`. It grows towards the box's edge: a compact molecule sees less than the
worst case. In three dimensions the kernel is the separable product
:math:`\phi(x)\phi(y)\phi(z)`.

Kernels (``z = 2x / w`` in ``[-1, 1]``; both are shifted and scaled to vanish at the edge
``|z| = 1``, so that the interpolant is continuous as nodes enter and leave the stencil — the
unshifted kernels jump by their edge value there, which breaks finite-difference gradient
checks):

* **Exponential of semicircle** (ES; Barnett et al. 2019, SIAM J. Sci. Comput. 41(5), eq.
  1.8): :math:`\phi(z) = e^{\beta(\sqrt{1 - z^2} - 1)}`, with
  :math:`\beta = \gamma\pi w (1 - 1/(2\sigma))`, :math:`\gamma = 0.97` (FINUFFT's choice;
  ``2.30 w`` at ``σ = 2``, the paper's §4).
* **Kaiser–Bessel** (KB; Jackson et al. 1991; Fessler & Sutton 2003, IEEE Trans. Signal
  Process. 51(2), §V; Beatty, Nishimura & Pauly 2005, IEEE Trans. Med. Imaging 24(6), eq. 5):
  :math:`\phi(z) = I_0\bigl(\beta\sqrt{1 - z^2}\bigr)`, with
  :math:`\beta = \pi\sqrt{(w/\sigma)^2(\sigma - 1/2)^2 - 0.8}`.
* **Trilinear** (``w = 2``): :math:`\phi(x) = 1 - |x|`, :math:`\hat\phi = \mathrm{sinc}^2`: the
  sinc² correction of ``project`` is this deapodisation.

Evaluation. A sample at grid coordinate ``u`` reads the ``w`` nodes ``n₀ + j``
(``n₀ = ⌊u - w/2⌋ + 1``, ``j = 0 … w-1``) with weights :math:`\phi(w/2 - 1 - j + f)`,
:math:`f = u - w/2 - ⌊u - w/2⌋ \in [0, 1)`. Each of the ``w`` pieces is a polynomial in ``f``
(``Kernel.coef``, Horner form, as FINUFFT evaluates its kernel), interpolating :math:`\phi` at
Chebyshev–Lobatto points, endpoints included: neighbouring pieces meet exactly, so the
interpolant is continuous, and its derivative in ``u`` (for the rotations' gradient) is the
polynomial's. That piecewise polynomial *is* the kernel every engine uses, and
``Kernel.deapodisation`` integrates it (Gauss–Legendre) rather than the formula: the two agree
to the fit error, ``Kernel.fit_error``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = ["Kernel", "es_beta", "kaiser_bessel_beta", "make_kernel"]


def es_beta(width: int, sigma: float) -> float:
    """Barnett et al. (2019)'s shape parameter ``β = 0.97 π w (1 - 1/(2σ))``."""
    return 0.97 * math.pi * width * (1 - 1 / (2 * sigma))


def kaiser_bessel_beta(width: int, sigma: float) -> float:
    """Beatty et al. (2005, eq. 5): ``β = π √((w/σ)² (σ - 1/2)² - 0.8)``."""
    return math.pi * math.sqrt(max((width / sigma) ** 2 * (sigma - 0.5) ** 2 - 0.8, 1e-6))


@dataclass(frozen=True)
class Kernel:
    """A separable interpolation kernel of ``width`` nodes per axis, as piecewise polynomials.

    ``coef`` ``(width, degree + 1)`` float64: row ``j`` holds the Horner coefficients (highest
    power first) of the weight of node ``n₀ + j`` as a polynomial in ``f ∈ [0, 1]`` (module
    docstring). ``name`` is ``"es"``, ``"kb"`` or ``"trilinear"``; ``beta`` its shape
    parameter (0 for trilinear).
    """

    name: str
    width: int
    beta: float
    coef: np.ndarray = field(repr=False, compare=False)

    def phi(self, x: np.ndarray) -> np.ndarray:
        """The kernel's formula at offsets ``x`` (grid units), zero for ``|x| ≥ width / 2``."""
        return _formula(self.name, self.width, self.beta, np.asarray(x, dtype=np.float64))

    def weights(self, f: np.ndarray) -> np.ndarray:
        """The piecewise polynomial: weights ``(..., width)`` of the nodes for fractions ``f``."""
        f = np.asarray(f, dtype=np.float64)[..., None]
        acc = np.broadcast_to(self.coef[:, 0], f.shape[:-1] + (self.width,)).copy()
        for p in range(1, self.coef.shape[1]):
            acc = acc * f + self.coef[:, p]
        return acc

    @property
    def fit_error(self) -> float:
        """Largest difference between the piecewise polynomial and the formula."""
        f = np.linspace(0, 1, 2001)
        d = self.width / 2 - 1 - np.arange(self.width)[None, :] + f[:, None]
        return float(np.abs(self.weights(f) - self.phi(d)).max())

    def transform(self, xi: np.ndarray) -> np.ndarray:
        """``φ̂(ξ) = ∫ φ(x) e^{-2πiξx} dx`` (real: the kernel is even) of the piecewise
        polynomial, by Gauss–Legendre quadrature on each piece (exact to rounding)."""
        return _transform(self, np.asarray(xi, dtype=np.float64).reshape(-1))

    def deapodisation(self, D: int, N: int) -> np.ndarray:
        """``φ̂(r / N)`` for ``r = -(D // 2) … D - 1 - D // 2`` ``(D,)``."""
        r = np.arange(D, dtype=np.float64) - D // 2
        return self.transform(r / N)

    def aliasing(self, D: int, N: int, terms: int = 30) -> np.ndarray:
        """The 1D relative error weight ``ε(r) = Σ_{m≠0} |φ̂(r/N + m)| / |φ̂(r/N)|`` at the
        ``D`` positions ``r`` (module docstring): a voxel at ``r`` is interpolated with
        relative error at most ``ε(r)`` per axis, ``(1+ε(rx))(1+ε(ry))(1+ε(rz)) - 1`` in 3D."""
        xi = (np.arange(D, dtype=np.float64) - D // 2) / N
        m = np.concatenate([np.arange(-terms, 0), np.arange(1, terms + 1)])
        tails = np.abs(self.transform((xi[:, None] + m[None, :]).reshape(-1)))
        return tails.reshape(D, -1).sum(1) / np.abs(self.transform(xi))


def make_kernel(
    name: str, width: int, sigma: float, beta: float | None = None, degree: int | None = None
) -> Kernel:
    """The kernel ``name`` (``"es"``, ``"kb"``, ``"trilinear"``) of ``width`` nodes for an
    oversampling ``sigma``; ``beta`` defaults to the papers' choice (``es_beta``,
    ``kaiser_bessel_beta``), ``degree`` of the pieces to ``width + 1`` (exact for trilinear):
    a higher degree fits the formula closer (``Kernel.fit_error``) without changing the
    aliasing error measurably (``Kernel.aliasing``), since the deapodisation is the transform
    of the pieces themselves. Cached."""
    if name == "trilinear":
        width, beta = 2, 0.0
    elif name == "es":
        beta = es_beta(width, sigma) if beta is None else beta
    elif name == "kb":
        beta = kaiser_bessel_beta(width, sigma) if beta is None else beta
    else:
        raise ValueError(f"kernel must be 'es', 'kb' or 'trilinear'; got {name!r}")
    if width < 2 or width > 8:
        raise ValueError(f"kernel width must be between 2 and 8; got {width}")
    degree = (1 if name == "trilinear" else width + 1) if degree is None else degree
    return _make(name, int(width), float(beta), int(degree))


@functools.lru_cache(maxsize=64)
def _make(name: str, width: int, beta: float, degree: int) -> Kernel:
    f = (1 - np.cos(np.pi * np.arange(degree + 1) / degree)) / 2  # Chebyshev–Lobatto on [0, 1]
    coef = np.empty((width, degree + 1))
    for j in range(width):
        values = _formula(name, width, beta, width / 2 - 1 - j + f)
        low_first = np.polynomial.polynomial.polyfit(f, values, degree)
        coef[j] = low_first[::-1]
    coef.setflags(write=False)
    return Kernel(name, width, beta, coef)


def _formula(name: str, width: int, beta: float, x: np.ndarray) -> np.ndarray:
    z = 2 * x / width
    inside = np.abs(z) < 1
    s = np.sqrt(np.clip(1 - z * z, 0, None))
    if name == "trilinear":
        return np.clip(1 - np.abs(x), 0, None)
    if name == "es":  # (e^{β(s-1)} - e^{-β}) / (1 - e^{-β})
        v = np.expm1(beta * s) * math.exp(-beta) / -math.expm1(-beta)
    else:  # (I0(βs) - 1) / (I0(β) - 1)
        v = (np.i0(beta * s) - 1) / (np.i0(beta) - 1)
    return np.where(inside, v, 0.0)


def _transform(kernel: Kernel, xi: np.ndarray) -> np.ndarray:
    # enough nodes per piece for the oscillation of cos(2πξx) over a unit interval
    t, wt = np.polynomial.legendre.leggauss(24 + int(np.ceil(4 * np.abs(xi).max(initial=0))))
    f, wt = (t + 1) / 2, wt / 2
    vals = kernel.weights(f)  # (q, width)
    d = kernel.width / 2 - 1 - np.arange(kernel.width)[None, :] + f[:, None]  # offsets
    ang = 2 * np.pi * xi[:, None, None] * d[None]
    return np.einsum("xqj,q->x", vals[None] * np.cos(ang), wt)


def kernel_table(kernel: Kernel, dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
    """``kernel.coef`` as a contiguous tensor ``(width, degree + 1)``."""
    return torch.tensor(kernel.coef, dtype=dtype, device=device)
