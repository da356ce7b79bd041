# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "md_00", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Problem set 9 — Bayesian denoising by conjugacy
#
# *Study group meeting of Friday 28 January 2022: [Weakly supervised learning for joint image
# denoising and protein localization (Huang et al., 2021)]({book_url}/book/meetings/2022-01-28-huang.html);
# this problem set's [page in the book]({book_url}/book/problem-sets/ps09_bayesian_denoising.html).*
#
# Huang et al. denoise micrographs with a model whose analysis rests on the *conjugacy* of a
# Gaussian prior and Gaussian noise: the posterior is Gaussian again, in closed form. The
# meeting's question was
#
# > This paper exploits analytical likelihood–prior–posterior conjugacy between Gaussian
# > distributions. How could we extend this to Poisson noise with Poisson–Gamma conjugacy? What
# > would be Poisson, and what would be Gamma?
#
# In this problem set you build both: the posterior mean of a Gaussian image under Gaussian
# noise (the **Wiener filter**, in Fourier space), and the posterior of a **Poisson** count under
# a **Gamma** prior on its rate; you estimate that prior from a low-dose image itself and compare
# the two denoisers on the same data.
#
# **Conventions** (the [book's conventions page]({book_url}/book/conventions.html)): an image is
# a float array indexed `[y, x]`. The Fourier transform is NumPy's **orthonormal** 2-D DFT,
# `np.fft.fft2(x, norm="ortho")` and `np.fft.ifft2(X, norm="ortho")`: with it, white noise of
# variance $\sigma^2$ per pixel has $\mathbb E|N(k)|^2 = \sigma^2$ at every frequency $k$. A
# **power spectrum** $S$ is an array of the image's shape on `fft2`'s grid (zero frequency at
# `[0, 0]`, *not* shifted to the centre): a stationary image $x$ with spectrum $S$ has
# $\mathbb E|X(k)|^2 = S(k)$ where $X$ = `fft2(x, norm="ortho")`. A Gamma distribution
# $\mathrm{Gamma}(\alpha, \beta)$ has **shape** $\alpha$ and **rate** $\beta$: density
# $\beta^\alpha \lambda^{\alpha-1} e^{-\beta\lambda}/\Gamma(\alpha)$, mean $\alpha/\beta$. Where
# a function returns an array, return float64; where it returns a number, a Python float. The
# spectra you are given are those of real images: symmetric, $S(k) = S(-k)$, and positive.
#
# **How this is graded.** Each part ends with a cell of *visible tests*: run them as you work, or
# press **Validate** in the toolbar (see *Before you submit*). When you submit, the grader runs
# your notebook in a sandbox and then calls your functions on random inputs chosen for you (odd
# and even image sizes, other spectra, noise levels and doses) and compares the answers with a
# reference outside your kernel; for a random sampler it measures the statistics of your samples
# itself. Points per part are the fraction of those cases you get right, and the feedback names
# common mistakes when it recognises them. Keep the function names and signatures; add cells of
# your own if you like. NumPy and SymPy are available (SciPy is not).


# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import sympy as sp


# %% nbgrader={"grade": false, "grade_id": "tools", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Given: a family of power spectra, flat below k0 cycles/pixel and falling as a power law above.
def frequency_radius(shape):
    """|k| in cycles per pixel on fft2's grid for an image of shape (H, W)."""
    h, w = shape
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    return np.sqrt(fy**2 + fx**2)


def power_law_psd(shape, amplitude=1.0, exponent=2.0, k0=0.05):
    """S(k) = amplitude / (1 + (|k|/k0)**exponent), shape (H, W) on fft2's grid."""
    return amplitude / (1.0 + (frequency_radius(shape) / k0) ** exponent)


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_01", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A — The posterior mean of a Gaussian image: the Wiener filter ({points} points)
#
# Let $x$ be a stationary Gaussian image with power spectrum $S$, observed as $y = x + n$ with
# white Gaussian noise $n$ of variance $\sigma^2$ per pixel. Under the orthonormal DFT the
# coefficients are independent (up to the Hermitian symmetry of real images), and each one's
# posterior is Gaussian:
#
# $$ \mathbb E[X(k) \mid y] = \frac{S(k)}{S(k) + \sigma^2}\, Y(k), \qquad
#    \operatorname{Var}[X(k) \mid y] = \frac{S(k)\,\sigma^2}{S(k) + \sigma^2}. $$
#
# 1. `wiener_filter(image, psd, noise_var)`: the posterior mean image $\mathbb E[x \mid y]$, for
#    an `image` and a `psd` of shape `(H, W)` and a positive float `noise_var`. Return the real
#    part of the inverse transform: for a symmetric spectrum the result is real up to rounding.
# 2. `wiener_posterior_variance(psd, noise_var)`: the posterior variance of a pixel, a float (the
#    same for every pixel: the posterior is stationary). The posterior covariance is diagonal in
#    the orthonormal DFT's basis, so each pixel's variance is the *mean* over the grid of the
#    coefficients' posterior variances (its trace, by Parseval, divided by the number of pixels).


