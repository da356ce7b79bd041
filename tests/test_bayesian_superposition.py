"""Tests of ``reference_impl.bayesian_superposition`` (Sanz Moreta et al. 2019, THESEUS-PP).

Oracles: sampling statistics against the Haar measure (Kolmogorov–Smirnov tests of the rotation
angle against scipy's own Haar sampler and against ``(θ − sin θ)/π``, the second moment
``E[q qᵀ] = I/4``, the invariance of the distribution under a fixed rotation), SymPy for the
volume element of eq. 8, scipy for the rotation of the paper's initialisation, scipy.stats for
every density of the log joint, ``torch.autograd.gradcheck`` for its gradient, and the true
rigid motion of synthetic data for the MAP fit — which least squares misses.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from rotation_strategies import haar_quats, matrices, seeds
from scipy import stats
from scipy.spatial.transform import Rotation

from reference_impl.bayesian_superposition import (
    HALFNORMAL_MEDIAN,
    INIT_U,
    M_PRIOR_SCALE,
    flexible_pair,
    haar_angle_cdf,
    haar_angle_density,
    quat_from_uniform,
    quat_to_matrix_torch,
    studentt_log_density,
    superpose_map,
    theseus_log_joint,
    theseus_map,
    uniform_prior_quats,
)
from reference_impl.superposition import kabsch

F64 = torch.float64


def angles_of(q: np.ndarray) -> np.ndarray:
    return Rotation.from_quat(q, scalar_first=True).magnitude()


def angle_between(R1: np.ndarray, R2: np.ndarray) -> float:
    return float(Rotation.from_matrix(R1.T @ R2).magnitude())


# --- the uniform prior (eq. 7–9) ----------------------------------------------------------------


@given(u=st.lists(st.floats(0, 1), min_size=3, max_size=3))
def test_quat_from_uniform_is_unit_and_shoemakes_formula(u) -> None:
    q = quat_from_uniform(u)
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-15)
    u1, u2, u3 = u
    # Shoemake's (x, y, z, w) = (√(1−u1) sin 2πu2, √(1−u1) cos 2πu2, √u1 sin 2πu3, √u1 cos 2πu3)
    xyzw = [
        np.sqrt(1 - u1) * np.sin(2 * np.pi * u2),
        np.sqrt(1 - u1) * np.cos(2 * np.pi * u2),
        np.sqrt(u1) * np.sin(2 * np.pi * u3),
        np.sqrt(u1) * np.cos(2 * np.pi * u3),
    ]
    np.testing.assert_allclose(q, [xyzw[3], *xyzw[:3]], atol=1e-15)


def test_the_prior_is_haar_uniform() -> None:
    """Sampling statistics of eq. 7–9 (200 000 draws, fixed seed): the angle's distribution is
    scipy's Haar sampler's (two-sample KS) and (θ − sin θ)/π (one-sample KS); E[q qᵀ] = I/4;
    E[R] = 0; and rotating every sample by a fixed G leaves the angle distribution unchanged
    (left invariance, the definition of the Haar measure)."""
    n = 200_000
    q = uniform_prior_quats(n, np.random.default_rng(20190311))
    theta = angles_of(q)
    scipy_theta = Rotation.random(n, random_state=1).magnitude()
    assert stats.ks_2samp(theta, scipy_theta).pvalue > 1e-3
    assert stats.kstest(theta, haar_angle_cdf).pvalue > 1e-3
    second = q.T @ q / n
    assert np.abs(second - np.eye(4) / 4).max() < 5 * np.sqrt(1 / 8 / n) * 2
    R = matrices(q)
    assert np.abs(R.mean(axis=0)).max() < 6 / np.sqrt(3 * n)
    G = Rotation.from_rotvec([0.3, -1.1, 0.7])
    moved = (G * Rotation.from_quat(q, scalar_first=True)).magnitude()
    assert stats.kstest(moved, haar_angle_cdf).pvalue > 1e-3


def test_a_non_uniform_sampler_fails_the_same_statistics() -> None:
    """The statistics can fail: uniform angles about uniform axes, and normalised cubes, are
    rejected."""
    rng = np.random.default_rng(7)
    n = 200_000
    axis = haar_quats(rng, n)[:, 1:]
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    theta = rng.uniform(0, np.pi, n)
    assert stats.kstest(theta, haar_angle_cdf).pvalue < 1e-10
    cube = rng.uniform(-1, 1, (n, 4))
    cube /= np.linalg.norm(cube, axis=-1, keepdims=True)
    assert stats.kstest(angles_of(cube), haar_angle_cdf).pvalue < 1e-10


def test_haar_angle_cdf_and_density() -> None:
    t = np.linspace(0, np.pi, 101)
    assert haar_angle_cdf(0.0) == 0.0 and haar_angle_cdf(np.pi) == pytest.approx(1.0)
    np.testing.assert_allclose(np.gradient(haar_angle_cdf(t), t), haar_angle_density(t), atol=1e-3)
    # the mean angle of Haar rotations is π/2 + 2/π
    mean = np.trapezoid(t * haar_angle_density(t), t)
    assert mean == pytest.approx(np.pi / 2 + 2 / np.pi, abs=1e-3)


def test_volume_element_is_constant_2pi2() -> None:
    """Symbolically (SymPy): √det(JᵀJ) of u ↦ q(u) is 2π², the area of S³; numerically (finite
    differences) at random points."""
    u1, u2, u3 = sympy.symbols("u1 u2 u3", positive=True)
    r1, r2 = sympy.sqrt(1 - u1), sympy.sqrt(u1)
    q = sympy.Matrix(
        [
            r2 * sympy.cos(2 * sympy.pi * u3),
            r1 * sympy.sin(2 * sympy.pi * u2),
            r1 * sympy.cos(2 * sympy.pi * u2),
            r2 * sympy.sin(2 * sympy.pi * u3),
        ]
    )
    J = q.jacobian([u1, u2, u3])
    gram = sympy.simplify(J.T * J)
    assert sympy.simplify(sympy.sqrt(gram.det()) - 2 * sympy.pi**2) == 0
    rng = np.random.default_rng(0)
    h = 1e-6
    for u in rng.uniform(0.05, 0.95, (5, 3)):
        Jn = np.stack(
            [
                (quat_from_uniform(u + h * e) - quat_from_uniform(u - h * e)) / (2 * h)
                for e in np.eye(3)
            ],
            axis=-1,
        )
        assert np.sqrt(np.linalg.det(Jn.T @ Jn)) == pytest.approx(2 * np.pi**2, rel=1e-6)


def test_the_papers_initialisation() -> None:
    """u₀ = (0.9, 0.1, 0.9) is a rotation by ≈ 79.7° (scipy), and the identity sits on the cube's
    face u₁ = 1 (with u₃ ∈ {0, ½, 1})."""
    theta = angles_of(quat_from_uniform(INIT_U))
    assert theta == pytest.approx(1.3917255, abs=1e-6)
    for u in ([1.0, 0.3, 0.0], [1.0, 0.7, 0.5], [1.0, 0.0, 1.0]):
        assert angles_of(quat_from_uniform(u)) == pytest.approx(0.0, abs=1e-7)
    inside = np.random.default_rng(1).uniform(0.001, 0.999, (10_000, 3))
    w = np.abs(quat_from_uniform(inside)[:, 0])
    assert np.all(w**2 <= inside[:, 0] + 1e-15)  # |w| ≤ √u₁ < 1 inside the open cube


# --- the log joint (eq. 11, 13) -----------------------------------------------------------------


@given(seed=seeds(), nu=st.sampled_from([1.0, 2.5, 30.0]))
def test_studentt_log_density_matches_scipy_and_torch(seed, nu) -> None:
    rng = np.random.default_rng(seed)
    x, loc = rng.normal(size=(2, 50)) * 5
    scale = rng.uniform(0.05, 3, 50)
    ours = studentt_log_density(torch.tensor(x), torch.tensor(loc), torch.tensor(scale), nu)
    np.testing.assert_allclose(ours.numpy(), stats.t.logpdf(x, nu, loc, scale), rtol=1e-12)
    dist = torch.distributions.StudentT(nu, torch.tensor(loc), torch.tensor(scale))
    np.testing.assert_allclose(ours.numpy(), dist.log_prob(torch.tensor(x)).numpy(), rtol=1e-12)


def model_inputs(rng: np.random.Generator, n: int = 12):
    X1, X2, M = rng.normal(size=(3, n, 3)) * 5
    scales = rng.uniform(0.1, 2.0, n)
    R = matrices(haar_quats(rng, 1))[0]
    t = rng.normal(size=3)
    return X1, X2, M, scales, R, t


@given(seed=seeds(), nu=st.sampled_from([1.0, 3.0, 7.5]))
def test_log_joint_matches_scipy_densities(seed, nu) -> None:
    X1, X2, M, scales, R, t = model_inputs(np.random.default_rng(seed))
    expected = (
        stats.t.logpdf(X1, nu, M, scales[:, None]).sum()
        + stats.t.logpdf(X2, nu, M @ R.T + t, scales[:, None]).sum()
        + stats.cauchy.logpdf(M, 0, M_PRIOR_SCALE).sum()
        + stats.halfnorm.logpdf(scales).sum()
        + stats.norm.logpdf(t).sum()
    )
    got = theseus_log_joint(*(torch.tensor(a) for a in (X1, X2, M, scales, R, t)), nu=nu)
    assert got.dtype == F64 and got.shape == ()
    assert float(got) == pytest.approx(expected, rel=1e-12)


def test_log_joint_gradient() -> None:
    X1, X2, M, scales, _R, t = (torch.tensor(a) for a in model_inputs(np.random.default_rng(3), 5))
    q = torch.tensor(haar_quats(np.random.default_rng(4), 1)[0], requires_grad=True)
    M.requires_grad_(True)
    log_s = scales.log().requires_grad_(True)
    t.requires_grad_(True)

    def f(M, log_s, q, t):
        return theseus_log_joint(X1, X2, M, log_s.exp(), quat_to_matrix_torch(q), t, 1.5)

    assert torch.autograd.gradcheck(f, (M, log_s, q, t))


def test_quat_to_matrix_torch_normalises() -> None:
    q = haar_quats(np.random.default_rng(5), 8)
    got = quat_to_matrix_torch(torch.tensor(3.7 * q)).numpy()
    np.testing.assert_allclose(got, matrices(q), atol=1e-14)


# --- MAP ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("seed", range(6))
def test_map_recovers_the_rigid_motion_where_least_squares_does_not(seed) -> None:
    X1, X2, R_true, t_true = flexible_pair(np.random.default_rng(seed))
    R, t = superpose_map(X1, X2)
    assert np.linalg.det(R) == pytest.approx(1.0, abs=1e-12)
    assert np.degrees(angle_between(R, R_true)) < 2.0
    assert np.linalg.norm(t - t_true) < 0.3
    Rk, _tk = kabsch(X1, X2)
    assert np.degrees(angle_between(Rk, R_true)) > 5.0


def test_map_starts_at_the_papers_initialisation_and_climbs() -> None:
    """Zero steps leave the initialisation (R(q(u₀)), t = 0, M = average, s = 0.6745); the fit
    raises the log joint above its value there."""
    X1, X2, _, _ = flexible_pair(np.random.default_rng(11))
    A, B = X1 - X1.mean(0), X2 - X2.mean(0)
    Y = B @ kabsch(A, B)[0]
    start = theseus_map(A, Y, steps=0)
    np.testing.assert_allclose(start["R"], matrices(quat_from_uniform(INIT_U)), atol=1e-15)
    np.testing.assert_allclose(start["t"], 0.0)
    np.testing.assert_allclose(start["M"], (A + Y) / 2)
    np.testing.assert_allclose(start["scales"], HALFNORMAL_MEDIAN)
    fitted = theseus_map(A, Y)
    assert fitted["log_joint"] > start["log_joint"] + 100
    assert np.degrees(angle_between(fitted["R"], np.eye(3))) < 30


@pytest.mark.parametrize("seed", range(4))
def test_no_flexible_region_is_a_rigid_pair(seed) -> None:
    """``flexible=0`` moves no atom (and no NaN pivot, no warning): X2 = R X1 + t up to the noise."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X1, X2, R, t = flexible_pair(np.random.default_rng(seed), flexible=0.0, sigma=0.0)
    np.testing.assert_allclose(X2, X1 @ R.T + t, atol=1e-12)
    X1, X2, R, t = flexible_pair(np.random.default_rng(seed), flexible=0.25, sigma=0.0)
    moved = np.linalg.norm(X2 - (X1 @ R.T + t), axis=1) > 1e-9
    assert moved.sum() == 12


@settings(max_examples=8)
@given(seed=st.integers(0, 2**16), g_seed=seeds())
def test_map_pipeline_is_equivariant(seed, g_seed) -> None:
    """Moving X2 rigidly by (G, s) moves the answer: R → G R, t → G t + s (the pre-superposition
    absorbs G, so the MAP fit itself is unchanged)."""
    X1, X2, _, _ = flexible_pair(np.random.default_rng(seed), n=20)
    rng = np.random.default_rng(g_seed)
    G = matrices(haar_quats(rng, 1))[0]
    s = rng.normal(size=3) * 10
    R, t = superpose_map(X1, X2, steps=40)
    R2, t2 = superpose_map(X1, X2 @ G.T + s, steps=40)
    np.testing.assert_allclose(R2, G @ R, atol=1e-6)
    np.testing.assert_allclose(t2, G @ t + s, atol=1e-5)
