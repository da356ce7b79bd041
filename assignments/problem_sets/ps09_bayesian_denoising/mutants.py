"""Problem set 9's mutation bank: wrong implementations with one known mistake each.

Every mutant is the correct solution with one function (or answer) redefined at the end of its
cell. The parts build on one another only where the problem set says so: ``poisson_gamma_denoise``
(F) on ``gamma_posterior_mean`` (C) and ``fit_gamma_prior`` (F); ``denoiser_errors`` (G) on
``wiener_filter`` (A) and ``poisson_gamma_denoise`` (F). A mistake in an early function also
costs the parts built on it.
"""

from __future__ import annotations

from autograder.authoring import Mutant

A, B, C, D = "test_wiener", "test_fields", "test_gamma_posterior", "test_question1"
E, F, G = "test_marginal", "test_empirical_bayes", "test_compare"

MUTANTS = [
    Mutant(
        "wiener_noise_filter",
        "wiener",
        "def wiener_filter(image, psd, noise_var):\n"
        "    s = np.asarray(psd)\n"
        "    y = np.fft.fft2(np.asarray(image, dtype=float), norm='ortho')\n"
        "    return np.fft.ifft2(noise_var / (s + noise_var) * y, norm='ortho').real",
        {A, G},
        {A: "the noise's filter"},
    ),
    Mutant(
        "wiener_std_for_variance",
        "wiener",
        "_ok = wiener_filter\n"
        "def wiener_filter(image, psd, noise_var):\n"
        "    return _ok(image, psd, np.sqrt(noise_var))",
        {A, G},
        {A: "standard deviation for variance"},
    ),
    Mutant(
        "wiener_noise_times_pixels",
        "wiener",
        "_ok = wiener_filter\n"
        "def wiener_filter(image, psd, noise_var):\n"
        "    return _ok(image, psd, noise_var * np.asarray(image).size)",
        {A, G},
        {A: "noise power scaled by the number of pixels"},
    ),
    Mutant(
        "wiener_shifted_spectrum",
        "wiener",
        "_ok = wiener_filter\n"
        "def wiener_filter(image, psd, noise_var):\n"
        "    return _ok(image, np.fft.fftshift(psd), noise_var)",
        {A, G},
        {A: "spectrum shifted"},
    ),
    Mutant(
        "posterior_variance_summed",
        "wiener",
        "def wiener_posterior_variance(psd, noise_var):\n"
        "    s = np.asarray(psd, dtype=float)\n"
        "    return float(np.sum(s * noise_var / (s + noise_var)))",
        {A},
        {A: "sum for mean"},
    ),
    Mutant(
        "fields_amplitude_s",
        "fields",
        "def gaussian_fields(psd, n, seed):\n"
        "    s = np.asarray(psd, dtype=float)\n"
        "    w = np.random.default_rng(seed).standard_normal((n, *s.shape))\n"
        "    return np.fft.ifft2(s * np.fft.fft2(w, norm='ortho'), norm='ortho').real",
        {B},
        {B: "S instead of √S"},
    ),
    Mutant(
        "fields_complex_noise",
        "fields",
        "def gaussian_fields(psd, n, seed):\n"
        "    s = np.asarray(psd, dtype=float)\n"
        "    rng = np.random.default_rng(seed)\n"
        "    c = (rng.standard_normal((n, *s.shape)) + 1j * rng.standard_normal((n, *s.shape))) / np.sqrt(2)\n"
        "    return np.fft.ifft2(np.sqrt(s) * c, norm='ortho').real",
        {B},
        {B: "half the power"},
    ),
    Mutant(
        "posterior_swapped",
        "gamma",
        "def gamma_posterior(counts, shape, rate, exposure=1.0):\n"
        "    n = np.asarray(counts, dtype=float)\n"
        "    a = np.broadcast_to(shape + np.asarray(exposure, dtype=float), n.shape).astype(float)\n"
        "    b = np.broadcast_to(rate + n, n.shape).astype(float)\n"
        "    return a, b",
        {C, F, G},
        {C: "counts and exposure swapped"},
    ),
    Mutant(
        "posterior_without_exposure",
        "gamma",
        "_ok = gamma_posterior\n"
        "def gamma_posterior(counts, shape, rate, exposure=1.0):\n"
        "    return _ok(counts, shape, rate, 1.0)",
        {C, F, G},
        {C: "exposure ignored"},
    ),
    Mutant(
        "mean_is_the_mode",
        "gamma",
        "def gamma_posterior_mean(counts, shape, rate, exposure=1.0):\n"
        "    a, b = gamma_posterior(counts, shape, rate, exposure)\n"
        "    return (a - 1) / b",
        {C, F, G},
        {C: "the mode for the mean"},
    ),
    Mutant(
        "variance_is_the_mean",
        "gamma",
        "def gamma_posterior_variance(counts, shape, rate, exposure=1.0):\n"
        "    a, b = gamma_posterior(counts, shape, rate, exposure)\n"
        "    return a / b",
        {C},
        {C: "the mean for the variance"},
    ),
    Mutant(
        "gamma_is_the_noise",
        "question1",
        "GAMMA_PRIOR_IS = 'the noise added to the image'",
        {D},
    ),
    Mutant(
        "marginal_without_prior_spread",
        "marginal",
        "def marginal_moments():\n    return sp.Matrix([t * alpha / beta, t * alpha / beta])",
        {E},
        {E: "variance without the prior's spread"},
    ),
    Mutant(
        "fit_without_poisson_part",
        "empirical_bayes",
        "def fit_gamma_prior(counts, exposure=1.0):\n"
        "    n = np.asarray(counts, dtype=float)\n"
        "    m, v = n.mean(), n.var()\n"
        "    return float(m * m / v), float(m * exposure / v)",
        {F, G},
        {F: "the Poisson part not removed"},
    ),
    Mutant(
        "fit_with_ddof_1",
        "empirical_bayes",
        "def fit_gamma_prior(counts, exposure=1.0):\n"
        "    n = np.asarray(counts, dtype=float)\n"
        "    m, v = n.mean(), n.var(ddof=1)\n"
        "    if not v > m:\n"
        "        raise ValueError('not overdispersed')\n"
        "    return float(m * m / (v - m)), float(m * exposure / (v - m))",
        {F, G},
        {F: "ddof = 1"},
    ),
    Mutant(
        "denoise_returns_raw_counts",
        "empirical_bayes",
        "def poisson_gamma_denoise(counts, exposure=1.0):\n"
        "    return np.asarray(counts, dtype=float) / exposure",
        {F, G},
        {F: "the raw counts"},
    ),
    Mutant(
        "errors_wiener_noise_not_over_t",
        "compare",
        "def denoiser_errors(rates, counts, exposure, psd):\n"
        "    rates = np.asarray(rates, dtype=float)\n"
        "    raw = np.asarray(counts, dtype=float) / exposure\n"
        "    m = raw.mean()\n"
        "    wiener = m + wiener_filter(raw - m, psd, m)\n"
        "    pg = poisson_gamma_denoise(counts, exposure)\n"
        "    return np.array([np.mean((e - rates) ** 2) for e in (raw, wiener, pg)])",
        {G},
        {G: "Wiener noise variance m, not m/t"},
    ),
    Mutant(
        "errors_in_another_order",
        "compare",
        "_ok = denoiser_errors\n"
        "def denoiser_errors(rates, counts, exposure, psd):\n"
        "    return _ok(rates, counts, exposure, psd)[[0, 2, 1]]",
        {G},
        {G: "errors in another order"},
    ),
    Mutant("best_is_poisson_gamma", "best", "BEST_DENOISER = 'poisson-gamma'", {G}),
]