# %% nbgrader={"grade": false, "grade_id": "wiener", "locked": false, "schema_version": 3, "solution": true, "task": false}
def wiener_filter(image, psd, noise_var):
    """Posterior mean (H, W) of a Gaussian image with spectrum psd (H, W) in white noise."""
    ### BEGIN SOLUTION
    y = np.asarray(image, dtype=np.float64)
    s = np.asarray(psd, dtype=np.float64)
    gain = s / (s + noise_var)
    return np.fft.ifft2(gain * np.fft.fft2(y, norm="ortho"), norm="ortho").real
    ### END SOLUTION


def wiener_posterior_variance(psd, noise_var):
    """The posterior variance of each pixel (a float)."""
    ### BEGIN SOLUTION
    s = np.asarray(psd, dtype=np.float64)
    return float(np.mean(s * noise_var / (s + noise_var)))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_wiener", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
_psd = power_law_psd((8, 6), amplitude=2.0, exponent=2.0, k0=0.2)
_y = np.random.default_rng(0).standard_normal((8, 6))
_out = wiener_filter(_y, _psd, 0.5)
assert _out.shape == (8, 6) and np.isrealobj(_out)
assert np.allclose(wiener_filter(_y, _psd, 1e-12), _y, atol=1e-8)  # no noise: the data
assert np.abs(wiener_filter(_y, _psd, 1e12)).max() < 1e-9  # all noise: the prior mean, 0
assert np.isclose(wiener_posterior_variance(np.full((4, 4), 3.0), 1.0), 0.75)
print("Part A: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_02", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B — Drawing images from the prior ({points} points)
#
# To test a denoiser you need images whose spectrum you know. Filter white noise of unit
# variance by $\sqrt{S}$ in Fourier space: if $W$ = `fft2(w, norm="ortho")` for white $w$, then
# $x$ = `ifft2(sqrt(S) * W, norm="ortho")` is real (for a symmetric $S$, $S(k) = S(-k)$) and has
# spectrum $S$.
#
# `gaussian_fields(psd, n, seed)`: `n` independent such images, shape `(n, H, W)`, real float64,
# drawn with `np.random.default_rng(seed)` (how you draw the white noise from it is up to you; the
# same seed should give the same images). The grader does not compare your images with its own:
# it measures their average periodogram $\frac1n\sum_i |X_i(k)|^2$ against $S$, checks that they are
# real and that different seeds give different images.


# %% nbgrader={"grade": false, "grade_id": "fields", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gaussian_fields(psd, n, seed):
    """n real Gaussian images (n, H, W) with power spectrum psd (H, W)."""
    ### BEGIN SOLUTION
    s = np.asarray(psd, dtype=np.float64)
    white = np.random.default_rng(seed).standard_normal((n, *s.shape))
    return np.fft.ifft2(np.sqrt(s) * np.fft.fft2(white, norm="ortho"), norm="ortho").real
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_fields", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_psd = power_law_psd((16, 16), amplitude=4.0, exponent=3.0, k0=0.1)
_f = gaussian_fields(_psd, 200, seed=1)
assert _f.shape == (200, 16, 16) and np.isrealobj(_f)
_ratio = np.mean(np.abs(np.fft.fft2(_f, norm="ortho")) ** 2, axis=0) / _psd
assert np.all(np.abs(_ratio - 1) < 0.35), _ratio.round(2)
assert not np.allclose(gaussian_fields(_psd, 1, seed=1), gaussian_fields(_psd, 1, seed=2))
print("Part B: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_03", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C — Poisson counts, a Gamma prior: the posterior ({points} points)
#
# At a low electron dose a pixel records a **count** $n$. Given the pixel's rate $\lambda$ (counts
# per unit exposure) and the exposure $t$, $n \sim \mathrm{Poisson}(t\lambda)$. Put the prior
# $\lambda \sim \mathrm{Gamma}(\alpha, \beta)$ on the rate. Multiplying prior and likelihood,
#
# $$ p(\lambda \mid n) \;\propto\; \lambda^{\alpha-1} e^{-\beta\lambda} \cdot (t\lambda)^n e^{-t\lambda}
#    \;\propto\; \lambda^{\alpha+n-1} e^{-(\beta+t)\lambda}, $$
#
# a Gamma density again: the Gamma prior is *conjugate* to the Poisson likelihood.
#
# Two words are used twice here: `shape` and `rate` are the Gamma prior's parameters α and β (not
# an array's shape, not the pixel's rate λ); "the rate" of a pixel is λ.
#
# 1. `gamma_posterior(counts, shape, rate, exposure)`: the posterior's shape and rate, a tuple of
#    two float64 arrays, **both of the counts' shape** (the rate β + t too, although it does not
#    depend on the counts). `shape`, `rate` and `exposure` may be scalars or arrays that broadcast
#    against `counts` without adding dimensions; `counts` may be a scalar (then 0-d arrays).
# 2. `gamma_posterior_mean(counts, shape, rate, exposure)` and
#    `gamma_posterior_variance(counts, shape, rate, exposure)`: the posterior mean and variance of
#    the rate, arrays of the counts' shape.


# %% nbgrader={"grade": false, "grade_id": "gamma", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gamma_posterior(counts, shape, rate, exposure=1.0):
    """Posterior (shape, rate) of a Poisson rate under a Gamma(shape, rate) prior."""
    ### BEGIN SOLUTION
    n = np.asarray(counts, dtype=np.float64)
    a = np.broadcast_to(shape + n, n.shape).astype(np.float64)
    b = np.broadcast_to(rate + np.asarray(exposure, dtype=np.float64), n.shape).astype(np.float64)
    return a, b
    ### END SOLUTION


def gamma_posterior_mean(counts, shape, rate, exposure=1.0):
    """Posterior mean of the rate."""
    ### BEGIN SOLUTION
    a, b = gamma_posterior(counts, shape, rate, exposure)
    return a / b
    ### END SOLUTION


def gamma_posterior_variance(counts, shape, rate, exposure=1.0):
    """Posterior variance of the rate."""
    ### BEGIN SOLUTION
    a, b = gamma_posterior(counts, shape, rate, exposure)
    return a / b**2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gamma_posterior", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
_a, _b = gamma_posterior(np.array([0, 3]), 2.0, 1.0, 0.5)
assert np.allclose(_a, [2.0, 5.0]) and np.allclose(_b, [1.5, 1.5])
assert _a.shape == _b.shape == (2,) and _b.dtype == np.float64
_a, _b = gamma_posterior(np.ones((2, 3)), np.array([1.0, 2.0, 3.0]), 1.0, np.full((2, 3), 2.0))
assert _a.shape == _b.shape == (2, 3) and np.allclose(_a[0], [2.0, 3.0, 4.0])
assert np.allclose(gamma_posterior_mean(3, 2.0, 1.0, 0.5), 5 / 1.5)
assert np.allclose(gamma_posterior_variance(3, 2.0, 1.0, 0.5), 5 / 1.5**2)
print("Part C: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_04", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part D — What would be Poisson, and what would be Gamma? ({points} points)
#
# The meeting's question (quoted at the top), answered in the model of Part C. Set each variable
# to one of the strings below (exactly; the same string may answer more than one):
#
# * `"the counts given the rate"`
# * `"the prior on the rate"`
# * `"the posterior of the rate"`
# * `"the noise added to the image"`
#
# `POISSON_IS` is what is Poisson-distributed; `GAMMA_PRIOR_IS` is what the Gamma prior describes;
# `GAMMA_AFTER_IS` is what is *also* Gamma-distributed because of conjugacy.


# %% nbgrader={"grade": false, "grade_id": "question1", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
POISSON_IS = "the counts given the rate"
GAMMA_PRIOR_IS = "the prior on the rate"
GAMMA_AFTER_IS = "the posterior of the rate"
### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_question1", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_choices = {
    "the counts given the rate",
    "the prior on the rate",
    "the posterior of the rate",
    "the noise added to the image",
}
assert {POISSON_IS, GAMMA_PRIOR_IS, GAMMA_AFTER_IS} <= _choices
print("Part D: your answers are among the choices")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_05", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part E — The marginal of the counts, with SymPy ({points} points)
#
# Integrating the rate out, the count of a pixel drawn from the prior is negative-binomial. Its
# mean and variance follow from the laws of total expectation and total variance:
# $\mathbb E[n] = \mathbb E[\mathbb E[n\mid\lambda]]$ and
# $\operatorname{Var}[n] = \mathbb E[\operatorname{Var}[n\mid\lambda]] + \operatorname{Var}[\mathbb E[n\mid\lambda]]$,
# with $\mathbb E[n\mid\lambda] = \operatorname{Var}[n\mid\lambda] = t\lambda$ and the Gamma prior's
# $\mathbb E[\lambda] = \alpha/\beta$, $\operatorname{Var}[\lambda] = \alpha/\beta^2$.
#
# `marginal_moments()`: a SymPy `Matrix([mean, variance])` (shape `(2, 1)`) in the symbols `alpha`,
# `beta`, `t` defined below (positive symbols: use these, do not define your own, or SymPy treats
# them as different symbols). The grader compares your expressions exactly at random rational
# points.


# %% nbgrader={"grade": false, "grade_id": "symbols", "locked": true, "schema_version": 3, "solution": false, "task": false}
alpha, beta, t = sp.symbols("alpha beta t", positive=True)


# %% nbgrader={"grade": false, "grade_id": "marginal", "locked": false, "schema_version": 3, "solution": true, "task": false}
def marginal_moments():
    """Matrix([E[n], Var[n]]) of a count under the Gamma(alpha, beta) prior, exposure t."""
    ### BEGIN SOLUTION
    mean = t * alpha / beta
    variance = t * alpha / beta + t**2 * alpha / beta**2
    return sp.Matrix([mean, variance])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_marginal", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_m = marginal_moments()
assert isinstance(_m, sp.MatrixBase) and _m.shape == (2, 1)
assert sp.simplify(_m[0].subs({alpha: 3, beta: 2, t: 1}) - sp.Rational(3, 2)) == 0
assert sp.simplify(_m[1].subs({alpha: 3, beta: 2, t: 1}) - sp.Rational(9, 4)) == 0
print("Part E: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_06", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part F — Empirical Bayes: the prior from the image itself ({points} points)
#
# Over the pixels of one image, the counts' sample mean $m$ and variance $v$ estimate the
# marginal's mean and variance of Part E. Solving $m = t\alpha/\beta$ and
# $v = m + t^2\alpha/\beta^2$ for the prior gives
#
# $$ \beta = \frac{m\,t}{v - m}, \qquad \alpha = \frac{m^2}{v - m}. $$
#
# 1. `fit_gamma_prior(counts, exposure)`: the tuple `(alpha, beta)` of floats, with $m$ =
#    `counts.mean()` and $v$ = `counts.var()` (NumPy's default, `ddof=0`). When $v \le m$ the
#    counts vary no more than Poisson noise alone would and no Gamma prior fits: raise a
#    `ValueError`.
# 2. `poisson_gamma_denoise(counts, exposure)`: each pixel's posterior mean rate under the prior
#    fitted to the same image, shape of `counts` (it raises the same `ValueError` when no prior
#    fits; the grader gives it overdispersed counts). `exposure` is a positive float.


# %% nbgrader={"grade": false, "grade_id": "empirical_bayes", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit_gamma_prior(counts, exposure=1.0):
    """(alpha, beta) of the Gamma prior fitted by the method of moments."""
    ### BEGIN SOLUTION
    n = np.asarray(counts, dtype=np.float64)
    m, v = n.mean(), n.var()
    if not v > m:
        raise ValueError("the counts are not overdispersed: no Gamma prior fits")
    return float(m * m / (v - m)), float(m * exposure / (v - m))
    ### END SOLUTION


def poisson_gamma_denoise(counts, exposure=1.0):
    """Posterior mean rate of each pixel under the fitted prior."""
    ### BEGIN SOLUTION
    a, b = fit_gamma_prior(counts, exposure)
    return gamma_posterior_mean(counts, a, b, exposure)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_empirical_bayes", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
_rng = np.random.default_rng(3)
_counts = _rng.poisson(0.7 * _rng.gamma(3.0, 1 / 2.0, size=200_000))
_a, _b = fit_gamma_prior(_counts, 0.7)
assert abs(_a / 3.0 - 1) < 0.1 and abs(_b / 2.0 - 1) < 0.1, (_a, _b)
try:
    fit_gamma_prior(np.full((4, 4), 2), 1.0)
except ValueError:
    pass
else:
    raise AssertionError("counts without overdispersion must raise ValueError")
assert poisson_gamma_denoise(_counts[:100].reshape(10, 10), 0.7).shape == (10, 10)
# counts 0, 0, 1, 3 at exposure 1: m = 1, v = 1.5, so the prior is Gamma(2, 2)
assert np.allclose(poisson_gamma_denoise(np.array([0, 0, 1, 3]), 1.0), [2 / 3, 2 / 3, 1.0, 5 / 3])
print("Part F: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_07", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part G — Two denoisers on the same low-dose image ({points} points)
#
# A smooth rate image $\lambda$ (the exponential of half a Gaussian field of Part B) recorded at
# exposure $t$ gives counts $n \sim \mathrm{Poisson}(t\lambda)$. Three estimates of $\lambda$:
#
# * **raw**: $n / t$;
# * **Wiener**: the Gaussian approximation of the Poisson noise. With $\bar\lambda$ =
#   `counts.mean() / t` (the mean rate; not Part F's $m$, which is the mean count), the estimate
#   is $\bar\lambda$ + `wiener_filter(counts / t - lam_bar, psd, lam_bar / t)`: the noise of
#   $n/t$ has variance $\lambda/t \approx \bar\lambda/t$, and `psd` is the spectrum of the rate's
#   fluctuation $\lambda - \bar\lambda$;
# * **Poisson–Gamma**: `poisson_gamma_denoise(counts, t)` of Part F.
#
# `denoiser_errors(rates, counts, exposure, psd)`: the mean squared errors against the true
# `rates` — each the mean over the pixels of (estimate − rates)², no clipping of negative
# estimates — a float64 array `[mse_raw, mse_wiener, mse_poisson_gamma]`.
#
# Then run it on the image below (its `SCENE_RATE_PSD` is the periodogram of this image's own
# fluctuation, an oracle a real experiment would have to estimate; its zero frequency is 0) and
# set `BEST_DENOISER` to the string `"raw"`, `"wiener"` or `"poisson-gamma"` (the one with the
# smallest error on it), and `WHY` to the reason, one of
# `"it uses the correlations between neighbouring pixels"`,
# `"it models the Poisson noise exactly"` or `"it makes no assumption"`.


# %% nbgrader={"grade": false, "grade_id": "compare", "locked": false, "schema_version": 3, "solution": true, "task": false}
def denoiser_errors(rates, counts, exposure, psd):
    """[mse_raw, mse_wiener, mse_poisson_gamma] against the true rates."""
    ### BEGIN SOLUTION
    rates = np.asarray(rates, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    raw = counts / exposure
    m = counts.mean() / exposure
    wiener = m + wiener_filter(raw - m, psd, m / exposure)
    pg = poisson_gamma_denoise(counts, exposure)
    return np.array([np.mean((e - rates) ** 2) for e in (raw, wiener, pg)])
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "scenario", "locked": true, "schema_version": 3, "solution": false, "task": false}
# The image of the question: a smooth rate image and one low-dose exposure of it.
SCENE_PSD = power_law_psd((64, 64), amplitude=60.0, exponent=3.0, k0=0.04)
SCENE_RATES = np.exp(gaussian_fields(SCENE_PSD, 1, seed=2022)[0] * 0.5)
SCENE_EXPOSURE = 2.0
SCENE_COUNTS = np.random.default_rng(128).poisson(SCENE_EXPOSURE * SCENE_RATES)
# the spectrum of the rate's fluctuation, measured from the rates themselves (an oracle)
SCENE_RATE_PSD = np.abs(np.fft.fft2(SCENE_RATES - SCENE_RATES.mean(), norm="ortho")) ** 2


# %% nbgrader={"grade": false, "grade_id": "best", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
BEST_DENOISER = "wiener"
WHY = "it uses the correlations between neighbouring pixels"
### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_compare", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
_e = denoiser_errors(SCENE_RATES, SCENE_COUNTS, SCENE_EXPOSURE, SCENE_RATE_PSD)
assert _e.shape == (3,) and np.all(_e > 0)
print("errors [raw, wiener, poisson-gamma]:", _e.round(4))
assert BEST_DENOISER == ["raw", "wiener", "poisson-gamma"][int(np.argmin(_e))]
assert WHY in {
    "it uses the correlations between neighbouring pixels",
    "it models the Poisson noise exactly",
    "it makes no assumption",
}
print("Part G: visible tests passed")


# %% [markdown] nbgrader={"grade": false, "grade_id": "md_08", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Before you submit
#
# Your notebook is `{launch_folder}/ps09_bayesian_denoising/ps09_bayesian_denoising.ipynb` in your
# home: the folder the book's launch link made. Restart the kernel and run all cells (*Kernel →
# Restart Kernel and Run All Cells…*), save, and press **Validate** in the notebook's toolbar: it
# runs your notebook the way the grader does and reports the visible tests. Then open the
# **Assignments** tab (*Nbgrader → Assignment List*): `ps09_bayesian_denoising` is under
# *Downloaded assignments*; press **Submit**. In a terminal the same is `cd ~/{launch_folder}`, then
# `course check ps09_bayesian_denoising/ps09_bayesian_denoising.ipynb` and
# `course submit ps09_bayesian_denoising`.
