"""Bayesian denoising by conjugacy: Gaussian–Gaussian (the Wiener filter) and Poisson–Gamma.

The 28 January 2022 meeting read Huang et al. (2021), whose denoiser rests on the conjugacy of
a Gaussian prior and Gaussian noise, and asked how it extends to Poisson noise with a Gamma
prior. Both posteriors are closed forms:

* **Gaussian signal, Gaussian noise.** An image ``x`` (shape ``(H, W)``, indexed ``[y, x]``) is a
  stationary Gaussian field with power spectrum ``S``: with the *orthonormal* 2-D DFT
  ``X = F x`` (``numpy.fft.fft2(x, norm="ortho")``), the coefficients are independent (up to
  Hermitian symmetry) with ``E|X(k)|² = S(k)``. White noise of variance ``σ²`` per pixel has
  ``E|N(k)|² = σ²`` under the same transform. Observing ``y = x + n``, each coefficient's
  posterior is Gaussian with

      mean  X̂(k) = S(k) / (S(k) + σ²) · Y(k)          (the Wiener filter)
      var         S(k) σ² / (S(k) + σ²),

  and, by Parseval, the posterior variance of each pixel is the average of the coefficients'
  variances.
* **Poisson counts, Gamma rate.** A pixel's rate ``λ`` has the prior Gamma(α, β) (shape α,
  *rate* β: density ``β^α λ^(α−1) e^(−βλ) / Γ(α)``, mean ``α/β``); its count after exposure
  ``t`` is Poisson(``tλ``). The posterior is Gamma(α + n, β + t): mean ``(α + n)/(β + t)``,
  variance ``(α + n)/(β + t)²``. Across pixels the counts are negative-binomial, with mean
  ``m = tα/β`` and variance ``v = m + t²α/β²``, so the prior can be estimated from the image
  itself (empirical Bayes, method of moments): ``β = m t/(v − m)``, ``α = m²/(v − m)``.

Conventions: images are float arrays indexed ``[y, x]``; a power spectrum is given on the grid
of ``numpy.fft.fft2`` (zero frequency at ``[0, 0]``, not shifted); rates are per unit exposure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "fit_gamma_prior",
    "frequency_radius",
    "gamma_posterior",
    "gamma_posterior_mean",
    "gamma_posterior_variance",
    "gaussian_field",
    "poisson_gamma_denoise",
    "power_law_psd",
    "wiener_filter",
    "wiener_posterior_variance",
]

FloatArray = NDArray[np.float64]


def frequency_radius(shape: Sequence[int]) -> FloatArray:
    """``|k|`` in cycles per pixel on the grid of ``numpy.fft.fft2`` for an image of ``shape``
    ``(H, W)``: ``sqrt(fy² + fx²)`` with ``fy = fftfreq(H)``, ``fx = fftfreq(W)``."""
    h, w = (int(n) for n in shape)
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    return np.asarray(np.sqrt(fy**2 + fx**2), dtype=np.float64)


def power_law_psd(
    shape: Sequence[int], amplitude: float = 1.0, exponent: float = 2.0, k0: float = 0.05
) -> FloatArray:
    """A radially symmetric power spectrum ``S(k) = amplitude / (1 + (|k|/k0)^exponent)``,
    shape ``(H, W)`` on ``fft2``'s grid: flat below ``k0`` cycles/pixel, falling as a power
    law above it (the spectrum of smooth, blob-like images)."""
    r = frequency_radius(shape)
    return amplitude / (1.0 + (r / k0) ** exponent)


def gaussian_field(psd: ArrayLike, seed: int) -> FloatArray:
    """A real stationary Gaussian image whose power spectrum is ``psd`` (shape ``(H, W)``, on
    ``fft2``'s grid, symmetric: ``S(k) = S(−k)``): white noise of unit variance, filtered by
    ``sqrt(S)`` under the orthonormal DFT, so that ``E|fft2(x, norm="ortho")(k)|² = S(k)``."""
    s = np.asarray(psd, dtype=np.float64)
    white = np.random.default_rng(seed).standard_normal(s.shape)
    field = np.fft.ifft2(np.sqrt(s) * np.fft.fft2(white, norm="ortho"), norm="ortho")
    return np.asarray(field.real, dtype=np.float64)


def wiener_filter(image: ArrayLike, psd: ArrayLike, noise_var: float) -> FloatArray:
    """The posterior mean of a Gaussian image with power spectrum ``psd`` observed in white
    Gaussian noise of variance ``noise_var`` per pixel: ``F⁻¹[S/(S + σ²) · F y]`` with the
    orthonormal DFT ``F``. ``image``, ``psd``: shape ``(H, W)`` (``psd`` on ``fft2``'s grid)."""
    y = np.asarray(image, dtype=np.float64)
    s = np.asarray(psd, dtype=np.float64)
    gain = s / (s + float(noise_var))
    return np.asarray(np.fft.ifft2(gain * np.fft.fft2(y, norm="ortho"), norm="ortho").real)


def wiener_posterior_variance(psd: ArrayLike, noise_var: float) -> float:
    """The posterior variance of each pixel under ``wiener_filter``'s model: the mean over the
    DFT grid of ``S σ² / (S + σ²)`` (Parseval, orthonormal DFT)."""
    s = np.asarray(psd, dtype=np.float64)
    sigma2 = float(noise_var)
    return float(np.mean(s * sigma2 / (s + sigma2)))


def gamma_posterior(
    counts: ArrayLike, shape: ArrayLike, rate: ArrayLike, exposure: ArrayLike = 1.0
) -> tuple[FloatArray, FloatArray]:
    """The Gamma posterior of a Poisson rate: prior Gamma(``shape`` α, ``rate`` β), counts
    ``n ~ Poisson(exposure · λ)``; returns (α + n, β + exposure), broadcast to ``counts``'
    shape. Conjugacy: ``λ^(α−1) e^(−βλ) · (tλ)^n e^(−tλ) ∝ λ^(α+n−1) e^(−(β+t)λ)``."""
    n = np.asarray(counts, dtype=np.float64)
    a = np.broadcast_to(np.asarray(shape, dtype=np.float64) + n, n.shape)
    b = np.broadcast_to(np.asarray(rate, dtype=np.float64) + np.asarray(exposure, float), n.shape)
    return np.array(a), np.array(b)


def gamma_posterior_mean(
    counts: ArrayLike, shape: ArrayLike, rate: ArrayLike, exposure: ArrayLike = 1.0
) -> FloatArray:
    """``(α + n) / (β + t)``: the posterior mean of the rate (see ``gamma_posterior``)."""
    a, b = gamma_posterior(counts, shape, rate, exposure)
    return a / b


def gamma_posterior_variance(
    counts: ArrayLike, shape: ArrayLike, rate: ArrayLike, exposure: ArrayLike = 1.0
) -> FloatArray:
    """``(α + n) / (β + t)²``: the posterior variance of the rate (see ``gamma_posterior``)."""
    a, b = gamma_posterior(counts, shape, rate, exposure)
    return a / b**2


def fit_gamma_prior(counts: ArrayLike, exposure: float = 1.0) -> tuple[float, float]:
    """Empirical Bayes: the Gamma(α, β) prior whose negative-binomial marginal has the counts'
    mean ``m`` and variance ``v`` (method of moments, ``v`` with ``ddof=0``):
    ``β = m t / (v − m)``, ``α = m² / (v − m)``. Raises ``ValueError`` when the counts vary no
    more than Poisson noise alone would (``v ≤ m``): no Gamma prior has that marginal."""
    n = np.asarray(counts, dtype=np.float64)
    m, v = float(n.mean()), float(n.var())
    if not v > m:
        raise ValueError(
            f"the counts are not overdispersed (variance {v:.4g} ≤ mean {m:.4g}): "
            "no Gamma prior reproduces them"
        )
    t = float(exposure)
    return m * m / (v - m), m * t / (v - m)


def poisson_gamma_denoise(counts: ArrayLike, exposure: float = 1.0) -> FloatArray:
    """Denoise a low-dose image of counts: each pixel's posterior mean rate under the Gamma
    prior fitted to the image itself (``fit_gamma_prior``, ``gamma_posterior_mean``)."""
    alpha, beta = fit_gamma_prior(counts, exposure)
    return gamma_posterior_mean(counts, alpha, beta, exposure)
