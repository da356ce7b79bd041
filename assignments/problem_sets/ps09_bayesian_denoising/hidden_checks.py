"""Hidden checks of problem set 9 (Bayesian denoising by conjugacy). Grader-side only: never
released, never in the learner's sandbox. Compared with ``reference_impl.denoising``."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from autograder.checks import (
    Case,
    Compare,
    FunctionCheck,
    Mistake,
    Part,
    ValueCheck,
    allclose,
    as_array,
    choice,
    sympy_equal,
)
from reference_impl import denoising as D

# -- shared inputs ---------------------------------------------------------------------------------


def some_psd(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return D.power_law_psd(
        shape,
        amplitude=float(rng.uniform(0.5, 20.0)),
        exponent=float(rng.uniform(1.5, 4.0)),
        k0=float(rng.uniform(0.03, 0.3)),
    )


def some_shape(rng: np.random.Generator) -> tuple[int, int]:
    return int(rng.integers(3, 18)), int(rng.integers(3, 18))


def _ortho(x: np.ndarray) -> np.ndarray:
    return np.fft.fft2(x, norm="ortho")


def _iortho(x: np.ndarray) -> np.ndarray:
    return np.fft.ifft2(x, norm="ortho").real


# -- A: the Wiener filter --------------------------------------------------------------------------


def wiener_cases(rng: np.random.Generator) -> list[Case]:
    psd = D.power_law_psd((8, 6), amplitude=2.0, exponent=2.0, k0=0.2)
    y = np.random.default_rng(0).standard_normal((8, 6))
    cases = [
        Case(
            (y, psd, 0.5), label="wiener_filter(y, S, 0.5) on the visible 8 × 6 image", visible=True
        )
    ]
    for _ in range(10):
        shape = some_shape(rng)
        psd = some_psd(rng, shape)
        image = rng.standard_normal(shape) * float(rng.uniform(0.5, 4.0))
        cases.append(Case((image, psd, float(rng.uniform(0.05, 5.0)))))
    return cases


def _wiener_with(gain) -> Any:
    def answer(image, psd, noise_var):
        return _iortho(
            gain(np.asarray(psd), float(noise_var), np.asarray(image).size) * _ortho(image)
        )

    return answer


def variance_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case((np.full((4, 4), 3.0), 1.0), label="S = 3 everywhere, σ² = 1", visible=True)]
    for _ in range(8):
        shape = some_shape(rng)
        cases.append(Case((some_psd(rng, shape), float(rng.uniform(0.05, 5.0)))))
    return cases


PART_A = Part(
    "test_wiener",
    "Part A — the Wiener filter",
    [
        FunctionCheck(
            "wiener_filter",
            wiener_cases,
            D.wiener_filter,
            allclose(1e-8, 1e-10),
            weight=3.0,
            mistakes=[
                Mistake(
                    "the noise's filter",
                    "You kept σ²/(S + σ²) of each coefficient: that is the noise's share; the "
                    "signal's posterior mean is S/(S + σ²) · Y.",
                    _wiener_with(lambda s, v, n: v / (s + v)),
                ),
                Mistake(
                    "standard deviation for variance",
                    "You compared the spectrum with σ, not σ²: noise_var is the variance.",
                    _wiener_with(lambda s, v, n: s / (s + np.sqrt(v))),
                ),
                Mistake(
                    "noise power scaled by the number of pixels",
                    "With the orthonormal DFT, white noise of variance σ² has E|N(k)|² = σ² at "
                    "every k: no factor of the number of pixels.",
                    _wiener_with(lambda s, v, n: s / (s + v * n)),
                ),
                Mistake(
                    "spectrum shifted",
                    "The spectrum is given on fft2's grid (zero frequency at [0, 0]); you shifted it.",
                    _wiener_with(lambda s, v, n: np.fft.fftshift(s) / (np.fft.fftshift(s) + v)),
                ),
            ],
        ),
        FunctionCheck(
            "wiener_posterior_variance",
            variance_cases,
            D.wiener_posterior_variance,
            allclose(1e-8, 1e-12),
            weight=2.0,
            mistakes=[
                Mistake(
                    "sum for mean",
                    "Parseval with the orthonormal DFT makes each pixel's variance the *mean* of "
                    "the coefficients' variances, not their sum.",
                    lambda psd, v: float(np.sum(psd * v / (psd + v))),
                ),
                Mistake(
                    "the prior's variance",
                    "You returned the prior's variance (mean of S): the data reduce it to "
                    "S σ²/(S + σ²) per coefficient.",
                    lambda psd, v: float(np.mean(psd)),
                ),
            ],
        ),
    ],
)

# -- B: samples from the prior ---------------------------------------------------------------------


def field_cases(rng: np.random.Generator) -> list[Case]:
    """One call: 300 images of 6 × 6 or 5 × 7 pixels (the answer must fit in what the grader
    reads back from the kernel), enough for the statistics below."""
    shape = (6, 6) if rng.integers(2) else (5, 7)
    psd = D.power_law_psd(
        shape,
        amplitude=float(rng.uniform(3.0, 20.0)),
        exponent=3.0,
        k0=float(rng.uniform(0.1, 0.3)),
    )
    return [Case((psd, 300, int(rng.integers(0, 2**31))))]


def spectrum_of(power) -> Compare:
    """The samples' average periodogram matches ``power(S)``: at every frequency within 6
    standard deviations of its sampling error, and on average over the frequencies within 6 of
    theirs; the samples are real, of the right shape, not all identical."""

    def compare(value: Any, expected: Any, case: Case) -> str | None:
        arr, problem = as_array(value)
        if problem or arr is None:
            return problem
        psd, n, _ = case.args
        if arr.shape != (n, *psd.shape):
            return f"returned shape {arr.shape} where {(n, *psd.shape)} was expected"
        if np.iscomplexobj(arr) and np.abs(arr.imag).max() > 1e-9 * max(1.0, np.abs(arr).max()):
            return "returned complex images (the images must be real)"
        arr = arr.real.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            return "returned NaN or infinity"
        if np.allclose(arr[0], arr[1:]):
            return "returned the same image n times"
        ratio = np.mean(np.abs(_ortho(arr)) ** 2, axis=0) / power(psd)
        # |X(k)|²/S(k) has mean 1 and variance 1 (2 where k = −k); pairs ±k are equal
        worst = float(np.abs(ratio - 1).max())
        if worst > 6 * np.sqrt(2.0 / n):
            return f"the spectrum is off (by {worst:.0%} at some frequency)"
        if abs(float(ratio.mean()) - 1) > 6 * np.sqrt(4.0 / (n * ratio.size)):
            return f"the total power is off (by {abs(float(ratio.mean()) - 1):.0%})"
        return None

    return compare


PART_B = Part(
    "test_fields",
    "Part B — images from the prior",
    [
        FunctionCheck(
            "gaussian_fields",
            field_cases,
            None,
            spectrum_of(lambda s: s),
            mistakes=[
                Mistake(
                    "S instead of √S",
                    "You multiplied the white noise's coefficients by S: their power is then S², "
                    "not S. The amplitude filter is √S.",
                    lambda *args: None,
                    compare=spectrum_of(lambda s: s**2),
                ),
                Mistake(
                    "half the power",
                    "Your images have half the spectrum's power: taking the real part of complex "
                    "white noise's transform halves it. Filter real white noise.",
                    lambda *args: None,
                    compare=spectrum_of(lambda s: s / 2),
                ),
            ],
        )
    ],
)

# -- C: the Gamma posterior ------------------------------------------------------------------------


def gamma_cases(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case(
            (np.array([0, 3]), 2.0, 1.0, 0.5),
            label="counts [0, 3], Gamma(2, 1), t = 0.5",
            visible=True,
        )
    ]
    for k in range(8):
        shape = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        counts = rng.poisson(float(rng.uniform(0.2, 6.0)), size=shape)
        alpha = float(rng.uniform(0.3, 8.0)) if k % 2 else rng.uniform(0.3, 8.0, size=shape[-1])
        beta = float(rng.uniform(0.2, 5.0))
        t = float(rng.uniform(0.1, 4.0)) if k % 3 else rng.uniform(0.1, 4.0, size=shape)
        cases.append(Case((counts, alpha, beta, t)))
    return cases


def _post(counts, alpha, beta, t):
    n = np.asarray(counts, dtype=np.float64)
    return np.broadcast_to(alpha + n, n.shape), np.broadcast_to(beta + np.asarray(t), n.shape)


PART_C = Part(
    "test_gamma_posterior",
    "Part C — the Gamma posterior",
    [
        FunctionCheck(
            "gamma_posterior",
            gamma_cases,
            D.gamma_posterior,
            allclose(1e-10, 1e-12),
            mistakes=[
                Mistake(
                    "counts and exposure swapped",
                    "The count adds to the shape and the exposure to the rate: (α + n, β + t).",
                    lambda n, a, b, t: (
                        np.broadcast_to(a + np.asarray(t), np.shape(n)),
                        np.broadcast_to(b + np.asarray(n, float), np.shape(n)),
                    ),
                ),
                Mistake(
                    "exposure ignored",
                    "The likelihood is Poisson(tλ): the exposure t adds to the rate, β + t.",
                    lambda n, a, b, t: _post(n, a, b, 1.0),
                ),
            ],
        ),
        FunctionCheck(
            "gamma_posterior_mean",
            gamma_cases,
            D.gamma_posterior_mean,
            allclose(1e-10, 1e-12),
            mistakes=[
                Mistake(
                    "the mode for the mean",
                    "(α + n − 1)/(β + t) is the posterior's mode; its mean is (α + n)/(β + t).",
                    lambda n, a, b, t: (a + np.asarray(n) - 1) / (b + np.asarray(t)),
                ),
                Mistake(
                    "rate read as scale",
                    "β is a rate (density ∝ e^(−βλ)): the mean is shape/rate, not shape × rate.",
                    lambda n, a, b, t: (a + np.asarray(n)) * (b + np.asarray(t)),
                ),
            ],
        ),
        FunctionCheck(
            "gamma_posterior_variance",
            gamma_cases,
            D.gamma_posterior_variance,
            allclose(1e-10, 1e-12),
            mistakes=[
                Mistake(
                    "the mean for the variance",
                    "The variance of Gamma(a, b) is a/b², not a/b.",
                    lambda n, a, b, t: (a + np.asarray(n)) / (b + np.asarray(t)),
                ),
            ],
        ),
    ],
)

# -- D: question 1 ---------------------------------------------------------------------------------

PART_D = Part(
    "test_question1",
    "Part D — what is Poisson, what is Gamma (question 1)",
    [
        ValueCheck("POISSON_IS", "the counts given the rate", choice()),
        ValueCheck("GAMMA_PRIOR_IS", "the prior on the rate", choice()),
        ValueCheck("GAMMA_AFTER_IS", "the posterior of the rate", choice()),
    ],
)

# -- E: the marginal, symbolically -----------------------------------------------------------------

_ALPHA, _BETA, _T = sympy.symbols("alpha beta t", positive=True)
SYMBOLS = {"alpha": _ALPHA, "beta": _BETA, "t": _T}
MOMENTS = sympy.ImmutableMatrix(
    [_T * _ALPHA / _BETA, _T * _ALPHA / _BETA + _T**2 * _ALPHA / _BETA**2]
)


def moment_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(label="the mean", key=(0, 0)), Case(label="the variance", key=(1, 0))]


PART_E = Part(
    "test_marginal",
    "Part E — the counts' marginal (SymPy)",
    [
        FunctionCheck(
            "marginal_moments",
            moment_cases,
            lambda: MOMENTS,
            sympy_equal(SYMBOLS),
            mistakes=[
                Mistake(
                    "variance without the prior's spread",
                    "Var[n] = E[Var[n|λ]] + Var[E[n|λ]]: you kept only the first term, tα/β.",
                    lambda: sympy.ImmutableMatrix([MOMENTS[0], _T * _ALPHA / _BETA]),
                ),
                Mistake(
                    "variance without the Poisson noise",
                    "Var[n] = E[Var[n|λ]] + Var[E[n|λ]]: you kept only the second term, t²α/β².",
                    lambda: sympy.ImmutableMatrix([MOMENTS[0], _T**2 * _ALPHA / _BETA**2]),
                ),
            ],
        )
    ],
)

# -- F: empirical Bayes ----------------------------------------------------------------------------


def counts_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(6):
        shape = (int(rng.integers(10, 30)), int(rng.integers(10, 30)))
        alpha, beta, t = rng.uniform(0.8, 6.0), rng.uniform(0.5, 4.0), rng.uniform(0.3, 3.0)
        counts = rng.poisson(t * rng.gamma(alpha, 1 / beta, size=shape))
        if counts.var() > counts.mean():
            cases.append(Case((counts, float(t))))
    return cases


def _fit(counts, t, *, poisson: bool = True, exposure: bool = True, ddof: int = 0):
    n = np.asarray(counts, dtype=np.float64)
    m, v = n.mean(), n.var(ddof=ddof)
    d = v - m if poisson else v
    return (m * m / d, m * (t if exposure else 1.0) / d)


PART_F = Part(
    "test_empirical_bayes",
    "Part F — empirical Bayes",
    [
        FunctionCheck(
            "fit_gamma_prior",
            counts_cases,
            D.fit_gamma_prior,
            allclose(1e-9, 1e-12),
            mistakes=[
                Mistake(
                    "the Poisson part not removed",
                    "The counts' variance is the Poisson noise m plus the prior's t²α/β²: solve "
                    "with v − m, not v.",
                    lambda n, t: _fit(n, t, poisson=False),
                ),
                Mistake(
                    "exposure ignored",
                    "m = tα/β: the exposure enters the rate, β = m t/(v − m).",
                    lambda n, t: _fit(n, t, exposure=False),
                ),
                Mistake(
                    "ddof = 1",
                    "Use the variance with ddof=0 (NumPy's default), as the problem says.",
                    lambda n, t: _fit(n, t, ddof=1),
                ),
            ],
        ),
        FunctionCheck(
            "poisson_gamma_denoise",
            counts_cases,
            D.poisson_gamma_denoise,
            allclose(1e-9, 1e-12),
            mistakes=[
                Mistake(
                    "the raw counts",
                    "You returned n/t, the maximum-likelihood rate: the posterior mean shrinks "
                    "it towards the prior's mean.",
                    lambda n, t: np.asarray(n) / t,
                ),
                Mistake(
                    "the prior's mean everywhere",
                    "You returned the prior's mean α/β at every pixel: the posterior mean "
                    "(α + n)/(β + t) keeps each pixel's own count.",
                    lambda n, t: np.full(np.shape(n), np.mean(n) / t),
                ),
            ],
        ),
    ],
)

# -- G: the two denoisers compared -----------------------------------------------------------------


def scene_cases(rng: np.random.Generator) -> list[Case]:
    cases: list[Case] = []
    while len(cases) < 3:
        size = int(rng.integers(16, 33))
        psd = D.power_law_psd(
            (size, size), amplitude=float(rng.uniform(20, 80)), exponent=3.0, k0=0.05
        )
        rates = np.exp(D.gaussian_field(psd, int(rng.integers(0, 2**31))) * 0.5)
        t = float(rng.uniform(0.5, 4.0))
        counts = rng.poisson(t * rates)
        if not counts.var() > 1.1 * counts.mean():
            continue  # the Poisson–Gamma estimate needs overdispersed counts (Part F)
        rate_psd = np.abs(_ortho(rates - rates.mean())) ** 2
        cases.append(Case((rates, counts, t, rate_psd)))
    return cases


def _errors(rates, counts, t, psd, *, noise=None, centre=True, order=(0, 1, 2)):
    raw = np.asarray(counts, float) / t
    m = raw.mean()
    noise_var = m / t if noise is None else noise(m, t)
    if centre:
        wiener = m + D.wiener_filter(raw - m, psd, noise_var)
    else:
        wiener = D.wiener_filter(raw, psd, noise_var)
    pg = D.poisson_gamma_denoise(counts, t)
    errors = [np.mean((e - rates) ** 2) for e in (raw, wiener, pg)]
    return np.array([errors[i] for i in order])


PART_G = Part(
    "test_compare",
    "Part G — two denoisers on one image",
    [
        FunctionCheck(
            "denoiser_errors",
            scene_cases,
            lambda rates, counts, t, psd: _errors(rates, counts, t, psd),
            allclose(1e-7, 1e-12),
            weight=2.0,
            mistakes=[
                Mistake(
                    "Wiener noise variance m, not m/t",
                    "The noise of n/t has variance λ/t ≈ m/t, not m.",
                    lambda r, c, t, p: _errors(r, c, t, p, noise=lambda m, t: m),
                ),
                Mistake(
                    "Wiener on the uncentred image",
                    "Filter the fluctuation n/t − m and add m back: the spectrum is that of the "
                    "fluctuation, and the filter would shrink the mean towards 0.",
                    lambda r, c, t, p: _errors(r, c, t, p, centre=False),
                ),
                Mistake(
                    "errors in another order",
                    "Return [mse_raw, mse_wiener, mse_poisson_gamma], in that order.",
                    lambda r, c, t, p: _errors(r, c, t, p, order=(0, 2, 1)),
                ),
            ],
        ),
        ValueCheck("BEST_DENOISER", "wiener", choice()),
        ValueCheck("WHY", "it uses the correlations between neighbouring pixels", choice()),
    ],
)

PARTS = [PART_A, PART_B, PART_C, PART_D, PART_E, PART_F, PART_G]
