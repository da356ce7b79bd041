"""reference_impl.denoising against independent oracles: Gaussian conditioning written out with
an explicit DFT matrix, scipy.stats' Gamma and Poisson distributions integrated numerically, and
sampling statistics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from reference_impl import denoising as D


def _dft(n: int) -> np.ndarray:
    j = np.arange(n)
    return np.exp(-2j * np.pi * np.outer(j, j) / n) / np.sqrt(n)


def _covariance(psd: np.ndarray) -> np.ndarray:
    """The pixel covariance of a stationary field with spectrum ``psd`` (orthonormal DFT),
    built from explicit DFT matrices: C = Fᴴ diag(S) F with F = F_H ⊗ F_W."""
    h, w = psd.shape
    f = np.kron(_dft(h), _dft(w))
    return (f.conj().T @ np.diag(psd.ravel()) @ f).real


shapes = st.tuples(st.integers(2, 7), st.integers(2, 7))


@settings(max_examples=25)
@given(shapes, st.floats(0.05, 3.0), st.floats(0.5, 4.0), st.integers(0, 2**31 - 1))
def test_wiener_filter_is_gaussian_conditioning(shape, noise_var, exponent, seed) -> None:
    psd = D.power_law_psd(shape, amplitude=2.0, exponent=exponent, k0=0.2)
    y = np.random.default_rng(seed).standard_normal(shape)
    c = _covariance(psd)
    # posterior mean of x given y = x + n: C (C + σ² I)⁻¹ y
    expected = (c @ np.linalg.solve(c + noise_var * np.eye(c.shape[0]), y.ravel())).reshape(shape)
    np.testing.assert_allclose(D.wiener_filter(y, psd, noise_var), expected, atol=1e-10)
    # posterior covariance C − C (C + σ²I)⁻¹ C: its mean diagonal is each pixel's variance
    post = c - c @ np.linalg.solve(c + noise_var * np.eye(c.shape[0]), c)
    assert D.wiener_posterior_variance(psd, noise_var) == pytest.approx(np.mean(np.diag(post)))


def test_wiener_filter_limits() -> None:
    psd = D.power_law_psd((16, 12))
    y = np.random.default_rng(0).standard_normal((16, 12))
    np.testing.assert_allclose(D.wiener_filter(y, psd, 1e-12), y, atol=1e-8)  # no noise: y
    assert np.abs(D.wiener_filter(y, psd, 1e12)).max() < 1e-9  # all noise: the prior mean 0


def test_gaussian_field_has_its_power_spectrum() -> None:
    psd = D.power_law_psd((24, 20), amplitude=3.0, exponent=3.0, k0=0.1)
    fields = np.stack([D.gaussian_field(psd, seed) for seed in range(400)])
    assert fields.dtype == np.float64 and fields.shape == (400, 24, 20)
    periodogram = np.mean(np.abs(np.fft.fft2(fields, norm="ortho")) ** 2, axis=0)
    # a mean of 400 χ² variables: within 25 % of the spectrum everywhere (χ²₂/2 has sd 1)
    assert np.all(np.abs(periodogram / psd - 1) < 0.25)
    assert not np.allclose(D.gaussian_field(psd, 1), D.gaussian_field(psd, 2))
    np.testing.assert_array_equal(D.gaussian_field(psd, 7), D.gaussian_field(psd, 7))


@settings(max_examples=30)
@given(
    st.integers(0, 40),
    st.floats(0.3, 8.0),
    st.floats(0.1, 5.0),
    st.floats(0.1, 10.0),
)
def test_gamma_posterior_is_prior_times_likelihood(n, alpha, beta, t) -> None:
    """The closed form against Bayes' rule integrated numerically with scipy.stats."""

    def unnormalised(lam: float) -> float:
        return stats.gamma.pdf(lam, alpha, scale=1 / beta) * stats.poisson.pmf(n, t * lam)

    hi = stats.gamma.ppf(1 - 1e-12, alpha + n, scale=1 / (beta + t))
    z = integrate.quad(unnormalised, 0, hi, limit=200)[0]
    mean = integrate.quad(lambda lam: lam * unnormalised(lam), 0, hi, limit=200)[0] / z
    second = integrate.quad(lambda lam: lam**2 * unnormalised(lam), 0, hi, limit=200)[0] / z
    assert D.gamma_posterior_mean(n, alpha, beta, t) == pytest.approx(mean, rel=1e-6)
    assert D.gamma_posterior_variance(n, alpha, beta, t) == pytest.approx(
        second - mean**2, rel=1e-5, abs=1e-12
    )
    a, b = D.gamma_posterior(n, alpha, beta, t)
    assert (float(a), float(b)) == pytest.approx((alpha + n, beta + t))


def test_gamma_posterior_broadcasts() -> None:
    counts = np.arange(12).reshape(3, 4)
    a, b = D.gamma_posterior(counts, 2.0, np.array([1.0, 2.0, 3.0, 4.0]), 0.5)
    assert a.shape == b.shape == (3, 4)
    np.testing.assert_allclose(b[0], [1.5, 2.5, 3.5, 4.5])


def test_fit_gamma_prior_recovers_the_prior() -> None:
    rng = np.random.default_rng(3)
    alpha, beta, t = 3.0, 2.0, 0.7
    rates = rng.gamma(alpha, 1 / beta, size=400_000)
    counts = rng.poisson(t * rates)
    a, b = D.fit_gamma_prior(counts, t)
    assert a == pytest.approx(alpha, rel=0.05) and b == pytest.approx(beta, rel=0.05)


def test_fit_gamma_prior_refuses_counts_without_overdispersion() -> None:
    with pytest.raises(ValueError, match="overdispersed"):
        D.fit_gamma_prior(np.full((8, 8), 3), 1.0)


def test_poisson_gamma_beats_the_raw_counts_at_low_dose() -> None:
    rng = np.random.default_rng(11)
    truth = rng.gamma(2.0, 1 / 4.0, size=(64, 64))
    t = 2.0
    counts = rng.poisson(t * truth)
    denoised = D.poisson_gamma_denoise(counts, t)
    raw = counts / t
    assert np.mean((denoised - truth) ** 2) < 0.6 * np.mean((raw - truth) ** 2)
    alpha, beta = D.fit_gamma_prior(counts, t)
    np.testing.assert_allclose(denoised, D.gamma_posterior_mean(counts, alpha, beta, t))
